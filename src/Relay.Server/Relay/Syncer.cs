using System.Diagnostics;
using Relay.Native.Events;
using Relay.Native.Storage;

namespace Relay.Server.Relay;

/// <summary>An OK waiting for its commit to reach the disk.</summary>
internal struct Ack
{
    public ClientSession Session;
    public Bytes32 Id;
    public bool Accepted;
    public string Message;
}

/// <summary>
/// The durability thread. The writer commits without fsync and queues each event's answer here; this
/// thread takes everything queued, fsyncs once (mdb_env_sync covers every commit made before it
/// started), then sends those OKs. While it waits on the disk the writer is already committing the
/// next batch, so a commit costs the larger of the write and the fsync rather than their sum.
/// </summary>
internal sealed class Syncer
{
    private readonly WorkQueue<Ack> _inbox = new(32768);
    private readonly EventStore _store;
    private readonly Thread _thread;
    private readonly FaultInjection? _faults;
    // Set by the writer after each commit; an fsync only needs to run when something was committed
    // since the last one (purges and rejected-only batches commit too).
    private int _dirty;
    // Every event with a levId up to this one is on disk.
    private ulong _durableLevId;

    public Syncer(EventStore store, FaultInjection? faults = null)
    {
        _store = store;
        _faults = faults;
        _durableLevId = store.LastLevId;
        _thread = new Thread(Run) { Name = "Syncer", IsBackground = true };
    }

    public void Start() => _thread.Start();
    public bool IsRunning => _thread.IsAlive;

    /// <summary>The highest levId known to be fsynced.</summary>
    public ulong DurableLevId => Volatile.Read(ref _durableLevId);

    /// <summary>Queues an answer; call only after the commit that decided it has returned.</summary>
    public void Post(in Ack ack) => _inbox.Enqueue(ack);

    /// <summary>
    /// `OK true "duplicate:"` for an event found stored with <paramref name="levId"/>: at once when that
    /// is already on disk, else after the fsync that makes it durable, like the original's own OK.
    /// </summary>
    public void AnswerDuplicate(ClientSession session, in Bytes32 id, ulong levId)
    {
        if (levId <= DurableLevId)
            session.SendOk(id.Span, true, WriteMessages.Duplicate);
        else
            Post(new Ack { Session = session, Id = id, Accepted = true, Message = WriteMessages.Duplicate });
    }

    public void CommitDone()
    {
        Volatile.Write(ref _dirty, 1);
        _inbox.Wake();
    }

    public void Stop() { _inbox.Complete(); _thread.Join(); }

    private void Run()
    {
        var acks = new Ack[8192];
        int n;
        while ((n = _inbox.DrainTo(acks, 1000)) >= 0)
        {
            if (n == 0 && Volatile.Read(ref _dirty) == 0) continue;
            try
            {
                if (Interlocked.Exchange(ref _dirty, 0) == 1 || n > 0)
                {
                    // Read before the sync: mdb_env_sync covers every commit that returned before it began.
                    ulong committed = _store.LastLevId;
                    long start = Stopwatch.GetTimestamp();
                    _faults?.SyncerBeforeSync?.Invoke();
                    _store.Sync();
                    Metrics.RecordFsync(Stopwatch.GetTimestamp() - start);
                    if (committed > _durableLevId) Volatile.Write(ref _durableLevId, committed);
                }
                for (int i = 0; i < n; i++) acks[i].Session.SendOk(acks[i].Id.Span, acks[i].Accepted, acks[i].Message);
            }
            catch (Exception e)
            {
                // The events are committed but their durability is unknown: never claim it. The dirty
                // flag comes back so the next round tries again.
                Volatile.Write(ref _dirty, 1);
                RelayLog.Error($"syncer: fsync failed: {e.Message}");
                for (int i = 0; i < n; i++) acks[i].Session.SendOk(acks[i].Id.Span, false, "error: could not make the event durable");
            }
            finally
            {
                Array.Clear(acks, 0, Math.Max(n, 0));
            }
        }
    }
}
