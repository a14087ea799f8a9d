using System.Net;
using System.Text.Json.Nodes;

namespace Relay.Server.Config;

/// <summary>
/// Every config key Relay knows: strfry.conf's keys at f8a56a8 (restart-required exactly where strfry
/// marks them noReload), Relay's own keys, plus keys of older strfry versions that are accepted and
/// ignored. A key in none of the lists is an error.
/// </summary>
public static class ConfigSchema
{
    private const bool Restart = true;
    private const long MaxInt = int.MaxValue;
    private const long MaxLong = long.MaxValue;

    /// <summary>strfry.conf's keys, exactly (defaults and reload flags as strfry's golpe.yaml has them, but for <see cref="RelayConfig"/>'s three).</summary>
    public static IReadOnlyList<ConfigKey> StrfryKeys { get; } =
    [
        new StringKey("db", c => c.Db, (c, v) => c.Db = v, Restart, CheckDb, expectation: "a directory path"),

        new IntegerKey("dbParams.maxreaders", c => c.DbParams.Maxreaders, (c, v) => c.DbParams.Maxreaders = (int)v, 1, MaxInt, Restart),
        new IntegerKey("dbParams.mapsize", c => c.DbParams.Mapsize, (c, v) => c.DbParams.Mapsize = v, 1 << 20, MaxLong, Restart),
        new BooleanKey("dbParams.noReadAhead", c => c.DbParams.NoReadAhead, (c, v) => c.DbParams.NoReadAhead = v, Restart),

        new IntegerKey("events.maxEventSize", c => c.Events.MaxEventSize, (c, v) => c.Events.MaxEventSize = (int)v, 256, MaxInt, false),
        new IntegerKey("events.rejectEventsNewerThanSeconds", c => c.Events.RejectEventsNewerThanSeconds, (c, v) => c.Events.RejectEventsNewerThanSeconds = v, 0, MaxLong, false),
        new IntegerKey("events.rejectEventsOlderThanSeconds", c => c.Events.RejectEventsOlderThanSeconds, (c, v) => c.Events.RejectEventsOlderThanSeconds = v, 0, MaxLong, false),
        new IntegerKey("events.rejectEphemeralEventsOlderThanSeconds", c => c.Events.RejectEphemeralEventsOlderThanSeconds, (c, v) => c.Events.RejectEphemeralEventsOlderThanSeconds = v, 0, MaxLong, false),
        new IntegerKey("events.ephemeralEventsLifetimeSeconds", c => c.Events.EphemeralEventsLifetimeSeconds, (c, v) => c.Events.EphemeralEventsLifetimeSeconds = v, 0, MaxLong, false),
        new IntegerKey("events.maxNumTags", c => c.Events.MaxNumTags, (c, v) => c.Events.MaxNumTags = (int)v, 0, 65535, false),
        new IntegerKey("events.maxTagValSize", c => c.Events.MaxTagValSize, (c, v) => c.Events.MaxTagValSize = (int)v, 1, 65535, false),

        new StringKey("relay.bind", c => c.Relay.Bind, (c, v) => c.Relay.Bind = v, Restart, CheckBind, expectation: "an IP address such as 127.0.0.1 or 0.0.0.0"),
        new IntegerKey("relay.port", c => c.Relay.Port, (c, v) => c.Relay.Port = (int)v, 0, 65535, Restart),
        new IntegerKey("relay.nofiles", c => c.Relay.Nofiles, (c, v) => c.Relay.Nofiles = v, 0, MaxLong, Restart),
        new StringKey("relay.realIpHeader", c => c.Relay.RealIpHeader, (c, v) => c.Relay.RealIpHeader = v, false, CheckRealIpHeader),

        new BooleanKey("relay.auth.enabled", c => c.Relay.Auth.Enabled, (c, v) => c.Relay.Auth.Enabled = v, false),
        new StringKey("relay.auth.serviceUrl", c => c.Relay.Auth.ServiceUrl, (c, v) => c.Relay.Auth.ServiceUrl = v, false, CheckServiceUrl),
        new StringKey("relay.auth.restrictedReadKinds", c => c.Relay.Auth.RestrictedReadKinds, (c, v) => c.Relay.Auth.RestrictedReadKinds = v, false,
            CheckKinds, KindsFromArray, KindsExpectation),
        new BooleanKey("relay.auth.restrictReadToInvolvedPubkey", c => c.Relay.Auth.RestrictReadToInvolvedPubkey, (c, v) => c.Relay.Auth.RestrictReadToInvolvedPubkey = v, false),

        new StringKey("relay.info.name", c => c.Relay.Info.Name, (c, v) => c.Relay.Info.Name = v, false),
        new StringKey("relay.info.description", c => c.Relay.Info.Description, (c, v) => c.Relay.Info.Description = v, false),
        new StringKey("relay.info.pubkey", c => c.Relay.Info.Pubkey, (c, v) => c.Relay.Info.Pubkey = v, false, CheckPubkey, expectation: PubkeyExpectation),
        new StringKey("relay.info.self", c => c.Relay.Info.Self, (c, v) => c.Relay.Info.Self = v, false, CheckPubkey, expectation: PubkeyExpectation),
        new StringKey("relay.info.contact", c => c.Relay.Info.Contact, (c, v) => c.Relay.Info.Contact = v, false, CheckUnset),
        new StringKey("relay.info.icon", c => c.Relay.Info.Icon, (c, v) => c.Relay.Info.Icon = v, false),
        new StringKey("relay.info.banner", c => c.Relay.Info.Banner, (c, v) => c.Relay.Info.Banner = v, false),
        new StringKey("relay.info.privacy", c => c.Relay.Info.Privacy, (c, v) => c.Relay.Info.Privacy = v, false),
        new StringKey("relay.info.terms", c => c.Relay.Info.Terms, (c, v) => c.Relay.Info.Terms = v, false),
        new StringKey("relay.info.nips", c => c.Relay.Info.Nips, (c, v) => c.Relay.Info.Nips = v, false, CheckNips, NipsFromArray,
            "a JSON array of NIP numbers in a string, e.g. \"[1, 11]\", or empty"),

        new IntegerKey("relay.maxWebsocketPayloadSize", c => c.Relay.MaxWebsocketPayloadSize, (c, v) => c.Relay.MaxWebsocketPayloadSize = (int)v, 1024, MaxInt, Restart),
        new IntegerKey("relay.maxReqFilterSize", c => c.Relay.MaxReqFilterSize, (c, v) => c.Relay.MaxReqFilterSize = (int)v, 1, MaxInt, false),
        new IntegerKey("relay.autoPingSeconds", c => c.Relay.AutoPingSeconds, (c, v) => c.Relay.AutoPingSeconds = (int)v, 0, MaxInt, Restart),
        new BooleanKey("relay.enableTcpKeepalive", c => c.Relay.EnableTcpKeepalive, (c, v) => c.Relay.EnableTcpKeepalive = v, false),
        new IntegerKey("relay.queryTimesliceBudgetMicroseconds", c => c.Relay.QueryTimesliceBudgetMicroseconds, (c, v) => c.Relay.QueryTimesliceBudgetMicroseconds = (int)v, 100, MaxInt, false),
        new IntegerKey("relay.maxFilterLimit", c => c.Relay.MaxFilterLimit, (c, v) => c.Relay.MaxFilterLimit = (int)v, 1, MaxInt, false),
        new IntegerKey("relay.maxTagsPerFilter", c => c.Relay.MaxTagsPerFilter, (c, v) => c.Relay.MaxTagsPerFilter = (int)v, 1, MaxInt, false),
        new IntegerKey("relay.maxFilterLimitCount", c => c.Relay.MaxFilterLimitCount, (c, v) => c.Relay.MaxFilterLimitCount = v, 0, MaxLong, false),
        new IntegerKey("relay.maxSubsPerConnection", c => c.Relay.MaxSubsPerConnection, (c, v) => c.Relay.MaxSubsPerConnection = (int)v, 1, MaxInt, false),
        // strfry: 0 = unlimited.
        new IntegerKey("relay.maxPendingOutboundBytes", c => c.Relay.MaxPendingOutboundBytes, (c, v) => c.Relay.MaxPendingOutboundBytes = v, 0, MaxLong, false),

        new StringKey("relay.writePolicy.plugin", c => c.Relay.WritePolicy.Plugin, (c, v) => c.Relay.WritePolicy.Plugin = v, false),
        new IntegerKey("relay.writePolicy.timeoutSeconds", c => c.Relay.WritePolicy.TimeoutSeconds, (c, v) => c.Relay.WritePolicy.TimeoutSeconds = (int)v, 1, 86400, false),

        new BooleanKey("relay.compression.enabled", c => c.Relay.Compression.Enabled, (c, v) => c.Relay.Compression.Enabled = v, Restart),
        new BooleanKey("relay.compression.slidingWindow", c => c.Relay.Compression.SlidingWindow, (c, v) => c.Relay.Compression.SlidingWindow = v, Restart),

        new BooleanKey("relay.logging.dumpInAll", c => c.Relay.Logging.DumpInAll, (c, v) => c.Relay.Logging.DumpInAll = v, false),
        new BooleanKey("relay.logging.dumpInEvents", c => c.Relay.Logging.DumpInEvents, (c, v) => c.Relay.Logging.DumpInEvents = v, false),
        new BooleanKey("relay.logging.dumpInReqs", c => c.Relay.Logging.DumpInReqs, (c, v) => c.Relay.Logging.DumpInReqs = v, false),
        new BooleanKey("relay.logging.dbScanPerf", c => c.Relay.Logging.DbScanPerf, (c, v) => c.Relay.Logging.DbScanPerf = v, false),
        new BooleanKey("relay.logging.invalidEvents", c => c.Relay.Logging.InvalidEvents, (c, v) => c.Relay.Logging.InvalidEvents = v, false),

        new IntegerKey("relay.numThreads.ingester", c => c.Relay.NumThreads.Ingester, (c, v) => c.Relay.NumThreads.Ingester = (int)v, 1, 64, Restart),
        new IntegerKey("relay.numThreads.reqWorker", c => c.Relay.NumThreads.ReqWorker, (c, v) => c.Relay.NumThreads.ReqWorker = (int)v, 1, 64, Restart),
        new IntegerKey("relay.numThreads.reqMonitor", c => c.Relay.NumThreads.ReqMonitor, (c, v) => c.Relay.NumThreads.ReqMonitor = (int)v, 1, 64, Restart),
        new IntegerKey("relay.numThreads.negentropy", c => c.Relay.NumThreads.Negentropy, (c, v) => c.Relay.NumThreads.Negentropy = (int)v, 1, 64, Restart),

        new BooleanKey("relay.negentropy.enabled", c => c.Relay.Negentropy.Enabled, (c, v) => c.Relay.Negentropy.Enabled = v, false),
        new IntegerKey("relay.negentropy.maxSyncEvents", c => c.Relay.Negentropy.MaxSyncEvents, (c, v) => c.Relay.Negentropy.MaxSyncEvents = v, 0, MaxLong, false),

        new BooleanKey("relay.filterValidation.enabled", c => c.Relay.FilterValidation.Enabled, (c, v) => c.Relay.FilterValidation.Enabled = v, false),
        new IntegerKey("relay.filterValidation.maxFiltersPerReq", c => c.Relay.FilterValidation.MaxFiltersPerReq, (c, v) => c.Relay.FilterValidation.MaxFiltersPerReq = (int)v, 1, MaxInt, false),
        new IntegerKey("relay.filterValidation.minFiltersPerReq", c => c.Relay.FilterValidation.MinFiltersPerReq, (c, v) => c.Relay.FilterValidation.MinFiltersPerReq = (int)v, 0, MaxInt, false),
        new IntegerKey("relay.filterValidation.maxKindsPerFilter", c => c.Relay.FilterValidation.MaxKindsPerFilter, (c, v) => c.Relay.FilterValidation.MaxKindsPerFilter = (int)v, 0, MaxInt, false),
        new StringKey("relay.filterValidation.allowedKinds", c => c.Relay.FilterValidation.AllowedKinds, (c, v) => c.Relay.FilterValidation.AllowedKinds = v, false,
            CheckKinds, KindsFromArray, KindsExpectation),
        new BooleanKey("relay.filterValidation.requireAuthorOrTag", c => c.Relay.FilterValidation.RequireAuthorOrTag, (c, v) => c.Relay.FilterValidation.RequireAuthorOrTag = v, false),
    ];

    /// <summary>Keys Relay adds in strfry's style (strfry refuses them: a file using them is Relay's).</summary>
    public static IReadOnlyList<ConfigKey> RelayKeys { get; } =
    [
        // The line format of the log.
        new StringKey("relay.logging.format", c => c.Relay.Logging.Format, (c, v) => c.Relay.Logging.Format = v, Restart, CheckLogFormat,
            expectation: "\"text\" or \"json\""),

        new IntegerKey("relay.limits.minPowDifficulty", c => c.Relay.Limits.MinPowDifficulty, (c, v) => c.Relay.Limits.MinPowDifficulty = (int)v, 0, 256, false),
        new StringKey("relay.limits.allowedKinds", c => c.Relay.Limits.AllowedKinds, (c, v) => c.Relay.Limits.AllowedKinds = v, false,
            CheckKindRanges, KindRangesFromArray, KindRangesExpectation),
        new StringKey("relay.limits.deniedKinds", c => c.Relay.Limits.DeniedKinds, (c, v) => c.Relay.Limits.DeniedKinds = v, false,
            CheckKindRanges, KindRangesFromArray, KindRangesExpectation),
        new IntegerKey("relay.limits.maxContentLength", c => c.Relay.Limits.MaxContentLength, (c, v) => c.Relay.Limits.MaxContentLength = (int)v, 0, MaxInt, false),

        new BooleanKey("relay.access.readRestricted", c => c.Relay.Access.ReadRestricted, (c, v) => c.Relay.Access.ReadRestricted = v, false),
        new BooleanKey("relay.access.writeRestricted", c => c.Relay.Access.WriteRestricted, (c, v) => c.Relay.Access.WriteRestricted = v, false),
        new StringKey("relay.access.readPubkeys", c => c.Relay.Access.ReadPubkeys, (c, v) => c.Relay.Access.ReadPubkeys = v, false,
            CheckPubkeyList, PubkeysFromArray, PubkeyListExpectation),
        new StringKey("relay.access.writePubkeys", c => c.Relay.Access.WritePubkeys, (c, v) => c.Relay.Access.WritePubkeys = v, false,
            CheckPubkeyList, PubkeysFromArray, PubkeyListExpectation),
        new StringKey("relay.access.pubkeysFile", c => c.Relay.Access.PubkeysFile, (c, v) => c.Relay.Access.PubkeysFile = v, false,
            expectation: "a file path, or empty"),
        new StringKey("relay.access.deniedPubkeys", c => c.Relay.Access.DeniedPubkeys, (c, v) => c.Relay.Access.DeniedPubkeys = v, false,
            CheckPubkeyList, PubkeysFromArray, PubkeyListExpectation),
        new BooleanKey("relay.access.writeByAuthenticated", c => c.Relay.Access.WriteByAuthenticated, (c, v) => c.Relay.Access.WriteByAuthenticated = v, false),
    ];

    /// <summary>Every key: strfry's, then Relay's own.</summary>
    public static IReadOnlyList<ConfigKey> Keys { get; } = [.. StrfryKeys, .. RelayKeys];

    /// <summary>The paths of <see cref="RelayKeys"/> (a strfry.conf never sets them; their defaults apply).</summary>
    public static IReadOnlySet<string> RelayOnly { get; } = RelayKeys.Select(k => k.Path).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Keys that mean nothing to Relay by design. Set in a file they are named in the one startup
    /// warning, never an error. Current strfry keys are still type-checked (so the file stays valid
    /// for strfry) and named only when set to something other than the default; keys of older strfry
    /// versions take any value and are always named.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Ignored { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["events.ephemeralEventsLifetimeSeconds"] = "Relay never stores ephemeral events; it only delivers them live",
        // Keys of older strfry versions (strfry's history of golpe.yaml); any value is accepted.
        ["relay.numThreads.yesstr"] = "the yesstr protocol was removed from strfry",
        ["relay.writePolicy.lookbackSeconds"] = "removed from strfry",
        ["relay.negentropy.maxFilterLimit"] = "removed from strfry; see relay.negentropy.maxSyncEvents",
        ["relay.plugins.writePolicyPath"] = "old name of relay.writePolicy.plugin",
        ["relay.serviceUrl"] = "old name of relay.auth.serviceUrl",
    };

    /// <summary>
    /// strfry keys Relay reads and checks but does not act on yet. They are named in the startup
    /// warning when a file sets them to other than the default; remove a key here in the change that
    /// makes Relay honour it. (dbParams.noReadAhead is not here: the store always opens without read-ahead.)
    /// </summary>
    public static IReadOnlySet<string> NotYetHonoured { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "relay.compression.enabled", "relay.compression.slidingWindow",
        "relay.numThreads.negentropy",
        "relay.negentropy.enabled", "relay.negentropy.maxSyncEvents",
    };

    private static readonly Dictionary<string, ConfigKey> ByPath = BuildIndex();
    private static readonly HashSet<string> Sections = BuildSections();

    public static ConfigKey? Find(string path) => ByPath.GetValueOrDefault(path);

    /// <summary>True for paths that hold other keys: "relay", "relay.info", "dbParams", ...</summary>
    public static bool IsSection(string path) => Sections.Contains(path);

    public static bool IsIgnored(string path) => Ignored.ContainsKey(path) || NotYetHonoured.Contains(path);

    /// <summary>A close known key for an unknown one (typo, wrong case, or right name in the wrong section).</summary>
    public static string? Suggest(string unknown)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        string lastPart = unknown[(unknown.LastIndexOf('.') + 1)..];
        foreach (string known in ByPath.Keys)
        {
            if (string.Equals(known, unknown, StringComparison.OrdinalIgnoreCase)) return known;
            int d = Distance(known.ToLowerInvariant(), unknown.ToLowerInvariant());
            if (d < bestDistance) { bestDistance = d; best = known; }
        }
        if (bestDistance <= 2) return best;
        foreach (string known in ByPath.Keys)
            if (known.EndsWith("." + lastPart, StringComparison.OrdinalIgnoreCase) || known.Equals(lastPart, StringComparison.OrdinalIgnoreCase))
                return known;
        return null;
    }

    private static Dictionary<string, ConfigKey> BuildIndex()
    {
        var index = new Dictionary<string, ConfigKey>(StringComparer.Ordinal);
        foreach (var key in Keys) index.Add(key.Path, key);
        return index;
    }

    private static HashSet<string> BuildSections()
    {
        var sections = new HashSet<string>(StringComparer.Ordinal);
        foreach (string path in ByPath.Keys.Concat(Ignored.Keys))
            for (int dot = path.IndexOf('.'); dot > 0; dot = path.IndexOf('.', dot + 1))
                sections.Add(path[..dot]);
        return sections;
    }

    private static int Distance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    private const string PubkeyExpectation = "an npub or 64 hex characters, or empty";
    private const string KindsExpectation = "a comma-separated list of event kinds in a string, e.g. \"4, 1059\"";

    private static string CheckDb(string value, KeyCheck check)
    {
        if (string.IsNullOrWhiteSpace(value)) throw check.Fail("must be a directory path");
        return value;
    }

    private static string CheckLogFormat(string value, KeyCheck check)
    {
        string format = value.Trim().ToLowerInvariant();
        if (format is not ("text" or "json")) throw check.Fail("must be \"text\" or \"json\"");
        return format;
    }

    private static string CheckBind(string value, KeyCheck check)
    {
        // IPAddress.TryParse also takes "1" or "127.1"; strfry's users write full addresses.
        bool ok = IPAddress.TryParse(value, out var address)
                  && (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 || value.Split('.').Length == 4);
        if (!ok) throw check.Fail("must be an IP address such as 127.0.0.1 or 0.0.0.0");
        return value;
    }

    private static string CheckRealIpHeader(string value, KeyCheck check)
    {
        foreach (char c in value)
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
                throw check.Fail("must be an HTTP header name such as x-real-ip, or empty");
        string lower = value.ToLowerInvariant();
        if (lower != value) check.Warn($"relay.realIpHeader \"{value}\" is used as \"{lower}\" (header names are matched in lower case)");
        return lower;
    }

    private static string CheckServiceUrl(string value, KeyCheck check)
    {
        if (value.Length > 0 && !(Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "wss" or "ws"))
            check.Warn($"relay.auth.serviceUrl \"{value}\" should be the relay's public wss:// URL; NIP-42 AUTH compares it with the relay tag clients send");
        return value;
    }

    private static string CheckUnset(string value, KeyCheck check)
    {
        if (value != "unset") return value;
        check.Warn($"{check.Path} = \"unset\" (a placeholder from old strfry.conf files) is treated as empty");
        return "";
    }

    private static string CheckPubkey(string value, KeyCheck check)
    {
        value = CheckUnset(value, check);
        string? hex = ConfigValues.NormalizePubkey(value, out string? error);
        if (hex is not null) return hex;
        throw value.Trim().StartsWith("nsec1", StringComparison.OrdinalIgnoreCase) ? check.FailHidingValue(error!) : check.Fail(error!);
    }

    private static string CheckKinds(string value, KeyCheck check)
    {
        if (KindList.Parse(value, out string? error) is null) throw check.Fail($"must be {KindsExpectation}: {error}");
        return value;
    }

    private static string? KindsFromArray(JsonArray array)
    {
        var parts = new List<string>(array.Count);
        foreach (var e in array)
        {
            if (e is not JsonValue v || !v.TryGetValue(out long kind) || kind < 0 || kind > 65535) return null;
            parts.Add(kind.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return string.Join(", ", parts);
    }

    private const string PubkeyListExpectation = "a list of npubs or 64-hex pubkeys (comma- or space-separated in a string, or an array)";
    private const string KindRangesExpectation = "a comma-separated list of event kinds and ranges in a string, e.g. \"0-3, 7, 30000-39999\"";

    private static string CheckPubkeyList(string value, KeyCheck check)
    {
        var keys = PubkeyList.Parse(value, out string? error);
        if (keys is not null) return string.Join(", ", keys);
        // The offending entry may be a secret key: never echo the value then.
        string phrase = $"must be {PubkeyListExpectation}: {error}";
        throw value.Contains("nsec1", StringComparison.OrdinalIgnoreCase) ? check.FailHidingValue(phrase) : check.Fail(phrase);
    }

    private static string? PubkeysFromArray(JsonArray array)
    {
        var parts = new List<string>(array.Count);
        foreach (var e in array)
        {
            if (e is not JsonValue v || !v.TryGetValue(out string? text)) return null;
            parts.Add(text);
        }
        return string.Join(", ", parts);
    }

    private static string CheckKindRanges(string value, KeyCheck check)
    {
        if (KindRanges.Parse(value, out string? error) is null) throw check.Fail($"must be {KindRangesExpectation}: {error}");
        return value;
    }

    private static string? KindRangesFromArray(JsonArray array)
    {
        var parts = new List<string>(array.Count);
        foreach (var e in array)
        {
            if (e is not JsonValue v) return null;
            if (v.TryGetValue(out long kind)) parts.Add(kind.ToString(System.Globalization.CultureInfo.InvariantCulture));
            else if (v.TryGetValue(out string? range)) parts.Add(range);
            else return null;
        }
        return string.Join(", ", parts);
    }

    private static string CheckNips(string value, KeyCheck check)
    {
        if (value.Length > 0 && ConfigValues.ParseNips(value) is null)
            throw check.Fail("must be a JSON array of NIP numbers in a string, e.g. \"[1, 11]\", or empty");
        return value;
    }

    private static string? NipsFromArray(JsonArray array)
    {
        var parts = new List<string>(array.Count);
        foreach (var e in array)
        {
            if (e is not JsonValue v || !v.TryGetValue(out long nip) || nip < 0 || nip > int.MaxValue) return null;
            parts.Add(nip.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return "[" + string.Join(",", parts) + "]";
    }
}
