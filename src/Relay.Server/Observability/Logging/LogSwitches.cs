using System.Text;
using Relay.Native.Events;
using Relay.Native.Protocol;
using Relay.Server.Config;
using Relay.Server.Relay;

namespace Relay.Server.Observability.Logging;

/// <summary>
/// strfry's relay.logging flags for one relay, and the records they turn on: incoming messages
/// (dumpInAll, dumpInEvents, dumpInReqs), the reason each invalid event was refused (invalidEvents),
/// and per-REQ scan figures (dbScanPerf). Callers test the flag first (a field read); everything
/// the record needs (strings of ids, addresses, payloads) is made only when it is on. The flags
/// are reloadable: <see cref="Apply"/> may run while the relay serves.
/// </summary>
internal sealed class LogSwitches
{
    /// <summary>Everything off (sessions made outside a relay, e.g. in tests).</summary>
    public static readonly LogSwitches Off = new();

    private volatile bool _dumpInAll, _dumpInEvents, _dumpInReqs, _dbScanPerf, _invalidEvents;
    private volatile bool _anyDump;

    public LogSwitches() { }

    public LogSwitches(LoggingConfig config) => Apply(config);

    /// <summary>True when some incoming messages are dumped: the receive loop then calls <see cref="Incoming"/>.</summary>
    public bool DumpsIncoming => _anyDump;
    public bool InvalidEvents => _invalidEvents;
    public bool DbScanPerf => _dbScanPerf;

    public void Apply(LoggingConfig config)
    {
        _dumpInAll = config.DumpInAll;
        _dumpInEvents = config.DumpInEvents;
        _dumpInReqs = config.DumpInReqs;
        _dbScanPerf = config.DbScanPerf;
        _invalidEvents = config.InvalidEvents;
        _anyDump = config.DumpInAll || config.DumpInEvents || config.DumpInReqs;
    }

    /// <summary>Logs an incoming message if a dump flag covers its verb (dumpInEvents: EVENT; dumpInReqs: REQ, COUNT, CLOSE; dumpInAll: all).</summary>
    public void Incoming(ClientSession session, ClientVerb verb, ReadOnlySpan<byte> message)
    {
        bool dump = _dumpInAll
            || (_dumpInEvents && verb == ClientVerb.Event)
            || (_dumpInReqs && verb is ClientVerb.Req or ClientVerb.Count or ClientVerb.Close);
        if (!dump) return;
        RelayLog.Info("dumpIn",
            new LogField("conn", session.Id),
            new LogField("ip", session.Connection.RemoteAddress.ToString()),
            new LogField("verb", Metrics.ClientVerbLabel(verb)),
            new LogField("payload", Encoding.UTF8.GetString(message)));
    }

    /// <summary>invalidEvents: why an event was refused before it reached the writer.</summary>
    public void InvalidEvent(ClientSession session, in ParsedEventHeader header, string reason)
    {
        if (!_invalidEvents) return;
        s_invalidLimiter.Write(LogLevel.Info, "rejected invalid event",
        [
            new LogField("conn", session.Id),
            new LogField("ip", session.Connection.RemoteAddress.ToString()),
            new LogField("id", header.IdValid ? Convert.ToHexStringLower(header.Id.Span) : ""),
            new LogField("reason", reason),
        ]);
    }

    // A client can send invalid events as fast as it likes; the log must not grow as fast.
    private static readonly LogThrottle s_invalidLimiter = new();

    /// <summary>dbScanPerf: what answering one REQ or COUNT cost.</summary>
    public void QueryDone(ClientSession session, ReadOnlySpan<byte> subIdRaw, bool isCount, QueryFigures figures)
    {
        if (!_dbScanPerf) return;
        RelayLog.Info(isCount ? "COUNT scan" : "REQ scan",
            new LogField("conn", session.Id),
            new LogField("sub", Encoding.UTF8.GetString(subIdRaw)),
            new LogField("index", figures.Indexes),
            new LogField("time_us", figures.TotalMicroseconds),
            new LogField("scan_us", figures.ScanMicroseconds),
            new LogField("slices", figures.Slices),
            new LogField("work", figures.Work),
            new LogField(isCount ? "count" : "sent", figures.Results));
    }
}

/// <summary>The figures dbScanPerf logs for one query.</summary>
internal readonly record struct QueryFigures(string Indexes, long TotalMicroseconds, long ScanMicroseconds, int Slices, long Work, long Results);
