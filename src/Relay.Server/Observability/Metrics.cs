using System.Diagnostics.Metrics;
using Relay.Native.Events;
using Relay.Native.Protocol;
using Relay.Server.Transport;

namespace Relay.Server.Observability;

/// <summary>
/// Every metric of the relay, in one place. Names follow strfry's where it has one (so a strfry
/// Grafana board keeps working), relay_* otherwise; they are per process and start at zero.
/// <para>
/// The source of truth is lock-free fields (<see cref="Metric"/>): recording is an interlocked add,
/// whatever is attached. Two exporters read them: the Prometheus text on /metrics (<see cref="Render"/>),
/// and the <see cref="Meter"/> "Relay", whose observable instruments are read when a listener polls
/// (dotnet-counters, dotnet-monitor, OpenTelemetry) and whose histograms are recorded only while a
/// listener is attached. A MeterListener-based aggregator was the other way: it would put a
/// callback, a tag lookup and a boxed label (per kind) on every measurement, and would rebuild
/// the cumulative totals Prometheus needs from deltas, only to give the same numbers.
/// </para>
/// </summary>
internal static class Metrics
{
    public const string MeterName = "Relay";

    // strfry's write path.
    public static readonly MetricCounter EventsWritten = new("strfry_write_events_total", "Events stored.", "{event}");
    public static readonly MetricCounter EventsRejected = new("strfry_write_rejected_total", "Events refused (invalid, superseded, deleted, database full).", "{event}");
    public static readonly MetricCounter EventsDuplicate = new("strfry_write_dups_total", "Duplicate events received.", "{event}");
    public static readonly MetricCounter WriteTimeMicroseconds = new("strfry_write_time_microseconds_total", "Time spent writing batches (commit without fsync, then hand-off to the monitors).", "us");
    public static readonly MetricCounter SyncTimeMicroseconds = new("relay_sync_time_microseconds_total", "Time spent in fsync (mdb_env_sync) after commits.", "us");
    public static readonly MetricSummary WriteBatchSize = new("strfry_write_batch_size", "Events per write transaction.", "{event}");

    // Messages and events.
    public static readonly LabelledCounter ClientMessages = new("nostr_client_messages_total", "Messages received from clients, by verb.", "verb", MessageVerbs.Client, "{message}");
    public static readonly LabelledCounter RelayMessages = new("nostr_relay_messages_total", "Messages sent to clients, by verb.", "verb", MessageVerbs.Relay, "{message}");
    public static readonly KindCounter EventsByKind = new("nostr_events_total", "New events accepted (stored, or delivered live if ephemeral), by kind.", "{event}");
    public static readonly MetricCounter EventsReceived = new("relay_events_received_total", "EVENT messages received.", "{event}");
    public static readonly MetricCounter EventsSent = new("relay_events_sent_total", "EVENT messages sent to subscribers.", "{event}");
    public static readonly MetricCounter ReqsServed = new("relay_reqs_total", "REQs answered up to EOSE.", "{request}");
    public static readonly MetricCounter Notices = new("relay_notices_total", "NOTICE messages sent for malformed or unsupported client messages.", "{message}");
    public static readonly MetricCounter InboxFullWaits = new("relay_inbox_full_waits_total", "Client messages that waited for room in a full relay inbox.", "{message}");

    // NIP-42 (counted by the AUTH code, strfry's names).
    public static readonly MetricCounter AuthChallengesSent = new("strfry_auth_challenges_sent_total", "AUTH challenges sent to clients.", "{challenge}");
    public static readonly MetricCounter AuthSuccess = new("strfry_auth_success_total", "AUTH events accepted.", "{event}");
    public static readonly MetricCounter AuthFailure = new("strfry_auth_failure_total", "AUTH events refused.", "{event}");
    public static readonly MetricGauge AuthenticatedConnections = new("strfry_authenticated_connections_current", "Connections that have authenticated.", "{connection}");

    // Latency.
    public static readonly LatencyHistogram Verify = new("relay_verify_seconds",
        "Signature verification: each VerifyBatch call (scope=batch) and its share per event (scope=event).", "scope", ["batch", "event"]);
    public static readonly LatencyHistogram Commit = new("relay_commit_seconds",
        "Write transaction apply+commit without fsync (phase=write), and the fsync that makes commits durable (phase=fsync).", "phase", ["write", "fsync"]);
    public static readonly LatencyHistogram Query = new("relay_query_seconds",
        "From a REQ worker taking a query to its answer: EOSE for REQ (type=req), the count for COUNT (type=count).", "type", ["req", "count"]);
    public static LatencyHistogram.Series VerifyBatch => Verify[0];
    public static LatencyHistogram.Series VerifyEvent => Verify[1];
    public static LatencyHistogram.Series CommitWrite => Commit[0];
    public static LatencyHistogram.Series CommitFsync => Commit[1];
    public static LatencyHistogram.Series QueryReq => Query[0];
    public static LatencyHistogram.Series QueryCount => Query[1];

    // Capacity.
    public static readonly MetricCounter MapFullRefusals = new("relay_db_map_full_total", "Write batches refused because the LMDB map is full (MDB_MAP_FULL).", "{batch}");

    private static readonly Lock s_serversLock = new();
    private static ServerStatus[] s_servers = [];

    /// <summary>The relays running in this process.</summary>
    public static IReadOnlyList<ServerStatus> Servers => Volatile.Read(ref s_servers);

    private static readonly Metric[] s_all =
    [
        ClientMessages, RelayMessages, EventsByKind,
        EventsWritten, EventsRejected, EventsDuplicate, WriteTimeMicroseconds, WriteBatchSize,
        new ServerGauge("strfry_connections_current", "Open WebSocket connections.", s => s.Connections, "{connection}"),
        new ObservedMetric("strfry_slow_client_terminations_total", "Connections dropped for unread output (relay.maxPendingOutboundBytes).", true,
            () => WebSocketListener.SlowClientTerminations, "{connection}"),
        AuthChallengesSent, AuthSuccess, AuthFailure, AuthenticatedConnections,
        SyncTimeMicroseconds, EventsReceived, EventsSent, ReqsServed, Notices, InboxFullWaits,
        Verify, Commit, Query,
        new ServerGauge("relay_db_map_used_bytes", "Bytes of the LMDB map in use (last page written); MDB_MAP_FULL comes when it reaches the map size.",
            s => s.Store?.UsedBytes ?? 0, "By"),
        new ServerGauge("relay_db_map_size_bytes", "LMDB map size (dbParams.mapsize, or the data file's size if larger).", s => s.Store?.MapSize ?? 0, "By"),
        MapFullRefusals,
        new ObservedMetric("relay_process_allocated_bytes_total", "Bytes allocated by the process (GC.GetTotalAllocatedBytes).", true,
            () => GC.GetTotalAllocatedBytes(precise: true), "By"),
        new ObservedLabelledCounter("relay_gc_collections_total", "Garbage collections, by generation.", "generation", ["0", "1", "2"],
            generation => GC.CollectionCount(generation), "{collection}"),
        new ObservedMetric("relay_gc_heap_bytes", "Managed heap size.", false, () => GC.GetTotalMemory(false), "By"),
        new ObservedMetric("relay_process_working_set_bytes", "Resident set size.", false, () => Environment.WorkingSet, "By"),
    ];

    /// <summary>The relay's System.Diagnostics.Metrics meter: <c>dotnet-counters monitor -n relay --counters Relay</c>.</summary>
    public static readonly Meter Meter = CreateMeter();

    private static Meter CreateMeter()
    {
        var meter = new Meter(MeterName, global::Relay.Server.Relay.RelayServer.Version);
        foreach (var metric in s_all) metric.Publish(meter);
        return meter;
    }

    /// <summary>Every metric, for tests and tools that list them.</summary>
    public static IReadOnlyList<Metric> All => s_all;

    /// <summary>Counts a message received from a client (whether or not it could be handled).</summary>
    public static void CountClientMessage(ClientVerb verb)
    {
        int i = (int)verb;
        ClientMessages.Add((uint)i < (uint)MessageVerbs.Client.Length ? i : 0);
    }

    /// <summary>The verb label of a client message, e.g. "EVENT".</summary>
    public static string ClientVerbLabel(ClientVerb verb)
    {
        int i = (int)verb;
        return (uint)i < (uint)MessageVerbs.Client.Length ? MessageVerbs.Client[i] : "UNKNOWN";
    }

    /// <summary>Counts a message handed to a connection's output.</summary>
    public static void CountRelayMessage(RelayVerb verb) => RelayMessages.Add((int)verb);

    /// <summary>A new event accepted by the writer: counted by kind (<paramref name="packed"/> is its packed record).</summary>
    public static void CountAcceptedEvent(ReadOnlySpan<byte> packed) => EventsByKind.Add(new PackedEvent(packed).Kind);

    /// <summary>One VerifyBatch call over <paramref name="events"/> signatures that took <paramref name="ticks"/>.</summary>
    public static void RecordVerify(long ticks, int events)
    {
        if (events <= 0) return;
        VerifyBatch.Record(ticks);
        VerifyEvent.RecordEach(ticks, events);
    }

    /// <summary>One fsync of the commits before it.</summary>
    public static void RecordFsync(long ticks)
    {
        SyncTimeMicroseconds.Add(ticks * 1_000_000 / System.Diagnostics.Stopwatch.Frequency);
        CommitFsync.Record(ticks);
    }

    public static void Register(ServerStatus server)
    {
        lock (s_serversLock) s_servers = [.. s_servers, server];
    }

    public static void Unregister(ServerStatus server)
    {
        lock (s_serversLock) s_servers = Array.FindAll(s_servers, s => s != server);
    }

    /// <summary>The Prometheus text for /metrics, with <paramref name="server"/>'s own gauges.</summary>
    public static string Render(ServerStatus? server)
    {
        var text = new PrometheusText(server);
        foreach (var metric in s_all) metric.WritePrometheus(text);
        return text.ToString();
    }
}
