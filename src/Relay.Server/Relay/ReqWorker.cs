using System.Diagnostics;
using Relay.Native.Protocol;
using Relay.Native.Query;
using Relay.Native.Storage;
using Relay.Server.Policy;

namespace Relay.Server.Relay;

/// <summary>
/// A REQ worker: answers the stored part of REQ and COUNT from the indexes, sends EOSE, then hands
/// the subscription to its monitor. Queries run in time slices (relay.queryTimesliceBudgetMicroseconds,
/// like strfry's QueryScheduler): a paused query goes to the back of the line and resumes in a fresh
/// read snapshot, so one heavy REQ cannot hold up the others. CLOSE and disconnects pass through here
/// too, so the monitor sees them after the REQ they follow.
/// </summary>
internal sealed class ReqWorker
{
    private readonly WorkQueue<ReqJob> _inbox = new(4096);
    private readonly EventStore _store;
    private readonly ReqMonitor[] _monitors;
    private readonly LiveSettings _settings;
    private readonly Thread _thread;
    private readonly SubscriptionSink _sink = new();
    private readonly ReadRestrictions.Gate _gate = new();
    // Queries started but not finished, in turn order: new ones go to the front (a cheap REQ should
    // not wait behind a long one), paused ones to the back.
    private readonly LinkedList<PendingQuery> _running = new();

    private sealed class PendingQuery(ClientSession session, byte[] subIdRaw, QueryRun run, Subscription? subscription)
    {
        public ClientSession Session { get; } = session;
        public byte[] SubIdRaw { get; } = subIdRaw;
        public QueryRun Run { get; } = run;
        /// <summary>Null for COUNT.</summary>
        public Subscription? Subscription { get; } = subscription;
        public long Started { get; } = Stopwatch.GetTimestamp();
        public long ScanTicks;
        public int Slices;
    }

    public ReqWorker(int index, EventStore store, ReqMonitor[] monitors, LiveSettings settings)
    {
        _store = store;
        _monitors = monitors;
        _settings = settings;
        _thread = new Thread(Run) { Name = $"ReqWorker {index}", IsBackground = true };
    }

    public void Start() => _thread.Start();
    public bool IsRunning => _thread.IsAlive;

    /// <summary>Queues a REQ/COUNT/CLOSE; the result completes later only when the inbox is full.</summary>
    public ValueTask Post(in ReqJob job) =>
        _inbox.TryEnqueue(job) == EnqueueResult.Full ? PostWhenRoomAsync(job) : default;

    private async ValueTask PostWhenRoomAsync(ReqJob job)
    {
        Metrics.InboxFullWaits.Add(1);
        await _inbox.EnqueueAsync(job);
    }
    public void Stop() { _inbox.Complete(); _thread.Join(); }

    private ReqMonitor MonitorFor(ClientSession s) => _monitors[(int)(s.Id % _monitors.Length)];

    private void Run()
    {
        var batch = new ReqJob[64];
        using var view = _store.BeginRead();
        view.Reset();
        while (true)
        {
            int n = _inbox.DrainTo(batch, _running.Count > 0 ? 0 : Timeout.Infinite);
            if (n < 0) break;
            for (int i = 0; i < n; i++)
            {
                ref var job = ref batch[i];
                try
                {
                    Handle(job, view);
                }
                catch (Exception e)
                {
                    RelayLog.Error($"reqworker: {e}");
                    if (job.SubIdRaw is not null) job.Session.SendClosed(job.SubIdRaw, "error: internal error while running the query");
                }
                job = default;
            }
            if (_running.First is { } first) StepOne(first, view);
        }
    }

    private void Handle(in ReqJob job, ReadView view)
    {
        var session = job.Session;
        switch (job.Kind)
        {
            case ReqJobKind.Close:
                string subId = System.Text.Encoding.UTF8.GetString(job.SubIdRaw);
                DropRunning(session, job.SubIdRaw);
                MonitorFor(session).Post(new MonitorJob { Kind = MonitorJobKind.Remove, Session = session, SubId = subId });
                return;
            case ReqJobKind.Disconnect:
                DropRunning(session, null);
                MonitorFor(session).Post(new MonitorJob { Kind = MonitorJobKind.Disconnect, Session = session });
                return;
        }
        if (session.Closed) return;

        // A REQ with a used id replaces the old subscription: drop it first so it stops delivering.
        DropRunning(session, job.SubIdRaw);
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        view.Renew();
        ulong snapshot = view.LatestLevId;
        view.Reset();
        if (job.Kind == ReqJobKind.Count)
        {
            var run = QueryRun.StartCount(job.Filters!, _settings.Current.Config.Relay.MaxFilterLimitCount, now, snapshot);
            _running.AddFirst(new PendingQuery(session, job.SubIdRaw, run, null));
            return;
        }
        var sub = job.Subscription!;
        if (sub.Removed) return;   // CLOSEd (or replaced) before its query started
        sub.SnapshotLevId = snapshot;
        MonitorFor(session).Post(new MonitorJob { Kind = MonitorJobKind.Remove, Session = session, SubId = sub.SubId });
        _running.AddFirst(new PendingQuery(session, job.SubIdRaw, QueryRun.Start(sub.Filters, _settings.Current.Config.Relay.MaxFilterLimit, now, snapshot), sub));
    }

    private void StepOne(LinkedListNode<PendingQuery> node, ReadView view)
    {
        var q = node.Value;
        _running.Remove(node);
        if (q.Session.Closed) return;
        bool finished;
        view.Renew();
        long stepStart = Stopwatch.GetTimestamp();
        try
        {
            var settings = _settings.Current;
            _sink.Subscription = q.Subscription;
            // Events this connection may not read (restricted kinds) are absent to its REQs and COUNTs.
            var reads = settings.Policy.Reads;
            _gate.Rules = reads;
            _gate.Session = q.Session;
            long budgetTicks = Math.Max(1, Stopwatch.Frequency * settings.Config.Relay.QueryTimesliceBudgetMicroseconds / 1_000_000);
            finished = q.Run.Step(view, q.Subscription is null ? null : _sink, budgetTicks, reads.HasRestrictedKinds ? _gate : null);
        }
        catch (Exception e)
        {
            RelayLog.Error($"reqworker: {e}");
            q.Session.SendClosed(q.SubIdRaw, "error: internal error while running the query");
            return;
        }
        finally
        {
            _gate.Session = null;
            q.ScanTicks += Stopwatch.GetTimestamp() - stepStart;
            q.Slices++;
            _sink.Subscription = null;
            view.Reset();
        }
        if (!finished)
        {
            _running.AddLast(node);
            return;
        }
        var b = ClientSession.Scratch();
        if (q.Subscription is null)
        {
            QueryObservation.Finished(q.Session, q.SubIdRaw, q.Run, isCount: true, q.Started, q.ScanTicks, q.Slices);
            RelayMessageWriter.Count(b, q.SubIdRaw, q.Run.Count);
            if (q.Session.Connection.SendText(b.WrittenSpan)) Metrics.CountRelayMessage(RelayVerb.Count);
            return;
        }
        Metrics.ReqsServed.Add(1);
        QueryObservation.Finished(q.Session, q.SubIdRaw, q.Run, isCount: false, q.Started, q.ScanTicks, q.Slices);
        RelayMessageWriter.Eose(b, q.SubIdRaw);
        if (q.Session.Connection.SendText(b.WrittenSpan)) Metrics.CountRelayMessage(RelayVerb.Eose);
        if (q.Subscription.Filters.Length > 0)
            MonitorFor(q.Session).Post(new MonitorJob { Kind = MonitorJobKind.Add, Subscription = q.Subscription });
    }

    /// <summary>Forgets unfinished queries of a connection (all of them, or the one with this id).</summary>
    private void DropRunning(ClientSession session, byte[]? subIdRaw)
    {
        for (var node = _running.First; node is not null;)
        {
            var next = node.Next;
            var q = node.Value;
            if (q.Session == session && (subIdRaw is null || q.SubIdRaw.AsSpan().SequenceEqual(subIdRaw)))
                _running.Remove(node);
            node = next;
        }
    }

    private sealed class SubscriptionSink : IQuerySink
    {
        public Subscription? Subscription;

        public bool OnEvent(ulong levId, ReadOnlySpan<byte> json)
        {
            if (Subscription!.Removed) return false;
            Metrics.EventsSent.Add(1);
            return Subscription.SendEvent(json);
        }
    }
}
