using System.Text.Json;
using System.Text.Json.Serialization;

namespace Relay.Server.Config;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(RelayConfig))]
internal sealed partial class ConfigJsonContext : JsonSerializerContext;

public sealed class ConfigException(string message) : Exception(message);

/// <summary>A config as loaded: the values, the file they came from (null: built-in defaults), and warnings to log once.</summary>
public sealed record LoadedConfig(RelayConfig Config, string? Path, IReadOnlyList<string> Warnings);

public static class ConfigLoader
{
    /// <summary>
    /// Finds and loads the config: <paramref name="explicitPath"/>, else $RELAY_CONFIG, else
    /// ./config.json, else built-in defaults; then applies <c>--set key=value</c> overrides.
    /// </summary>
    public static LoadedConfig Load(string? explicitPath, IReadOnlyList<string> setOverrides)
    {
        string? path = explicitPath ?? Environment.GetEnvironmentVariable("RELAY_CONFIG");
        if (path is null && File.Exists("config.json")) path = "config.json";
        var config = path is null ? new RelayConfig() : LoadFile(path);
        if (setOverrides.Count > 0) throw new ConfigException("--set: not supported yet");
        return new LoadedConfig(config, path, []);
    }

    /// <summary>Reads and validates a config file; any problem becomes a <see cref="ConfigException"/> naming the key.</summary>
    public static RelayConfig LoadFile(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"config: cannot read {path}: {e.Message}");
        }
        return Parse(text, path);
    }

    public static RelayConfig Parse(string json, string source = "config")
    {
        RelayConfig? config;
        try
        {
            config = JsonSerializer.Deserialize(json, ConfigJsonContext.Default.RelayConfig);
        }
        catch (JsonException e)
        {
            string key = KeyFromPath(e.Path);
            string detail = e.Message;
            int cut = detail.IndexOf(" Path:", StringComparison.Ordinal);
            if (cut > 0) detail = detail[..cut];
            throw new ConfigException(key.Length > 0
                ? $"{source}: bad value for key '{key}': {detail}"
                : $"{source}: {detail}");
        }
        if (config is null) throw new ConfigException($"{source}: the file must hold a JSON object");
        Validate(config, source);
        return config;
    }

    private static string KeyFromPath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$") return "";
        return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
    }

    private static void Validate(RelayConfig c, string source)
    {
        void Require(bool ok, string key, string rule)
        {
            if (!ok) throw new ConfigException($"{source}: bad value for key '{key}': {rule}");
        }
        Require(!string.IsNullOrWhiteSpace(c.Db), "db", "must be a directory path");
        Require(c.DbParams.Maxreaders >= 1, "dbParams.maxreaders", "must be at least 1");
        Require(c.DbParams.Mapsize >= 1 << 20, "dbParams.mapsize", "must be at least 1 MiB");
        var e = c.Events;
        Require(e.MaxEventSize >= 256, "events.maxEventSize", "must be at least 256");
        Require(e.RejectEventsNewerThanSeconds >= 0, "events.rejectEventsNewerThanSeconds", "must be >= 0");
        Require(e.RejectEventsOlderThanSeconds >= 0, "events.rejectEventsOlderThanSeconds", "must be >= 0");
        Require(e.RejectEphemeralEventsOlderThanSeconds >= 0, "events.rejectEphemeralEventsOlderThanSeconds", "must be >= 0");
        Require(e.EphemeralEventsLifetimeSeconds >= 0, "events.ephemeralEventsLifetimeSeconds", "must be >= 0");
        Require(e.MaxNumTags is >= 0 and <= 65535, "events.maxNumTags", "must be 0..65535");
        Require(e.MaxTagValSize is >= 1 and <= 65535, "events.maxTagValSize", "must be 1..65535");
        var r = c.Relay;
        Require(System.Net.IPAddress.TryParse(r.Bind, out _), "relay.bind", "must be an IP address such as 127.0.0.1 or 0.0.0.0");
        Require(r.Port is >= 0 and <= 65535, "relay.port", "must be 0..65535");
        Require(r.Nofiles >= 0, "relay.nofiles", "must be >= 0");
        Require(r.MaxWebsocketPayloadSize >= 1024, "relay.maxWebsocketPayloadSize", "must be at least 1024");
        Require(r.AutoPingSeconds >= 0, "relay.autoPingSeconds", "must be >= 0");
        Require(r.QueryTimesliceBudgetMicroseconds >= 100, "relay.queryTimesliceBudgetMicroseconds", "must be at least 100");
        Require(r.MaxFilterLimit >= 1, "relay.maxFilterLimit", "must be at least 1");
        Require(r.MaxSubsPerConnection >= 1, "relay.maxSubsPerConnection", "must be at least 1");
        Require(r.MaxReqFilterSize >= 1, "relay.maxReqFilterSize", "must be at least 1");
        Require(r.MaxTagsPerFilter >= 1, "relay.maxTagsPerFilter", "must be at least 1");
        Require(r.MaxFilterLimitCount >= 0, "relay.maxFilterLimitCount", "must be >= 0 (0 disables COUNT)");
        Require(r.MaxPendingOutboundBytes >= 65536, "relay.maxPendingOutboundBytes", "must be at least 65536");
        Require(r.NumThreads.Ingester is >= 1 and <= 64, "relay.numThreads.ingester", "must be 1..64");
        Require(r.NumThreads.ReqWorker is >= 1 and <= 64, "relay.numThreads.reqWorker", "must be 1..64");
        Require(r.NumThreads.ReqMonitor is >= 1 and <= 64, "relay.numThreads.reqMonitor", "must be 1..64");
        Require(r.NumThreads.Negentropy is >= 1 and <= 64, "relay.numThreads.negentropy", "must be 1..64");
        Require(r.Info.Pubkey.Length == 0 || (r.Info.Pubkey.Length == 64 && IsLowerHex(r.Info.Pubkey)),
            "relay.info.pubkey", "must be 64 lowercase hex characters");
        if (r.Info.Nips.Length > 0)
        {
            try { JsonSerializer.Deserialize(r.Info.Nips, ConfigNipsContext.Default.Int32Array); }
            catch (JsonException) { Require(false, "relay.info.nips", "must be a JSON array of integers, e.g. \"[1, 11]\""); }
        }
    }

    private static bool IsLowerHex(string s)
    {
        foreach (char ch in s) if (!char.IsAsciiHexDigitLower(ch) && !char.IsAsciiDigit(ch)) return false;
        return true;
    }
}

[JsonSerializable(typeof(int[]))]
internal sealed partial class ConfigNipsContext : JsonSerializerContext;
