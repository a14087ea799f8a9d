using Relay.Native.Crypto;
using Relay.Native.Events;
using Relay.Native.Protocol;
using Relay.Native.Storage;
using Relay.Server.Config;
using Relay.Server.Policy;
using Relay.Server.Transport;

namespace Relay.Server.Relay;

/// <summary>
/// The running relay: the LMDB store, the thread pools (ingesters, one writer, REQ workers,
/// monitors, cron) and the WebSocket listener that feeds them. Connections are sharded to threads
/// by connection id, so one connection's messages stay in order on one thread of each kind.
/// </summary>
public sealed class RelayServer : IAsyncDisposable
{
    public const string Version = "0.2.0";

    private readonly EventStore _store;
    private readonly Writer _writer;
    private readonly WritePolicyPlugin _writePolicy;
    private readonly Ingester[] _ingesters;
    private readonly ReqWorker[] _reqWorkers;
    private readonly ReqMonitor[] _monitors;
    private readonly WebSocketListener _listener;
    private readonly Timer _cron;
    private readonly byte[] _nip11;
    private int _disposed;

    public RelayServer(RelayConfig config, ISchnorrVerifier? verifier = null) : this(config, verifier, null) { }

    internal RelayServer(RelayConfig config, ISchnorrVerifier? verifier, FaultInjection? faults)
    {
        Config = config;
        Verifier = verifier ?? SchnorrVerifiers.Default;
        _store = EventStore.Open(new StoreOptions
        {
            Path = config.Db,
            MapSize = config.DbParams.Mapsize,
            MaxReaders = config.DbParams.Maxreaders,
        });
        var limits = new EventLimits
        {
            MaxEventSize = config.Events.MaxEventSize,
            MaxNumTags = config.Events.MaxNumTags,
            MaxTagValSize = config.Events.MaxTagValSize,
            RejectEventsNewerThanSeconds = config.Events.RejectEventsNewerThanSeconds,
            RejectEventsOlderThanSeconds = config.Events.RejectEventsOlderThanSeconds,
        };
        var threads = config.Relay.NumThreads;
        _writer = new Writer(_store, faults);
        _monitors = new ReqMonitor[threads.ReqMonitor];
        for (int i = 0; i < _monitors.Length; i++) _monitors[i] = new ReqMonitor(i, _store);
        _writePolicy = new WritePolicyPlugin(config.Relay.WritePolicy.Plugin, config.Relay.WritePolicy.TimeoutSeconds, new WritePolicyGate(_writer));
        _ingesters = new Ingester[threads.Ingester];
        for (int i = 0; i < _ingesters.Length; i++)
            _ingesters[i] = new Ingester(i, _store, _writer, _writePolicy, limits, Verifier, config.Events.RejectEphemeralEventsOlderThanSeconds, faults);
        _reqWorkers = new ReqWorker[threads.ReqWorker];
        for (int i = 0; i < _reqWorkers.Length; i++)
            _reqWorkers[i] = new ReqWorker(i, _store, _monitors, config.Relay.MaxFilterLimit, config.Relay.MaxFilterLimitCount,
                config.Relay.QueryTimesliceBudgetMicroseconds);

        _nip11 = Nip11.Build(config);
        var filterLimits = new FilterLimits
        {
            MaxFilters = config.Relay.MaxReqFilterSize,
            MaxTagConditions = config.Relay.MaxTagsPerFilter,
            // Follow lists of big accounts put thousands of authors in one filter; the payload cap bounds it anyway.
            MaxValuesPerField = 10000,
        };
        _listener = new WebSocketListener(new ListenerOptions
        {
            Bind = config.Relay.Bind,
            Port = config.Relay.Port,
            MaxWebsocketPayloadSize = config.Relay.MaxWebsocketPayloadSize,
            AutoPingSeconds = config.Relay.AutoPingSeconds,
            MaxPendingOutboundBytes = config.Relay.MaxPendingOutboundBytes,
            RealIpHeader = config.Relay.RealIpHeader,
            EnableTcpKeepalive = config.Relay.EnableTcpKeepalive,
            Nip11Document = _ => _nip11,
            HttpHandler = HandleHttp,
            OnError = e => RelayLog.ErrorLimited($"transport: {e.GetType().Name}: {e.Message}"),
        }, new ClientHandler(this, filterLimits));
        _cron = new Timer(_ => _writer.RequestPurge(), null, Timeout.Infinite, Timeout.Infinite);
    }

    public RelayConfig Config { get; }

    /// <summary>How often expired events are purged (strfry: 9 s); tests shorten it.</summary>
    internal TimeSpan CronPeriod { get; init; } = TimeSpan.FromSeconds(9);

    internal Writer Writer => _writer;
    internal WritePolicyPlugin WritePolicy => _writePolicy;

    /// <summary>Applies a reloaded <c>relay.writePolicy</c>: a new command restarts the plugin, an empty one turns it off.</summary>
    public void ReconfigureWritePolicy(string command, int timeoutSeconds) => _writePolicy.Reconfigure(command, timeoutSeconds);
    internal WebSocketListener Listener => _listener;
    public ISchnorrVerifier Verifier { get; }
    public int Port => _listener.Port;
    internal EventStore Store => _store;

    private int _nextIngester;

    /// <summary>
    /// EVENTs are spread over the ingesters round-robin rather than pinned per connection: nothing in
    /// an event's outcome depends on arrival order (supersession and deletion are decided by
    /// created_at and id), and one busy connection can then use every core.
    /// </summary>
    internal Ingester NextIngester() => _ingesters[(int)((uint)Interlocked.Increment(ref _nextIngester) % (uint)_ingesters.Length)];
    internal ReqWorker ReqWorkerFor(ClientSession s) => _reqWorkers[(int)(s.Id % _reqWorkers.Length)];

    public void Start()
    {
        _writer.Start(_monitors);
        foreach (var m in _monitors) m.Start();
        foreach (var w in _reqWorkers) w.Start();
        foreach (var i in _ingesters) i.Start();
        _listener.Start();
        // Expired events are never served (queries check expiration); the purge only reclaims space.
        _cron.Change(CronPeriod, CronPeriod);
    }

    private HttpResponse? HandleHttp(HttpRequestInfo request)
    {
        if (request.Path == "/metrics")
            return HttpResponse.Text(200, Metrics.Render(_listener.ConnectionCount, WebSocketListener.SlowClientTerminations),
                "text/plain; version=0.0.4; charset=utf-8");
        if (request.Path == "/health")
            return HttpResponse.Text(200, "ok\n");
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _cron.DisposeAsync();
        await _listener.DisposeAsync();
        // Drain in pipeline order so every accepted event is written and answered before the store closes.
        foreach (var i in _ingesters) i.Stop();
        // Events still with the plugin get their verdicts (and the accepted ones reach the writer) first.
        _writePolicy.Dispose();
        _writer.Stop();
        foreach (var w in _reqWorkers) w.Stop();
        foreach (var m in _monitors) m.Stop();
        _store.Sync();
        _store.Dispose();
    }
}
