namespace Relay.Server.Config;

// The typed configuration, loaded once at startup. Keys are strfry.conf's, in camelCase, nested the
// same way, with strfry's defaults (except `db`, which defaults to ./data/ here).

public sealed class RelayConfig
{
    public string Db { get; set; } = "./data/";
    public DbParamsConfig DbParams { get; set; } = new();
    public EventsConfig Events { get; set; } = new();
    public RelaySectionConfig Relay { get; set; } = new();
}

public sealed class DbParamsConfig
{
    public int Maxreaders { get; set; } = 256;
    public long Mapsize { get; set; } = 10995116277760;
    public bool NoReadAhead { get; set; }
}

public sealed class EventsConfig
{
    public int MaxEventSize { get; set; } = 65536;
    public long RejectEventsNewerThanSeconds { get; set; } = 900;
    public long RejectEventsOlderThanSeconds { get; set; } = 94608000;
    public long RejectEphemeralEventsOlderThanSeconds { get; set; } = 60;
    public long EphemeralEventsLifetimeSeconds { get; set; } = 300;
    public int MaxNumTags { get; set; } = 2000;
    public int MaxTagValSize { get; set; } = 1024;
}

public sealed class RelaySectionConfig
{
    public string Bind { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 7777;
    public long Nofiles { get; set; } = 524288;
    public string RealIpHeader { get; set; } = "";
    public InfoConfig Info { get; set; } = new();
    public int MaxWebsocketPayloadSize { get; set; } = 131072;
    public int AutoPingSeconds { get; set; } = 55;
    public bool EnableTcpKeepalive { get; set; }
    public int QueryTimesliceBudgetMicroseconds { get; set; } = 10000;
    public int MaxFilterLimit { get; set; } = 500;
    public int MaxSubsPerConnection { get; set; } = 200;
    public int MaxReqFilterSize { get; set; } = 200;
    public int MaxTagsPerFilter { get; set; } = 3;
    public long MaxFilterLimitCount { get; set; } = 1000000;
    public long MaxPendingOutboundBytes { get; set; } = 33554432;
    public LoggingConfig Logging { get; set; } = new();
    public NumThreadsConfig NumThreads { get; set; } = new();
}

/// <summary>relay.logging: strfry's flags (reloadable), plus the line format.</summary>
public sealed class LoggingConfig
{
    public bool DumpInAll { get; set; }
    public bool DumpInEvents { get; set; }
    public bool DumpInReqs { get; set; }
    public bool DbScanPerf { get; set; }
    public bool InvalidEvents { get; set; } = true;
    /// <summary>"text" (logfmt: ts=... level=... msg=... key=value) or "json" (one object per line). Not strfry's; restart required.</summary>
    public string Format { get; set; } = "text";
}

public sealed class InfoConfig
{
    public string Name { get; set; } = "Relay";
    public string Description { get; set; } = "A Nostr relay (Relay, C#).";
    public string Pubkey { get; set; } = "";
    public string Contact { get; set; } = "";
    public string Icon { get; set; } = "";
    public string Banner { get; set; } = "";
    /// <summary>Overrides the advertised supported_nips when non-empty (JSON array text, like strfry).</summary>
    public string Nips { get; set; } = "";
}

public sealed class NumThreadsConfig
{
    public int Ingester { get; set; } = 3;
    public int ReqWorker { get; set; } = 3;
    public int ReqMonitor { get; set; } = 3;
    public int Negentropy { get; set; } = 2;
}
