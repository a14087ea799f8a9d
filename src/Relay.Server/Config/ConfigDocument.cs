using System.Text.Json.Nodes;

namespace Relay.Server.Config;

public enum ConfigFormat
{
    /// <summary>No file: built-in defaults (and --set overrides).</summary>
    None,
    /// <summary>JSON with comments and trailing commas (Relay's config.json).</summary>
    Json,
    /// <summary>taocpp-config, strfry's strfry.conf format.</summary>
    TaoConfig,
}

/// <summary>
/// A parsed config file before binding: the tree of values plus where each key path (dotted,
/// e.g. "relay.port") was last defined, so binding errors can point at the line.
/// </summary>
public sealed class ConfigDocument(string source, ConfigFormat format)
{
    public string Source { get; } = source;
    public ConfigFormat Format { get; } = format;
    public JsonObject Root { get; } = new();
    public Dictionary<string, ConfigLocation> Locations { get; } = new(StringComparer.Ordinal);

    public ConfigLocation LocationOf(string keyPath) =>
        Locations.TryGetValue(keyPath, out var where) ? where : new ConfigLocation(Source, 0, 0);
}
