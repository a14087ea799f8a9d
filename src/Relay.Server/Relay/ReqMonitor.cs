using Relay.Native.Events;
using Relay.Native.Query;
using Relay.Native.Storage;

namespace Relay.Server.Relay;

/// <summary>
/// A monitor thread: owns the live subscriptions of the connections sharded to it, indexed by id,
/// author, tag and kind (<see cref="SubscriptionIndex{TSub}"/>), and delivers each newly committed
/// event to the subscriptions it matches, framing the stored JSON bytes without re-serializing.
/// </summary>
internal sealed class ReqMonitor
{
    private readonly WorkQueue<MonitorJob> _inbox = new(8192);
    private readonly EventStore _store;
    private readonly LiveSettings _settings;
    private readonly Thread _thread;
    private readonly SubscriptionIndex<Subscription> _index = new();
    private readonly Dictionary<long, Dictionary<string, Subscription>> _byConnection = new();
    private readonly List<Subscription> _matches = new();
    // Highest levId this monitor has been told about; a subscription whose snapshot is older must be
    // caught up from the DB, or events committed between its query and its arrival here would be lost.
    private ulong _lastSeenLevId;

    public ReqMonitor(int index, EventStore store, LiveSettings settings)
    {
        _store = store;
        _settings = settings;
        _thread = new Thread(Run) { Name = $"ReqMonitor {index}", IsBackground = true };
        using var view = store.BeginRead();
        _lastSeenLevId = view.LatestLevId;
    }

    public int SubscriptionCount => _index.Count;

    public void Start() => _thread.Start();
    public bool IsRunning => _thread.IsAlive;
    public void Post(in MonitorJob job) => _inbox.Enqueue(job);
    public void PostEvents(CommittedBatch batch)
    {
        if (!_inbox.Enqueue(new MonitorJob { Kind = MonitorJobKind.Events, Batch = batch })) batch.Release();
    }
    public void Stop() { _inbox.Complete(); _thread.Join(); }

    private void Run()
    {
        var batch = new MonitorJob[256];
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
                    RelayLog.Error($"monitor: {e}");
                }
                finally
                {
                    if (job.Kind == MonitorJobKind.Events) job.Batch!.Release();
                    job = default;
                }
            }
        }
    }

    private void Handle(in MonitorJob job)
    {
        switch (job.Kind)
        {
            case MonitorJobKind.Add: Add(job.Subscription!); break;
            case MonitorJobKind.Remove: Remove(job.Session!.Id, job.SubId!); break;
            case MonitorJobKind.Disconnect: RemoveConnection(job.Session!.Id); break;
            case MonitorJobKind.Events: Deliver(job.Batch!); break;
        }
    }

    private void Add(Subscription sub)
    {
        if (sub.Session.Closed || sub.Removed) return;
        if (!_byConnection.TryGetValue(sub.Session.Id, out var subs))
            _byConnection[sub.Session.Id] = subs = new Dictionary<string, Subscription>(StringComparer.Ordinal);
        if (subs.Remove(sub.SubId, out var old)) { old.Removed = true; _index.Remove(old); }
        subs[sub.SubId] = sub;
        _index.Add(sub, sub.Filters);
        if (_lastSeenLevId > sub.SnapshotLevId)
        {
            CatchUp(sub);
            // Everything up to _lastSeenLevId that is stored was just sent: levIds are committed in
            // order, so none can appear later. Events another process committed reach the monitors
            // after the writer's own newer batches (ExternalCommits), and must not be sent twice.
            sub.SnapshotLevId = _lastSeenLevId;
        }
    }

    private void CatchUp(Subscription sub)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var reads = _settings.Current.Policy.Reads;
        using var view = _store.BeginRead();
        for (ulong levId = sub.SnapshotLevId + 1; levId <= _lastSeenLevId; levId++)
        {
            if (!view.TryGetEvent(levId, out PackedEvent ev) || ev.IsExpiredAt(now)) continue;
            if (reads.AppliesTo(ev.Kind) && !reads.CanRead(sub.Session, ev)) continue;
            foreach (var f in sub.Filters)
            {
                if (!f.Matches(ev)) continue;
                if (view.TryGetPayload(levId, out var json)) sub.SendEvent(json);
                break;
            }
        }
    }

    private void Remove(long connectionId, string subId)
    {
        if (!_byConnection.TryGetValue(connectionId, out var subs)) return;
        if (subs.Remove(subId, out var sub)) { sub.Removed = true; _index.Remove(sub); }
        if (subs.Count == 0) _byConnection.Remove(connectionId);
    }

    private void RemoveConnection(long connectionId)
    {
        if (!_byConnection.Remove(connectionId, out var subs)) return;
        foreach (var sub in subs.Values) { sub.Removed = true; _index.Remove(sub); }
    }

    private void Deliver(CommittedBatch batch)
    {
        var reads = _settings.Current.Policy.Reads;
        for (int i = 0; i < batch.Count; i++)
        {
            ref readonly var slot = ref batch[i];
            if (slot.LevId > _lastSeenLevId) _lastSeenLevId = slot.LevId;
            if (_index.Count == 0) continue;
            var ev = new PackedEvent(batch.Packed(slot));
            _matches.Clear();
            _index.Match(ev, _matches);
            if (_matches.Count == 0) continue;
            var json = batch.Json(slot);
            // Asked per subscriber only for events not meant for everyone (DMs, a private relay); the
            // connection's AUTH state is read now, so authenticating opens an already open subscription.
            bool restricted = reads.AppliesTo(ev.Kind);
            foreach (var sub in _matches)
            {
                // Events the subscription's own query could already see were sent with it; a CLOSEd
                // subscription may still be indexed here until its removal arrives.
                if (sub.Removed || (slot.LevId != 0 && slot.LevId <= sub.SnapshotLevId)) continue;
                if (restricted && !reads.CanRead(sub.Session, ev)) continue;
                if (sub.SendEvent(json)) Metrics.EventsSent.Add(1);
            }
        }
    }
}
