namespace Relay.Native.Negentropy;

/// <summary>One decoded range. <see cref="Ids"/> points into the message (count × 32 bytes).</summary>
public readonly ref struct NegRange
{
    public NegRange(NegBound upperBound, NegMode mode, Fingerprint fingerprint, ReadOnlySpan<byte> ids)
    {
        UpperBound = upperBound;
        Mode = mode;
        Fingerprint = fingerprint;
        Ids = ids;
    }

    public NegBound UpperBound { get; }
    public NegMode Mode { get; }
    /// <summary>Set when <see cref="Mode"/> is Fingerprint.</summary>
    public Fingerprint Fingerprint { get; }
    /// <summary>Set when <see cref="Mode"/> is IdList: the ids back to back.</summary>
    public ReadOnlySpan<byte> Ids { get; }
    public int IdCount => Ids.Length / NegentropyProtocol.IdSize;
    public ReadOnlySpan<byte> Id(int index) => Ids.Slice(index * NegentropyProtocol.IdSize, NegentropyProtocol.IdSize);
}

/// <summary>
/// Decodes a Negentropy message in place. Every malformation is reported as a <see cref="NegError"/>;
/// nothing here throws on input. Bounds must not decrease (a conforming peer's never do).
/// </summary>
public ref struct NegMessageReader
{
    private readonly ReadOnlySpan<byte> _message;
    private int _position;
    private ulong _lastTimestamp;
    private NegBound _previous;

    public NegMessageReader(ReadOnlySpan<byte> message)
    {
        _message = message;
        _position = 0;
        _lastTimestamp = 0;
        _previous = default;
    }

    /// <summary>True once every byte has been read (call <see cref="ReadVersion"/> first).</summary>
    public readonly bool End => _position >= _message.Length;

    /// <summary>Reads the version byte; any byte of the family 0x60..0x6F is returned, the caller decides.</summary>
    public NegError ReadVersion(out byte version)
    {
        version = 0;
        if (_message.IsEmpty) return NegError.Empty;
        version = _message[0];
        _position = 1;
        if (version < NegentropyProtocol.FirstVersion || version > NegentropyProtocol.LastVersion) return NegError.InvalidVersion;
        return NegError.None;
    }

    public NegError ReadRange(out NegRange range)
    {
        range = default;
        var error = ReadBound(out NegBound bound);
        if (error != NegError.None) return error;
        if (bound.CompareTo(_previous) < 0) return NegError.BoundsOutOfOrder;
        _previous = bound;

        error = NegVarint.TryRead(_message, ref _position, out ulong mode);
        if (error != NegError.None) return error;
        switch (mode)
        {
            case (ulong)NegMode.Skip:
                range = new NegRange(bound, NegMode.Skip, default, default);
                return NegError.None;
            case (ulong)NegMode.Fingerprint:
                if (_message.Length - _position < NegentropyProtocol.FingerprintSize) return NegError.Truncated;
                var fingerprint = Fingerprint.From(_message.Slice(_position, NegentropyProtocol.FingerprintSize));
                _position += NegentropyProtocol.FingerprintSize;
                range = new NegRange(bound, NegMode.Fingerprint, fingerprint, default);
                return NegError.None;
            case (ulong)NegMode.IdList:
                error = NegVarint.TryRead(_message, ref _position, out ulong count);
                if (error != NegError.None) return error;
                // Checked against what is left before multiplying, so a huge count cannot overflow.
                if (count > (ulong)((_message.Length - _position) / NegentropyProtocol.IdSize)) return NegError.Truncated;
                int length = (int)count * NegentropyProtocol.IdSize;
                range = new NegRange(bound, NegMode.IdList, default, _message.Slice(_position, length));
                _position += length;
                return NegError.None;
            default:
                return NegError.UnknownMode;
        }
    }

    private NegError ReadBound(out NegBound bound)
    {
        bound = default;
        var error = NegVarint.TryRead(_message, ref _position, out ulong encoded);
        if (error != NegError.None) return error;
        ulong timestamp;
        if (encoded == 0) timestamp = ulong.MaxValue;
        else
        {
            timestamp = _lastTimestamp + (encoded - 1);
            // Past infinity stays infinity, as in the reference implementation.
            if (timestamp < _lastTimestamp) timestamp = ulong.MaxValue;
        }
        _lastTimestamp = timestamp;

        error = NegVarint.TryRead(_message, ref _position, out ulong prefixLength);
        if (error != NegError.None) return error;
        if (prefixLength > NegentropyProtocol.IdSize) return NegError.IdPrefixTooLong;
        if ((ulong)(_message.Length - _position) < prefixLength) return NegError.Truncated;
        bound = new NegBound(timestamp, _message.Slice(_position, (int)prefixLength));
        _position += (int)prefixLength;
        return NegError.None;
    }

    /// <summary>Checks a whole message without acting on it: the version byte, then every range.</summary>
    public static NegError Validate(ReadOnlySpan<byte> message)
    {
        var reader = new NegMessageReader(message);
        var error = reader.ReadVersion(out _);
        if (error != NegError.None) return error;
        while (!reader.End)
        {
            error = reader.ReadRange(out _);
            if (error != NegError.None) return error;
        }
        return NegError.None;
    }
}
