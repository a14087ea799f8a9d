using Relay.Native.Events;
using Relay.Native.Query;
using Relay.Native.Storage;

namespace Relay.Native.Negentropy;

/// <summary>Extra selection for scanned sessions, e.g. a read restriction by the authenticated pubkey.</summary>
public delegate bool NegEventPredicate(in PackedEvent ev);

public sealed class NegentropySessionOptions
{
    public static NegentropySessionOptions Default { get; } = new();

    /// <summary>Upper bound of each reply (strfry: 500,000).</summary>
    public int FrameSizeLimit { get; init; } = NegentropyProtocol.ServerFrameSizeLimit;

    /// <summary>A scanned session matching more events than this fails with <c>blocked:</c> (strfry's <c>relay.negentropy.maxSyncEvents</c>).</summary>
    public int MaxSyncEvents { get; init; } = 1_000_000;
}

public enum NegentropySessionStatus : byte
{
    /// <summary>More work before the reply: call <see cref="NegentropySession.Step"/> again (in a later time slice).</summary>
    Working,
    /// <summary><see cref="NegentropySession.Reply"/> is ready to send as NEG-MSG; the next NEG-MSG goes to <see cref="NegentropySession.Submit"/>.</summary>
    Replied,
    /// <summary>Send NEG-ERR with <see cref="NegentropySession.ErrorReason"/>; the session is over.</summary>
    Failed,
}

/// <summary>
/// The relay's side of one NEG-OPEN. It holds the storage choice and answers one message at a time:
/// <list type="bullet">
/// <item>tree-backed (the filter is a built tree's, plus since/until): stateless, each message is
/// answered from the tree in the view given to <see cref="Step"/>, in O(ranges × log n);</item>
/// <item>scanned: the matching events are collected with a time-sliced <see cref="QueryRun"/>
/// (several <see cref="Step"/>s when large), sorted once into a <see cref="NegentropyVector"/>, and
/// every message of the session is answered from that vector.</item>
/// </list>
/// Answering one message is not itself sliced: its cost is bounded by the message (each range costs a
/// few lookups, and a message is at most the client's frame) — the scan is the part that can be long.
/// One thread at a time; the view passed to <see cref="Step"/> is not kept.
/// </summary>
public sealed class NegentropySession
{
    private readonly NegentropySessionOptions _options;
    private readonly NegentropyResponder _responder;
    private byte[] _pending;
    private int _pendingLength;

    // Tree-backed.
    private readonly ulong _treeId;
    private readonly long _since, _until;

    // Scanned.
    private NegentropyScan? _scan;
    private NegentropyVector? _vector;

    private NegentropySession(NegentropySessionOptions options, ReadOnlySpan<byte> initialMessage, ulong treeId, long since, long until)
    {
        _options = options;
        _responder = new NegentropyResponder(options.FrameSizeLimit);
        _pending = initialMessage.ToArray();
        _pendingLength = _pending.Length;
        _treeId = treeId;
        _since = since;
        _until = until;
        Status = NegentropySessionStatus.Working;
    }

    /// <summary>A session served from a built tree (see <see cref="NegentropyTrees.TryFindBuiltTree"/>).</summary>
    public static NegentropySession ForTree(ulong treeId, long since, long until, ReadOnlySpan<byte> initialMessage, NegentropySessionOptions? options = null)
    {
        if (treeId == 0) throw new ArgumentOutOfRangeException(nameof(treeId));
        return new NegentropySession(options ?? NegentropySessionOptions.Default, initialMessage, treeId, since, until);
    }

    /// <summary>
    /// A session over the events matching <paramref name="filter"/> in <paramref name="view"/>'s
    /// snapshot (events expired at <paramref name="now"/> left out), optionally narrowed by
    /// <paramref name="include"/>.
    /// </summary>
    public static NegentropySession ForScan(Filter filter, ReadView view, long now, ReadOnlySpan<byte> initialMessage,
        NegentropySessionOptions? options = null, NegEventPredicate? include = null)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(view);
        options ??= NegentropySessionOptions.Default;
        var session = new NegentropySession(options, initialMessage, 0, 0, long.MaxValue);
        session._scan = new NegentropyScan(filter, view, now, options.MaxSyncEvents, include);
        return session;
    }

    /// <summary>Picks the storage: a built tree when one serves <paramref name="filter"/>, else a scan.</summary>
    public static NegentropySession Open(NegentropyTrees trees, ReadView view, Filter filter, long now, ReadOnlySpan<byte> initialMessage,
        NegentropySessionOptions? options = null, NegEventPredicate? include = null)
    {
        ArgumentNullException.ThrowIfNull(trees);
        // A read restriction cannot be applied to a shared tree, so it forces a scan.
        if (include is null && trees.TryFindBuiltTree(view, filter, out ulong treeId))
            return ForTree(treeId, filter.Since, filter.Until, initialMessage, options);
        return ForScan(filter, view, now, initialMessage, options, include);
    }

    public NegentropySessionStatus Status { get; private set; }

    public bool UsesTree => _treeId != 0;

    /// <summary>The tree serving this session, 0 for a scanned one.</summary>
    public ulong TreeId => _treeId;

    /// <summary>Events collected by a scanned session so far (its set's size once scanned).</summary>
    public int ScannedEvents => _vector is not null ? (int)_vector.Count : _scan?.Count ?? 0;

    /// <summary>The reply to send as NEG-MSG; valid while <see cref="Status"/> is Replied and until the next call.</summary>
    public ReadOnlySpan<byte> Reply => Status == NegentropySessionStatus.Replied ? _responder.Reply : default;

    /// <summary>The NEG-ERR reason when Failed.</summary>
    public string? ErrorReason { get; private set; }

    /// <summary>The protocol error behind a failure, if it was one.</summary>
    public NegError Error { get; private set; }

    /// <summary>Hands the client's next NEG-MSG payload to the session; false (and Failed) when it was not expecting one.</summary>
    public bool Submit(ReadOnlySpan<byte> message)
    {
        if (Status != NegentropySessionStatus.Replied)
        {
            if (Status != NegentropySessionStatus.Failed) Fail("invalid: NEG-MSG arrived before the previous reply");
            return false;
        }
        if (_pending.Length < message.Length) _pending = new byte[Math.Max(message.Length, _pending.Length * 2)];
        message.CopyTo(_pending);
        _pendingLength = message.Length;
        Status = NegentropySessionStatus.Working;
        return true;
    }

    /// <summary>
    /// Works for at most about <paramref name="budgetTicks"/> (<see cref="System.Diagnostics.Stopwatch"/>
    /// ticks) on the scan, then answers the pending message once the storage is ready.
    /// <paramref name="view"/> must be at least as new as the one the session was opened with.
    /// </summary>
    public NegentropySessionStatus Step(ReadView view, long budgetTicks)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (Status != NegentropySessionStatus.Working) return Status;

        INegentropyStorage storage;
        if (_treeId != 0)
        {
            var tree = NegentropyTree.Open(view, _treeId);
            if (!tree.Exists)
            {
                Fail("closed: the negentropy tree for this filter was removed");
                return Status;
            }
            storage = _since <= 0 && _until == long.MaxValue
                ? tree
                : _until < _since ? NegentropyVector.Empty : new NegentropySubRange(tree, (ulong)Math.Max(0, _since), (ulong)_until);
        }
        else
        {
            if (_vector is null && !Scan(view, budgetTicks)) return Status;
            storage = _vector!;
        }

        var error = _responder.Respond(storage, _pending.AsSpan(0, _pendingLength));
        if (error != NegError.None)
        {
            Error = error;
            Fail("invalid: negentropy protocol error: " + NegErrors.Describe(error));
            return Status;
        }
        Status = NegentropySessionStatus.Replied;
        return Status;
    }

    /// <summary>True when the vector is ready; false when paused or failed.</summary>
    private bool Scan(ReadView view, long budgetTicks)
    {
        var scan = _scan!;
        bool finished = scan.Step(view, budgetTicks);
        if (scan.TooMany)
        {
            Fail(NegentropyScan.TooManyReason);
            return false;
        }
        if (!finished) return false;
        _vector = scan.Build();
        _scan = null;
        return true;
    }

    private void Fail(string reason)
    {
        ErrorReason = reason;
        Status = NegentropySessionStatus.Failed;
        _scan = null;
        _vector = null;
    }
}
