using System.Diagnostics;
using Relay.Native.Events;
using Relay.Native.Storage;

namespace Relay.Server.Relay;

/// <summary>
/// The single LMDB writer. Each loop takes every verified event waiting (group commit) and writes
/// them in one transaction committed without fsync: readers and the monitors see them at once, and
/// the visible ones go to the monitors. The answers go to the <see cref="Syncer"/>, which fsyncs and
/// only then sends the OKs, so `OK true` means durable while neither live delivery nor the next
/// commit waits for the disk.
/// </summary>
internal sealed class Writer
{
    private const int MaxBatch = 4096;

    private readonly WorkQueue<WriteJob> _inbox = new(MaxBatch * 2);
    private readonly EventStore _store;
    private readonly Thread _thread;
    private ReqMonitor[] _monitors = [];
    private readonly Syncer _syncer;
    private readonly ExternalCommits _external;
    private volatile bool _purgeRequested;
    // EVENTs received but not yet through an ingester. While some are, the writer holds its commit
    // open for up to GatherTicks so they join it: each commit is followed by a fixed-cost fsync, and a
    // client with a window of N events gets them all into one fsync instead of alternating between a
    // tiny batch and the rest.
    private int _ingesting;
    private static readonly long GatherTicks = Stopwatch.Frequency / 2000;   // 0.5 ms

    private readonly FaultInjection? _faults;

    public Writer(EventStore store, FaultInjection? faults = null)
    {
        _store = store;
        _faults = faults;
        _syncer = new Syncer(store, faults);
        _external = new ExternalCommits(store);
        _thread = new Thread(Run) { Name = "Writer", IsBackground = true };
    }

    public Syncer Syncer => _syncer;

    public void Start(ReqMonitor[] monitors) { _monitors = monitors; _syncer.Start(); _thread.Start(); }
    public bool IsRunning => _thread.IsAlive && _syncer.IsRunning;

    public void Post(in WriteJob job)
    {
        if (!_inbox.Enqueue(job)) ReturnBuffers(job);
    }

    public void NoteIngestStarted() => Interlocked.Increment(ref _ingesting);
    public void NoteIngestFinished() => Interlocked.Decrement(ref _ingesting);

    public void RequestPurge() { _purgeRequested = true; _inbox.Wake(); }
    public void Stop()
    {
        _inbox.Complete();
        _thread.Join();
        _syncer.Stop();
    }

    private void Run()
    {
        var jobs = new WriteJob[MaxBatch];
        var items = new WriteItem[MaxBatch];
        var results = new WriteResult[MaxBatch];
        int n;
        while ((n = _inbox.DrainTo(jobs, _purgeRequested || _external.HasBacklog ? 0 : ExternalCommits.PollMilliseconds)) >= 0)
        {
            if (_purgeRequested) Purge();
            if (n > 0)
            {
                n = Gather(jobs, n);
                try
                {
                    WriteBatch(jobs.AsSpan(0, n), items, results);
                }
                finally
                {
                    for (int i = 0; i < n; i++) { ReturnBuffers(jobs[i]); jobs[i] = default; }
                }
            }
            FeedExternalCommits(poll: n == 0);
        }
    }

    /// <summary>Hands events committed by other processes to the monitors (see <see cref="ExternalCommits"/>).</summary>
    private void FeedExternalCommits(bool poll)
    {
        try
        {
            if (poll) _external.Poll();
            _external.PublishSlice(_monitors);
        }
        catch (Exception e)
        {
            RelayLog.ErrorLimited($"writer: reading events committed by another process: {e.Message}");
        }
    }

    private int Gather(WriteJob[] jobs, int n)
    {
        long deadline = Stopwatch.GetTimestamp() + GatherTicks;
        while (n < jobs.Length && Volatile.Read(ref _ingesting) > 0 && Stopwatch.GetTimestamp() < deadline)
        {
            int more = _inbox.DrainTo(jobs.AsSpan(n), 1);
            if (more < 0) break;
            n += more;
        }
        return n;
    }

    private void WriteBatch(Span<WriteJob> jobs, WriteItem[] items, WriteResult[] results)
    {
        int n = jobs.Length;
        for (int i = 0; i < n; i++)
            items[i] = new WriteItem(jobs[i].Packed, jobs[i].Json);

        long start = Stopwatch.GetTimestamp();
        Metrics.WriteBatchSize.Record(n);
        try
        {
            _faults?.WriterBeforeCommit?.Invoke();
            ulong before = _store.WriteBatch(items.AsSpan(0, n), results.AsSpan(0, n), durable: false);
            Metrics.CommitWrite.Record(Stopwatch.GetTimestamp() - start);
            _external.OwnBatchCommitted(before, _store.LastLevId);
        }
        catch (Exception e)
        {
            // The transaction was rolled back: nothing of this batch is stored, and every client says so.
            bool full = StoreCapacity.ReportIfMapFull(e, n);
            if (!full) RelayLog.Error($"writer: batch of {n} not stored: {e.Message}");
            Metrics.EventsRejected.Add(n);
            for (int i = 0; i < n; i++) jobs[i].Session?.SendOk(jobs[i].Id.Span, false, full ? StoreCapacity.FullMessage : "error: could not store the event");
            return;
        }
        StoreCapacity.NoteCommitted();

        // From here the batch is committed: a failure below must not turn into "could not store".
        // Delivery to subscribers is best effort; the answers always go to the syncer.
        try
        {
            _faults?.WriterAfterCommit?.Invoke();
            Publish(jobs, results);
        }
        catch (Exception e)
        {
            RelayLog.Error($"writer: after commit: {e}");
        }
        Metrics.WriteTimeMicroseconds.Add((long)Stopwatch.GetElapsedTime(start).TotalMicroseconds);

        for (int i = 0; i < n; i++)
        {
            ref readonly var r = ref results[i];
            bool accepted = r.Status is WriteStatus.Stored or WriteStatus.Ephemeral or WriteStatus.Duplicate;
            switch (r.Status)
            {
                case WriteStatus.Stored: Metrics.EventsWritten.Add(1); Metrics.CountAcceptedEvent(jobs[i].Packed.Span); break;
                case WriteStatus.Duplicate: Metrics.EventsDuplicate.Add(1); break;
                case WriteStatus.Ephemeral: Metrics.CountAcceptedEvent(jobs[i].Packed.Span); break;
                default: Metrics.EventsRejected.Add(1); break;
            }
            if (jobs[i].Session is { } session)
                _syncer.Post(new Ack { Session = session, Id = jobs[i].Id, Accepted = accepted, Message = r.Message ?? "" });
        }
        _syncer.CommitDone();
    }

    /// <summary>Hands the batch's visible events (stored and ephemeral) to every monitor.</summary>
    private void Publish(Span<WriteJob> jobs, WriteResult[] results)
    {
        var visible = CommittedBatch.Rent();
        for (int i = 0; i < jobs.Length; i++)
        {
            var status = results[i].Status;
            if (status == WriteStatus.Stored || status == WriteStatus.Ephemeral)
                visible.Add(jobs[i].Packed.Span, jobs[i].Json.Span, results[i].LevId);
        }
        if (visible.Count > 0 && _monitors.Length > 0)
        {
            visible.SetReaders(_monitors.Length);
            foreach (var m in _monitors) m.PostEvents(visible);
        }
        else
        {
            visible.SetReaders(1);
            visible.Release();
        }
    }

    // Expired events removed per writer loop: the purge shares the writer with the live batches, so a
    // backlog (a restart after a long stop) is worked off in slices between them.
    internal const int PurgeSlice = 2000;

    private void Purge()
    {
        _purgeRequested = false;
        try
        {
            int purged = _store.PurgeExpired(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), PurgeSlice);
            if (purged > 0) RelayLog.Info($"cron: purged {purged} expired events");
            // A full slice means more may be waiting: take the next one on the next loop.
            if (purged == PurgeSlice) _purgeRequested = true;
        }
        catch (Exception e)
        {
            // A full map is reported once by the write path; a purge that cannot run then is no news.
            if (!StoreCapacity.IsMapFull(e)) RelayLog.Error($"cron: purge failed: {e.Message}");
        }
    }

    private static void ReturnBuffers(in WriteJob job)
    {
        if (job.Buffer is not null) EventBuffers.Pool.Return(job.Buffer);
    }
}
