using System.Text;

namespace Relay.Server.Relay;

/// <summary>A process-wide counter; Add is one interlocked instruction, nothing allocated.</summary>
internal sealed class MetricCounter(string name, string help)
{
    private long _value;
    public string Name { get; } = name;
    public string Help { get; } = help;
    public long Value => Volatile.Read(ref _value);
    public void Add(long delta) => Interlocked.Add(ref _value, delta);
}

/// <summary>Count and sum of observations (a Prometheus summary without quantiles).</summary>
internal sealed class MetricSummary(string name, string help)
{
    private long _count, _sum;
    public string Name { get; } = name;
    public string Help { get; } = help;
    public void Record(long value) { Interlocked.Increment(ref _count); Interlocked.Add(ref _sum, value); }
    public long Count => Volatile.Read(ref _count);
    public long Sum => Volatile.Read(ref _sum);
}

/// <summary>
/// The relay's metrics, served as Prometheus text on /metrics. Names follow strfry's where it has
/// one, so existing dashboards keep working; process allocation and GC figures let a load run read
/// allocations per event.
/// </summary>
internal static class Metrics
{
    public static readonly MetricCounter EventsWritten = new("strfry_write_events_total", "Events stored.");
    public static readonly MetricCounter EventsRejected = new("strfry_write_rejected_total", "Events refused (invalid, superseded, deleted).");
    public static readonly MetricCounter EventsDuplicate = new("strfry_write_dups_total", "Duplicate events received.");
    public static readonly MetricCounter WriteTimeMicroseconds = new("strfry_write_time_microseconds_total", "Time spent writing batches, including fsync.");
    public static readonly MetricCounter SyncTimeMicroseconds = new("relay_sync_time_microseconds_total", "Time spent in fsync (mdb_env_sync) after commits.");
    public static readonly MetricSummary WriteBatchSize = new("strfry_write_batch_size", "Events per write transaction.");
    public static readonly MetricCounter EventsReceived = new("relay_events_received_total", "EVENT messages received.");
    public static readonly MetricCounter EventsSent = new("relay_events_sent_total", "EVENT messages sent to subscribers.");
    public static readonly MetricCounter ReqsServed = new("relay_reqs_total", "REQs answered up to EOSE.");
    public static readonly MetricCounter ClientMessages = new("nostr_client_messages_total", "Messages received from clients.");
    public static readonly MetricCounter Notices = new("relay_notices_total", "NOTICE messages sent.");
    public static readonly MetricCounter InboxFullWaits = new("relay_inbox_full_waits_total", "Client messages that waited for room in a full relay inbox.");

    private static readonly MetricCounter[] s_counters =
        [EventsWritten, EventsRejected, EventsDuplicate, WriteTimeMicroseconds, SyncTimeMicroseconds, EventsReceived, EventsSent, ReqsServed, ClientMessages, Notices, InboxFullWaits];

    public static string Render(int connections, long slowClientTerminations)
    {
        var sb = new StringBuilder(2048);
        foreach (var c in s_counters)
        {
            sb.Append("# HELP ").Append(c.Name).Append(' ').Append(c.Help).Append('\n');
            sb.Append("# TYPE ").Append(c.Name).Append(" counter\n");
            sb.Append(c.Name).Append(' ').Append(c.Value).Append('\n');
        }
        sb.Append("# TYPE ").Append(WriteBatchSize.Name).Append(" summary\n");
        sb.Append(WriteBatchSize.Name).Append("_count ").Append(WriteBatchSize.Count).Append('\n');
        sb.Append(WriteBatchSize.Name).Append("_sum ").Append(WriteBatchSize.Sum).Append('\n');
        Gauge(sb, "strfry_connections_current", "Open WebSocket connections.", connections);
        Counter(sb, "strfry_slow_client_terminations_total", "Connections dropped for unread output.", slowClientTerminations);
        Counter(sb, "relay_process_allocated_bytes_total", "Bytes allocated by the process (GC.GetTotalAllocatedBytes).", GC.GetTotalAllocatedBytes(false));
        for (int gen = 0; gen <= 2; gen++)
        {
            sb.Append("relay_gc_collections_total{generation=\"").Append(gen).Append("\"} ").Append(GC.CollectionCount(gen)).Append('\n');
        }
        Gauge(sb, "relay_gc_heap_bytes", "Managed heap size.", GC.GetTotalMemory(false));
        Gauge(sb, "relay_process_working_set_bytes", "Resident set size.", Environment.WorkingSet);
        return sb.ToString();
    }

    private static void Gauge(StringBuilder sb, string name, string help, long value) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(" gauge\n")
          .Append(name).Append(' ').Append(value).Append('\n');

    private static void Counter(StringBuilder sb, string name, string help, long value) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(" counter\n")
          .Append(name).Append(' ').Append(value).Append('\n');
}

/// <summary>Log lines to stderr, timestamped; the relay logs little and never on the hot path.</summary>
internal static class RelayLog
{
    public static volatile bool Quiet;
    // 0 = errors only, 1 = warnings, 2 = info (default), 3 = debug.
    private static volatile int s_level = 2;

    public static bool DebugEnabled => s_level >= 3 && !Quiet;

    public static void Debug(string message) { if (DebugEnabled) Write("DEBUG", message); }
    public static void Info(string message) { if (!Quiet && s_level >= 2) Write("INFO", message); }
    public static void Warn(string message) { if (!Quiet && s_level >= 1) Write("WARN", message); }
    public static void Error(string message) => Write("ERROR", message);

    /// <summary>strfry's --verbosity: ERROR, WARN, INFO, or a number (loguru's: 0 info, 1+ debug, negative less).</summary>
    public static bool TrySetVerbosity(string level)
    {
        switch (level.Trim().ToUpperInvariant())
        {
            case "ERROR" or "FATAL": s_level = 0; return true;
            case "WARN" or "WARNING": s_level = 1; return true;
            case "INFO": s_level = 2; return true;
            case "DEBUG": s_level = 3; return true;
        }
        if (!int.TryParse(level, out int n)) return false;
        s_level = n >= 1 ? 3 : n == 0 ? 2 : n == -1 ? 1 : 0;
        return true;
    }

    // Faults that a hostile or broken peer can trigger at will (transport exceptions) must not flood
    // the log: at most this many lines per window, then one line saying how many were dropped.
    private const int LimitedPerWindow = 20;
    private static readonly long s_windowTicks = TimeSpan.FromSeconds(10).Ticks;
    private static readonly Lock s_limitLock = new();
    private static long s_windowStart;
    private static int s_inWindow, s_suppressed;

    /// <summary>An error line, unless too many were written in the last few seconds (then counted and summarized).</summary>
    public static void ErrorLimited(string message)
    {
        int dropped = 0;
        lock (s_limitLock)
        {
            long now = DateTime.UtcNow.Ticks;
            if (now - s_windowStart >= s_windowTicks)
            {
                dropped = s_suppressed;
                s_windowStart = now;
                s_inWindow = 0;
                s_suppressed = 0;
            }
            if (++s_inWindow > LimitedPerWindow)
            {
                s_suppressed++;
                return;
            }
        }
        if (dropped > 0) Write("ERROR", $"{dropped} similar errors not logged in the previous 10 s");
        Write("ERROR", message);
    }

    /// <summary>Tests capture lines here instead of stderr.</summary>
    internal static Action<string>? Sink;

    internal static void ResetLimiter(bool expireWindow = false)
    {
        lock (s_limitLock)
        {
            if (expireWindow) s_windowStart = 0;
            else { s_windowStart = DateTime.UtcNow.Ticks; s_inWindow = 0; s_suppressed = 0; }
        }
    }

    private static void Write(string level, string message)
    {
        string line = $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {level} {message}";
        if (Sink is { } sink) sink(line);
        else Console.Error.WriteLine(line);
    }
}
