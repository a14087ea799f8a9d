using System.Text.Json.Nodes;

namespace Relay.Server.Config;

/// <summary>
/// Turns a parsed tree into a <see cref="RelayConfig"/>: every member must be a known key or
/// section (or a key Relay knowingly ignores), every value of the key's type and range.
/// </summary>
internal static class ConfigBinder
{
    private static readonly RelayConfig Defaults = new();

    public static RelayConfig Bind(ConfigDocument doc, List<string> warnings)
    {
        var config = new RelayConfig();
        // A strfry.conf that leaves out `db` meant strfry's directory; see RelayConfig.
        if (doc.Format == ConfigFormat.TaoConfig) config.Db = RelayConfig.StrfryDefaultDb;
        var ignored = new List<string>();
        var keyWarnings = new List<string>();
        BindSection(doc.Root, "", config, doc, keyWarnings, ignored);
        CheckAcrossKeys(config, doc);
        if (ignored.Count > 0) warnings.Add("config: keys ignored by Relay: " + string.Join(", ", ignored));
        warnings.AddRange(keyWarnings);
        return config;
    }

    private static void BindSection(JsonObject section, string prefix, RelayConfig config, ConfigDocument doc,
                                    List<string> warnings, List<string> ignored)
    {
        foreach (var (name, node) in section)
        {
            string path = prefix.Length == 0 ? name : prefix + "." + name;
            var where = doc.LocationOf(path);
            var key = ConfigSchema.Find(path);
            if (key is not null)
            {
                key.Bind(config, node, new KeyCheck(path, where, node, warnings));
                // A key Relay does not act on matters only when it asks for something other than the default.
                if (ConfigSchema.IsIgnored(path) && key.Show(config) != key.Show(Defaults)) ignored.Add(path);
            }
            else if (ConfigSchema.Ignored.TryGetValue(path, out string? why))
            {
                ignored.Add(why.StartsWith("old name of ", StringComparison.Ordinal) ? $"{path} ({why})" : path);
            }
            else if (ConfigSchema.IsSection(path))
            {
                if (node is not JsonObject inner)
                    throw ConfigException.At(where, $"key '{path}' must be a section {{ ... }} (found {ConfigValues.Describe(node)})");
                BindSection(inner, path, config, doc, warnings, ignored);
            }
            else
            {
                throw ConfigException.At(where, UnknownKey(path));
            }
        }
    }

    public static string UnknownKey(string path)
    {
        string? suggestion = ConfigSchema.Suggest(path);
        return suggestion is null ? $"unknown key '{path}'" : $"unknown key '{path}' (did you mean '{suggestion}'?)";
    }

    private static void CheckAcrossKeys(RelayConfig config, ConfigDocument doc)
    {
        var fv = config.Relay.FilterValidation;
        if (fv.MinFiltersPerReq > fv.MaxFiltersPerReq)
            throw ConfigException.At(doc.LocationOf("relay.filterValidation.minFiltersPerReq"),
                $"key 'relay.filterValidation.minFiltersPerReq' ({fv.MinFiltersPerReq}) must not be more than relay.filterValidation.maxFiltersPerReq ({fv.MaxFiltersPerReq})");
        long pending = config.Relay.MaxPendingOutboundBytes;
        if (pending is > 0 and < 65536)
            throw ConfigException.At(doc.LocationOf("relay.maxPendingOutboundBytes"),
                $"key 'relay.maxPendingOutboundBytes' must be 0 (unlimited) or at least 65536 (found {pending})");
    }
}
