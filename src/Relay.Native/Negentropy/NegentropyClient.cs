using Relay.Native.Events;

namespace Relay.Native.Negentropy;

/// <summary>
/// The initiator of a sync (what <c>relay sync</c> drives): <see cref="Initiate"/> gives the
/// NEG-OPEN payload; each NEG-MSG from the relay goes to <see cref="Reconcile"/>, which reports
/// the ids only we have and the ids only they have, and gives the next message to send until
/// <see cref="IsComplete"/>. One thread at a time.
/// </summary>
public sealed class NegentropyClient
{
    private readonly INegentropyStorage _storage;
    private readonly int _frameSizeLimit;
    private readonly Reconciler _reconciler = new();
    private readonly NegMessageWriter _output = new();
    private readonly List<Bytes32> _have = new();
    private readonly List<Bytes32> _need = new();
    // Ids already reported. A peer that runs out of frame covers everything after the cut with one
    // fingerprint, which can reopen ranges already settled, so the same difference may come back
    // in a later round (the reference implementations report it again).
    private readonly HashSet<Bytes32> _reported = new();
    private bool _initiated;

    /// <param name="frameSizeLimit">Upper bound of each outgoing message in bytes (0 = none); strfry's sync uses 60,000.</param>
    public NegentropyClient(INegentropyStorage storage, int frameSizeLimit = NegentropyProtocol.ClientFrameSizeLimit)
    {
        ArgumentNullException.ThrowIfNull(storage);
        NegentropyProtocol.CheckFrameSizeLimit(frameSizeLimit, nameof(frameSizeLimit));
        _storage = storage;
        _frameSizeLimit = frameSizeLimit;
    }

    /// <summary>True once a reply left nothing to ask: every difference has been reported.</summary>
    public bool IsComplete { get; private set; }

    /// <summary>Messages sent so far, the initial one included.</summary>
    public int Rounds { get; private set; }

    /// <summary>The message to send next; valid until the next call.</summary>
    public ReadOnlySpan<byte> NextMessage => IsComplete ? default : _output.Written;

    /// <summary>The initial message (NEG-OPEN's payload).</summary>
    public ReadOnlySpan<byte> Initiate()
    {
        if (_initiated) throw new InvalidOperationException("already initiated");
        _initiated = true;
        _reconciler.Initiate(_storage, _output);
        Rounds = 1;
        return _output.Written;
    }

    /// <summary>
    /// Processes the relay's reply. Ids only we have go to <paramref name="have"/>, ids only the relay
    /// has go to <paramref name="need"/>; each difference is reported exactly once over the whole
    /// sync. On an error nothing more can be done with this sync.
    /// </summary>
    public NegError Reconcile(ReadOnlySpan<byte> reply, ICollection<Bytes32> have, ICollection<Bytes32> need)
    {
        ArgumentNullException.ThrowIfNull(have);
        ArgumentNullException.ThrowIfNull(need);
        if (!_initiated) throw new InvalidOperationException("initiate first");
        if (IsComplete) throw new InvalidOperationException("the sync is already complete");

        _have.Clear();
        _need.Clear();
        var error = _reconciler.Reconcile(_storage, reply, _output, _frameSizeLimit, initiator: true, _have, _need);
        if (error != NegError.None)
        {
            IsComplete = true;
            return error;
        }
        foreach (var id in _have)
        {
            if (_reported.Add(id)) have.Add(id);
        }
        foreach (var id in _need)
        {
            if (_reported.Add(id)) need.Add(id);
        }
        if (_output.Length == 1) IsComplete = true;
        else Rounds++;
        return NegError.None;
    }
}

/// <summary>
/// The stateless answering side: one message in, one reply out. <see cref="NegentropySession"/>
/// wraps it with the storage choice and time slicing; tests and tools use it directly.
/// </summary>
public sealed class NegentropyResponder
{
    private readonly int _frameSizeLimit;
    private readonly Reconciler _reconciler = new();
    private readonly NegMessageWriter _output = new();

    /// <param name="frameSizeLimit">Upper bound of each reply in bytes (0 = none); strfry's relay uses 500,000.</param>
    public NegentropyResponder(int frameSizeLimit = NegentropyProtocol.ServerFrameSizeLimit)
    {
        NegentropyProtocol.CheckFrameSizeLimit(frameSizeLimit, nameof(frameSizeLimit));
        _frameSizeLimit = frameSizeLimit;
    }

    /// <summary>The last reply; valid until the next <see cref="Respond"/>.</summary>
    public ReadOnlySpan<byte> Reply => _output.Written;

    public ReadOnlyMemory<byte> ReplyMemory => _output.WrittenMemory;

    /// <summary>
    /// Answers one message. A message of another protocol version gets the one-byte version reply
    /// (NegError.None). Any malformation returns an error and leaves no reply.
    /// </summary>
    public NegError Respond(INegentropyStorage storage, ReadOnlySpan<byte> query)
    {
        ArgumentNullException.ThrowIfNull(storage);
        var error = _reconciler.Reconcile(storage, query, _output, _frameSizeLimit, initiator: false, null, null);
        if (error != NegError.None) _output.Begin();
        return error;
    }
}
