using System.Text.Json.Nodes;

namespace Relay.Server.Config;

/// <summary>
/// `--set key=value` (strfry/golpe's option): applied to the parsed tree before binding, so an
/// override is checked exactly like the file. The key is dotted (golpe's `relay__port` form works
/// too); the value is read as a taocpp value, and anything that is not one is taken as text, so
/// `--set relay.info.name=My relay` needs no quotes.
/// </summary>
internal static class ConfigOverrides
{
    public static void Apply(ConfigDocument doc, IReadOnlyList<string> overrides)
    {
        foreach (string raw in overrides)
        {
            var where = new ConfigLocation($"--set {raw}", 0, 0);
            int eq = raw.IndexOf('=');
            if (eq <= 0) throw ConfigException.At(where, "expected key=value");
            string path = raw[..eq].Trim().Replace("__", ".", StringComparison.Ordinal);
            var key = ConfigSchema.Find(path);
            if (key is null && !ConfigSchema.Ignored.ContainsKey(path))
            {
                if (ConfigSchema.IsSection(path))
                    throw ConfigException.At(where, $"'{path}' is a section; set one of its keys, e.g. --set {FirstKeyUnder(path)}=...");
                throw ConfigException.At(where, ConfigBinder.UnknownKey(path));
            }
            JsonNode? value = ParseValue(raw[(eq + 1)..], key);

            var parts = path.Split('.');
            JsonObject container = doc.Root;
            string sofar = "";
            for (int i = 0; i < parts.Length - 1; i++)
            {
                sofar = sofar.Length == 0 ? parts[i] : sofar + "." + parts[i];
                if (container[parts[i]] is not JsonObject next)
                {
                    next = new JsonObject();
                    container[parts[i]] = next;
                    doc.Locations[sofar] = where;
                }
                container = next;
            }
            container[parts[^1]] = value;
            doc.Locations[path] = where;
        }
    }

    private static JsonNode? ParseValue(string text, ConfigKey? key)
    {
        bool parsed = TaoConfigReader.TryParseValue(text, out JsonNode? value);
        switch (key?.Kind)
        {
            case ConfigValueKind.String:
                // A text key takes the text as written unless it was quoted: `name=1984` is the name "1984".
                if (parsed && (value is JsonObject or JsonArray || (value is JsonValue v && v.TryGetValue(out string? _)))) return value;
                return JsonValue.Create(text.Trim());
            case ConfigValueKind.Boolean:
                // golpe's --set words for booleans.
                switch (text.Trim().ToLowerInvariant())
                {
                    case "true" or "yes" or "on" or "1": return JsonValue.Create(true);
                    case "false" or "no" or "off" or "0": return JsonValue.Create(false);
                }
                break;
        }
        return parsed ? value : JsonValue.Create(text);
    }

    private static string FirstKeyUnder(string section)
    {
        foreach (var key in ConfigSchema.Keys)
            if (key.Path.StartsWith(section + ".", StringComparison.Ordinal)) return key.Path;
        return section + ".…";
    }
}
