using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Relay.Server.Config;

// Serialization only (RelayConfig.ToJson): reading goes through ConfigBinder, which knows each
// key's position and writes operator-readable messages.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(RelayConfig))]
internal sealed partial class ConfigJsonContext : JsonSerializerContext;

[JsonSerializable(typeof(int[]))]
internal sealed partial class ConfigNipsContext : JsonSerializerContext;

/// <summary>
/// Finds, reads and checks the config: strfry.conf (taocpp-config) or Relay's JSON, chosen by
/// content; --set overrides on top; built-in defaults when there is no file.
/// </summary>
public static class ConfigLoader
{
    public const string StrfryConfigVariable = "STRFRY_CONFIG";
    public const string RelayConfigVariable = "RELAY_CONFIG";

    /// <summary>
    /// Loads the config for a command. Without <paramref name="explicitPath"/> the file is looked
    /// up as strfry does ($STRFRY_CONFIG, /etc/strfry.conf, ./strfry.conf), then $RELAY_CONFIG,
    /// ./config.json; with none of them, built-in defaults. Throws <see cref="ConfigException"/>.
    /// </summary>
    public static LoadedConfig Load(string? explicitPath, IReadOnlyList<string> setOverrides, IConfigEnvironment? environment = null)
    {
        var env = environment ?? SystemConfigEnvironment.Instance;
        string? path = explicitPath ?? Find(env);
        return path is null ? FromDefaults(setOverrides) : ReadFile(path, setOverrides, env);
    }

    /// <summary>The config file lookup would use, or null for built-in defaults.</summary>
    public static string? Find(IConfigEnvironment? environment = null)
    {
        var env = environment ?? SystemConfigEnvironment.Instance;
        // An environment variable is the operator naming a file: use it even if it is missing, so the error says so.
        string? fromEnv = env.GetEnvironmentVariable(StrfryConfigVariable);
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        foreach (string candidate in (ReadOnlySpan<string>)["/etc/strfry.conf", "./strfry.conf"])
            if (env.FileExists(candidate) || env.DirectoryExists(candidate)) return candidate;
        fromEnv = env.GetEnvironmentVariable(RelayConfigVariable);
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        if (env.FileExists("./config.json") || env.DirectoryExists("./config.json")) return "./config.json";
        return null;
    }

    /// <summary>Reads one named file (no lookup) with overrides; a reload uses this too.</summary>
    public static LoadedConfig ReadFile(string path, IReadOnlyList<string> setOverrides, IConfigEnvironment? environment = null)
    {
        var env = environment ?? SystemConfigEnvironment.Instance;
        string text = ReadText(path, env);
        return FromText(text, path, setOverrides);
    }

    /// <summary>Built-in defaults with overrides (no file).</summary>
    public static LoadedConfig FromDefaults(IReadOnlyList<string> setOverrides)
    {
        var doc = new ConfigDocument("config", ConfigFormat.None);
        ConfigOverrides.Apply(doc, setOverrides);
        var warnings = new List<string>();
        var config = ConfigBinder.Bind(doc, warnings);
        return new LoadedConfig(config, null, doc, warnings, setOverrides, null);
    }

    /// <summary>Config text as if read from <paramref name="source"/> (a file name, used in messages).</summary>
    public static LoadedConfig FromText(string text, string source, IReadOnlyList<string> setOverrides)
    {
        var doc = ParseDocument(text, source);
        ConfigOverrides.Apply(doc, setOverrides);
        var warnings = new List<string>();
        var config = ConfigBinder.Bind(doc, warnings);
        return new LoadedConfig(config, source, doc, warnings, setOverrides, text);
    }

    /// <summary>Reads and checks a file; kept for callers that only need the typed config.</summary>
    public static RelayConfig LoadFile(string path) => ReadFile(path, []).Config;

    /// <summary>Parses config text (either format); kept for callers that only need the typed config.</summary>
    public static RelayConfig Parse(string text, string source = "config") => FromText(text, source, []).Config;

    /// <summary>
    /// Parses either format into a tree, choosing by content: JSON when the first character that
    /// is not space or comment is '{', taocpp-config otherwise.
    /// </summary>
    public static ConfigDocument ParseDocument(string text, string source)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new ConfigException($"{source}: the file is empty; write settings as `key = value` lines (strfry.conf) or as a JSON object");
        if (FirstSignificantChar(text) == '{')
        {
            try
            {
                return JsonConfigReader.Parse(text, source);
            }
            catch (ConfigException jsonError)
            {
                // A taocpp file may also be one { ... } object with taocpp syntax inside.
                try { return TaoConfigReader.Parse(text, source); }
                catch (ConfigException taoError) { throw FurtherOf(jsonError, taoError); }
            }
        }
        try
        {
            return TaoConfigReader.Parse(text, source);
        }
        catch (ConfigException) when (TaoConfigReader.TryParseValue(text, out JsonNode? single))
        {
            throw new ConfigException($"{source}: the file holds {ConfigValues.Describe(single)}, not settings; " +
                                      "write `key = value` lines (strfry.conf) or a JSON object { ... }");
        }
    }

    private static ConfigException FurtherOf(ConfigException json, ConfigException tao)
    {
        if (json.Where is not { } a) return json;
        if (tao.Where is not { } b) return json;
        return b.Line > a.Line || (b.Line == a.Line && b.Column > a.Column) ? tao : json;
    }

    private static char FirstSignificantChar(string text)
    {
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c) || c == '\uFEFF') { i++; continue; }
            if (c == '#' || (c == '/' && i + 1 < text.Length && text[i + 1] == '/'))
            {
                int nl = text.IndexOf('\n', i);
                if (nl < 0) return '\0';
                i = nl + 1;
                continue;
            }
            if (c == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                int close = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (close < 0) return '\0';
                i = close + 2;
                continue;
            }
            return c;
        }
        return '\0';
    }

    private static string ReadText(string path, IConfigEnvironment env)
    {
        if (env.DirectoryExists(path)) throw new ConfigException($"{path}: is a directory, not a config file");
        if (!env.FileExists(path)) throw new ConfigException($"{path}: no such config file");
        try
        {
            return env.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: cannot read the config file: {LoadedConfig.DescribeIoError(e)}");
        }
    }
}
