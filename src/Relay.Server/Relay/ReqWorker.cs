using Relay.Native.Protocol;
using Relay.Native.Query;
using Relay.Native.Storage;

namespace Relay.Server.Relay;

/// <summary>
/// A REQ worker: answers the stored part of REQ and COUNT from the indexes in a read transaction,
/// sends EOSE, then hands the subscription to its monitor. CLOSE and disconnects pass through here
/// too, so the monitor sees them after the REQ they follow.
/// </summary>
internal sealed class ReqWorker
{
    private readonly WorkQueue<ReqJob> _inbox = new(4096);
    private readonly EventStore _store;
    private readonly ReqMonitor[] _monitors;
    private readonly int _maxLimit;
    private readonly long _maxCount;
    private readonly Thread _thread;
    private readonly SubscriptionSink _sink = new();

    public ReqWorker(int index, EventStore store, ReqMonitor[] monitors, int maxLimit, long maxCount)
    {
        _store = store;
        _monitors = monitors;
        _maxLimit = maxLimit;
        _maxCount = maxCount;
        _thread = new Thread(Run) { Name = $"ReqWorker {index}", IsBackground = true };
    }

    public void Start() => _thread.Start();
    public void Post(in ReqJob job) => _inbox.Enqueue(job);
    public void Stop() { _inbox.Complete(); _thread.Join(); }

    private ReqMonitor MonitorFor(ClientSession s) => _monitors[(int)(s.Id % _monitors.Length)];

    private void Run()
    {
        var batch = new ReqJob[64];
        int n;
        while ((n = _inbox.DrainTo(batch)) >= 0)
        {
            for (int i = 0; i < n; i++)
            {
                ref var job = ref batch[i];
                try
                {
                    Handle(job);
                }
                catch (Exception e)
                {
                    RelayLog.Error($"reqworker: {e}");
                    if (job.SubIdRaw is not null) job.Session.SendClosed(job.SubIdRaw, "error: internal error while running the query");
                }
                job = default;
            }
        }
    }

    private void Handle(in ReqJob job)
    {
        var session = job.Session;
        switch (job.Kind)
        {
            case ReqJobKind.Close:
                MonitorFor(session).Post(new MonitorJob { Kind = MonitorJobKind.Remove, Session = session, SubId = System.Text.Encoding.UTF8.GetString(job.SubIdRaw) });
                return;
            case ReqJobKind.Disconnect:
                MonitorFor(session).Post(new MonitorJob { Kind = MonitorJobKind.Disconnect, Session = session });
                return;
            case ReqJobKind.Count:
                RunCount(job);
                return;
        }
        if (session.Closed) return;

        var sub = new Subscription(session, job.SubIdRaw, job.Filters!);
        // A REQ with a used id replaces the old subscription: drop it first so it stops delivering.
        var monitor = MonitorFor(session);
        monitor.Post(new MonitorJob { Kind = MonitorJobKind.Remove, Session = session, SubId = sub.SubId });

        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using (var view = _store.BeginRead())
        {
            sub.SnapshotLevId = view.LatestLevId;
            if (sub.Filters.Length > 0)
            {
                _sink.Subscription = sub;
                try { QueryEngine.Run(view, sub.Filters, _maxLimit, now, _sink); }
                finally { _sink.Subscription = null; }
            }
        }
        Metrics.ReqsServed.Add(1);
        var b = ClientSession.Scratch();
        RelayMessageWriter.Eose(b, sub.SubIdRaw);
        session.Connection.SendText(b.WrittenSpan);
        if (sub.Filters.Length > 0) monitor.Post(new MonitorJob { Kind = MonitorJobKind.Add, Subscription = sub });
    }

    private void RunCount(in ReqJob job)
    {
        long count;
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using (var view = _store.BeginRead())
        {
            count = job.Filters!.Length == 0 ? 0 : QueryEngine.Count(view, job.Filters, now, _maxCount);
        }
        var b = ClientSession.Scratch();
        RelayMessageWriter.Count(b, job.SubIdRaw, count);
        job.Session.Connection.SendText(b.WrittenSpan);
    }

    private sealed class SubscriptionSink : IQuerySink
    {
        public Subscription? Subscription;

        public bool OnEvent(ulong levId, ReadOnlySpan<byte> json)
        {
            Metrics.EventsSent.Add(1);
            return Subscription!.SendEvent(json);
        }
    }
}
