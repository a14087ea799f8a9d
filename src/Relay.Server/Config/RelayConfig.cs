using System.Text.Json.Serialization;

namespace Relay.Server.Config;

// The typed configuration. Keys are strfry.conf's (strfry f8a56a8), in camelCase, nested the same
// way, with strfry's defaults except:
//  - `db`: ./data/ here; a strfry-format file that omits `db` gets strfry's ./strfry-db/ (the binder
//    sets it, see ConfigBinder), so a strfry.conf means what it meant to strfry;
//  - relay.info.name/description: Relay's own words; a relay that is not strfry should not call
//    itself "strfry default" in its NIP-11 document.
// ConfigSchema lists every key with its type, range and whether a change needs a restart.
// A published instance is treated as immutable: a reload builds a new one (see LiveConfig).

public sealed class RelayConfig
{
    public const string DefaultDb = "./data/";
    public const string StrfryDefaultDb = "./strfry-db/";

    public string Db { get; set; } = DefaultDb;
    public DbParamsConfig DbParams { get; set; } = new();
    public EventsConfig Events { get; set; } = new();
    public RelaySectionConfig Relay { get; set; } = new();

    /// <summary>The effective configuration as indented JSON (e.g. for a "print config" command).</summary>
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, ConfigJsonContext.Default.RelayConfig);
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
    /// <summary>Always lower-case (the binder lower-cases it and warns).</summary>
    public string RealIpHeader { get; set; } = "";
    public AuthConfig Auth { get; set; } = new();
    public InfoConfig Info { get; set; } = new();
    public int MaxWebsocketPayloadSize { get; set; } = 131072;
    public int MaxReqFilterSize { get; set; } = 200;
    public int AutoPingSeconds { get; set; } = 55;
    public bool EnableTcpKeepalive { get; set; }
    public int QueryTimesliceBudgetMicroseconds { get; set; } = 10000;
    public int MaxFilterLimit { get; set; } = 500;
    public int MaxTagsPerFilter { get; set; } = 3;
    public long MaxFilterLimitCount { get; set; } = 1000000;
    public int MaxSubsPerConnection { get; set; } = 200;
    public long MaxPendingOutboundBytes { get; set; } = 33554432;
    public WritePolicyConfig WritePolicy { get; set; } = new();
    public CompressionConfig Compression { get; set; } = new();
    public LoggingConfig Logging { get; set; } = new();
    public NumThreadsConfig NumThreads { get; set; } = new();
    public NegentropyConfig Negentropy { get; set; } = new();
    public FilterValidationConfig FilterValidation { get; set; } = new();
    public LimitsConfig Limits { get; set; } = new();
    public AccessConfig Access { get; set; } = new();
}

public sealed class AuthConfig
{
    private string _restrictedReadKinds = "4, 1059";
    private int[] _restrictedReadKindList = [4, 1059];

    public bool Enabled { get; set; } = true;
    /// <summary>The relay's public URL (wss://...), needed to check the relay tag of AUTH events.</summary>
    public string ServiceUrl { get; set; } = "";

    /// <summary>strfry's comma-separated text, e.g. "4, 1059"; <see cref="RestrictedReadKindList"/> is the parsed form.</summary>
    public string RestrictedReadKinds
    {
        get => _restrictedReadKinds;
        set { _restrictedReadKindList = KindList.Parse(value, out string? error) ?? throw new ArgumentException(error, nameof(value)); _restrictedReadKinds = value; }
    }

    [JsonIgnore] public IReadOnlyList<int> RestrictedReadKindList => _restrictedReadKindList;
    public bool RestrictReadToInvolvedPubkey { get; set; } = true;
}

public sealed class InfoConfig
{
    public string Name { get; set; } = "Relay";
    public string Description { get; set; } = "A Nostr relay (Relay, C#).";
    /// <summary>Operator's pubkey: 64 lowercase hex characters or empty (an npub in the file is converted).</summary>
    public string Pubkey { get; set; } = "";
    /// <summary>The relay's own pubkey (NIP-11 <c>self</c>): hex or empty, like <see cref="Pubkey"/>.</summary>
    public string Self { get; set; } = "";
    public string Contact { get; set; } = "";
    public string Icon { get; set; } = "";
    public string Banner { get; set; } = "";
    /// <summary>Privacy policy URL (NIP-11 <c>privacy_policy</c>).</summary>
    public string Privacy { get; set; } = "";
    /// <summary>Terms of service URL (NIP-11 <c>terms_of_service</c>).</summary>
    public string Terms { get; set; } = "";
    /// <summary>Overrides the advertised supported_nips when non-empty (JSON array text, like strfry).</summary>
    public string Nips { get; set; } = "";
}

public sealed class WritePolicyConfig
{
    /// <summary>Command of the write-policy plugin (run with /bin/sh -c); empty = none.</summary>
    public string Plugin { get; set; } = "";
    public int TimeoutSeconds { get; set; } = 10;
}

public sealed class CompressionConfig
{
    public bool Enabled { get; set; } = true;
    public bool SlidingWindow { get; set; } = true;
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

public sealed class NumThreadsConfig
{
    public int Ingester { get; set; } = 3;
    public int ReqWorker { get; set; } = 3;
    public int ReqMonitor { get; set; } = 3;
    public int Negentropy { get; set; } = 2;
}

public sealed class NegentropyConfig
{
    public bool Enabled { get; set; } = true;
    public long MaxSyncEvents { get; set; } = 1000000;
}

public sealed class FilterValidationConfig
{
    private string _allowedKinds = "";
    private int[] _allowedKindList = [];

    public bool Enabled { get; set; }
    public int MaxFiltersPerReq { get; set; } = 3;
    public int MinFiltersPerReq { get; set; } = 1;
    public int MaxKindsPerFilter { get; set; } = 3;

    /// <summary>strfry's comma-separated text; empty = every kind. <see cref="AllowedKindList"/> is the parsed form.</summary>
    public string AllowedKinds
    {
        get => _allowedKinds;
        set { _allowedKindList = KindList.Parse(value, out string? error) ?? throw new ArgumentException(error, nameof(value)); _allowedKinds = value; }
    }

    [JsonIgnore] public IReadOnlyList<int> AllowedKindList => _allowedKindList;
    public bool RequireAuthorOrTag { get; set; }
}

/// <summary>Relay's own write limits (nostream's, in strfry's style); every one is off by default.</summary>
public sealed class LimitsConfig
{
    /// <summary>NIP-13: least number of leading zero bits of an event id; 0 = no proof of work asked.</summary>
    public int MinPowDifficulty { get; set; }
    /// <summary>Kinds and ranges accepted, e.g. "0-3, 7, 30000-39999"; empty = every kind.</summary>
    public string AllowedKinds { get; set; } = "";
    /// <summary>Kinds and ranges refused, like <see cref="AllowedKinds"/>.</summary>
    public string DeniedKinds { get; set; } = "";
    /// <summary>Characters of content (UTF-16 code units, as clients count); 0 = bounded by events.maxEventSize only.</summary>
    public int MaxContentLength { get; set; }
}

/// <summary>Private relay mode: who may read and write, by pubkey.</summary>
public sealed class AccessConfig
{
    /// <summary>REQ and COUNT only for connections authenticated (NIP-42) as a listed pubkey.</summary>
    public bool ReadRestricted { get; set; }
    /// <summary>EVENTs only from listed authors.</summary>
    public bool WriteRestricted { get; set; }
    /// <summary>Pubkeys that may read (writers may too): comma-separated lowercase hex (npubs in the file are converted).</summary>
    public string ReadPubkeys { get; set; } = "";
    /// <summary>Pubkeys that may write (and read): comma-separated lowercase hex.</summary>
    public string WritePubkeys { get; set; } = "";
    /// <summary>A file of npub/hex lines (# comments) that may read and write, followed while the relay runs; empty = none.</summary>
    public string PubkeysFile { get; set; } = "";
    /// <summary>Authors whose events are refused: comma-separated lowercase hex.</summary>
    public string DeniedPubkeys { get; set; } = "";
    /// <summary>Also accept any author's event from a connection authenticated as a listed writer.</summary>
    public bool WriteByAuthenticated { get; set; }
}
