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
    private readonly LiveSettings _settings;
    private readonly ServerStatus _status;
    private readonly StoreCapacity _capacity;
    private volatile bool _started, _draining;
    private int _disposed;

    public RelayServer(RelayConfig config, ISchnorrVerifier? verifier = null) : this(new LiveConfig(config), verifier, null) { }

    public RelayServer(LiveConfig live, ISchnorrVerifier? verifier = null) : this(live, verifier, null) { }

    internal RelayServer(RelayConfig config, ISchnorrVerifier? verifier, FaultInjection? faults) : this(new LiveConfig(config), verifier, faults) { }

    internal RelayServer(LiveConfig live, ISchnorrVerifier? verifier, FaultInjection? faults)
    {
        Live = live;
        _settings = new LiveSettings(live);
        // Restart-required keys (db, dbParams, bind, port, thread counts, payload size, ping) never
        // change in a LiveConfig, so they are read once here.
        var config = live.Current;
        Verifier = verifier ?? SchnorrVerifiers.Default;
        Authenticator = new Nip42Authenticator(Verifier);
        _store = EventStore.Open(new StoreOptions
        {
            Path = config.Db,
            MapSize = config.DbParams.Mapsize,
            MaxReaders = config.DbParams.Maxreaders,
        });
        var threads = config.Relay.NumThreads;
        _writer = new Writer(_store, faults);
        _monitors = new ReqMonitor[threads.ReqMonitor];
        for (int i = 0; i < _monitors.Length; i++) _monitors[i] = new ReqMonitor(i, _store, _settings);
        var policy = config.Relay.WritePolicy;
        _writePolicy = new WritePolicyPlugin(policy.Plugin, policy.TimeoutSeconds, new WritePolicyGate(_writer));
        // Reloadable in strfry: a new command restarts the plugin, an empty one turns it off.
        live.Changed += e => _writePolicy.Reconfigure(e.Current.Relay.WritePolicy.Plugin, e.Current.Relay.WritePolicy.TimeoutSeconds);
        _ingesters = new Ingester[threads.Ingester];
        for (int i = 0; i < _ingesters.Length; i++)
            _ingesters[i] = new Ingester(i, _store, _writer, _writePolicy, _settings, Verifier, faults);
        _reqWorkers = new ReqWorker[threads.ReqWorker];
        for (int i = 0; i < _reqWorkers.Length; i++)
            _reqWorkers[i] = new ReqWorker(i, _store, _monitors, _settings);

        _listener = new WebSocketListener(new ListenerOptions
        {
            Bind = config.Relay.Bind,
            Port = config.Relay.Port,
            MaxWebsocketPayloadSize = config.Relay.MaxWebsocketPayloadSize,
            AutoPingSeconds = config.Relay.AutoPingSeconds,
            // strfry: 0 = no cap.
            MaxPendingOutboundBytes = config.Relay.MaxPendingOutboundBytes <= 0 ? long.MaxValue : config.Relay.MaxPendingOutboundBytes,
            RealIpHeader = config.Relay.RealIpHeader,
            EnableTcpKeepalive = config.Relay.EnableTcpKeepalive,
            Nip11Document = _ => _settings.Current.Nip11Document,
            HttpHandler = HandleHttp,
            OnError = e => RelayLog.ErrorLimited($"transport: {e.GetType().Name}: {e.Message}"),
        }, new ClientHandler(this));
        Log = new LogSwitches(config.Relay.Logging);
        live.Changed += e => Log.Apply(e.Current.Relay.Logging);
        _status = new ServerStatus(() => _listener.ConnectionCount, _store);
        _capacity = new StoreCapacity(_store);
        _cron = new Timer(_ => { _writer.RequestPurge(); _capacity.Check(); }, null, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>The config the relay follows; hot reload swaps it (see <see cref="LiveConfig"/>).</summary>
    public LiveConfig Live { get; }

    /// <summary>The current config.</summary>
    public RelayConfig Config => Live.Current;

    internal RelaySettings Settings => _settings.Current;

    /// <summary>relay.logging's flags; <see cref="LogSwitches.Apply"/> them again on a config reload.</summary>
    internal LogSwitches Log { get; }

    /// <summary>How often expired events are purged (strfry: 9 s); tests shorten it.</summary>
    internal TimeSpan CronPeriod { get; init; } = TimeSpan.FromSeconds(9);

    internal Writer Writer => _writer;
    internal WritePolicyPlugin WritePolicy => _writePolicy;
    internal WebSocketListener Listener => _listener;
    public ISchnorrVerifier Verifier { get; }
    internal Nip42Authenticator Authenticator { get; }
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
        Metrics.Register(_status);
        _capacity.Check();
        _started = true;
    }

    /// <summary>
    /// /ready: the store answers, every relay thread runs, and the relay is not draining. A load
    /// balancer stops sending new connections when this turns false; /health stays true while the
    /// process lives.
    /// </summary>
    public bool IsReady => ReadinessProblem() is null;

    /// <summary>Takes the relay out of /ready before a graceful drain (SIGUSR1), so no new clients are sent here.</summary>
    public void MarkDraining() => _draining = true;

    private string? ReadinessProblem()
    {
        if (!_started) return "starting";
        if (Volatile.Read(ref _disposed) != 0) return "stopping";
        if (_draining) return "draining";
        if (!_writer.IsRunning) return "writer thread stopped";
        foreach (var i in _ingesters) if (!i.IsRunning) return "ingester thread stopped";
        foreach (var w in _reqWorkers) if (!w.IsRunning) return "REQ worker thread stopped";
        foreach (var m in _monitors) if (!m.IsRunning) return "monitor thread stopped";
        try
        {
            using var view = _store.BeginRead();
        }
        catch (Exception e) when (e is ObjectDisposedException or LightningDB.LightningException)
        {
            return "database: " + e.Message;
        }
        return null;
    }

    private HttpResponse? HandleHttp(HttpRequestInfo request)
    {
        if (request.Path == "/metrics")
            return HttpResponse.Text(200, Metrics.Render(_status), "text/plain; version=0.0.4; charset=utf-8");
        if (request.Path == "/health")
            return HttpResponse.Text(200, "ok\n");
        if (request.Path == "/ready")
            return ReadinessProblem() is { } problem ? HttpResponse.Text(503, "not ready: " + problem + "\n") : HttpResponse.Text(200, "ready\n");
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        Metrics.Unregister(_status);
        await _cron.DisposeAsync();
        await _listener.DisposeAsync();
        // Drain in pipeline order so every accepted event is written and answered before the store closes.
        foreach (var i in _ingesters) i.Stop();
        // Events still with the plugin get their verdicts (and the accepted ones reach the writer) first.
        _writePolicy.Dispose();
        _writer.Stop();
        foreach (var w in _reqWorkers) w.Stop();
        foreach (var m in _monitors) m.Stop();
        _settings.Dispose();
        _store.Sync();
        _store.Dispose();
    }
}
