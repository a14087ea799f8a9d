namespace Relay.Native.Negentropy;

/// <summary>
/// Builds one Negentropy message in a reusable buffer. Bounds must be written in ascending order
/// (their timestamps are delta-encoded). <see cref="Mark"/> / <see cref="Rollback"/> let the
/// reconciler take back a range that would overflow the frame limit.
/// </summary>
public sealed class NegMessageWriter
{
    private byte[] _buffer;
    private int _length;
    private ulong _lastTimestamp;

    public NegMessageWriter(int initialCapacity = 1024) => _buffer = new byte[Math.Max(initialCapacity, 64)];

    public int Length => _length;
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);

    /// <summary>Starts a new message with the version byte.</summary>
    public void Begin(byte version = NegentropyProtocol.Version)
    {
        _length = 0;
        _lastTimestamp = 0;
        Reserve(1)[0] = version;
        _length = 1;
    }

    public readonly record struct Position(int Length, ulong LastTimestamp);

    public Position Mark() => new(_length, _lastTimestamp);

    public void Rollback(Position mark)
    {
        _length = mark.Length;
        _lastTimestamp = mark.LastTimestamp;
    }

    public void WriteBound(in NegBound bound)
    {
        var span = Reserve(2 * NegVarint.MaxLength + NegentropyProtocol.IdSize);
        int n;
        if (bound.IsInfinity)
        {
            n = NegVarint.Write(span, 0);
            _lastTimestamp = ulong.MaxValue;
        }
        else
        {
            if (bound.Timestamp < _lastTimestamp) throw new InvalidOperationException("bounds must be written in ascending order");
            n = NegVarint.Write(span, bound.Timestamp - _lastTimestamp + 1);
            _lastTimestamp = bound.Timestamp;
        }
        n += NegVarint.Write(span.Slice(n), (ulong)bound.PrefixLength);
        bound.IdPrefix.Span.Slice(0, bound.PrefixLength).CopyTo(span.Slice(n));
        _length += n + bound.PrefixLength;
    }

    public void WriteSkip(in NegBound upperBound)
    {
        WriteBound(upperBound);
        WriteVarint((ulong)NegMode.Skip);
    }

    public void WriteFingerprint(in NegBound upperBound, in Fingerprint fingerprint)
    {
        WriteBound(upperBound);
        WriteVarint((ulong)NegMode.Fingerprint);
        fingerprint.Span.CopyTo(Reserve(NegentropyProtocol.FingerprintSize));
        _length += NegentropyProtocol.FingerprintSize;
    }

    /// <summary>Writes the bound, the IdList mode and the count; the caller then writes exactly <paramref name="count"/> ids.</summary>
    public void WriteIdListHeader(in NegBound upperBound, int count)
    {
        WriteBound(upperBound);
        WriteVarint((ulong)NegMode.IdList);
        WriteVarint((ulong)count);
    }

    public void WriteId(ReadOnlySpan<byte> id)
    {
        id.Slice(0, NegentropyProtocol.IdSize).CopyTo(Reserve(NegentropyProtocol.IdSize));
        _length += NegentropyProtocol.IdSize;
    }

    public void WriteVarint(ulong value) => _length += NegVarint.Write(Reserve(NegVarint.MaxLength), value);

    private Span<byte> Reserve(int bytes)
    {
        if (_buffer.Length - _length < bytes)
        {
            var grown = new byte[Math.Max(_buffer.Length * 2, _length + bytes)];
            _buffer.AsSpan(0, _length).CopyTo(grown);
            _buffer = grown;
        }
        return _buffer.AsSpan(_length);
    }
}
