namespace Relay.Server.Config;

/// <summary>
/// The result of loading: the typed config, where it came from, the warnings to log once at
/// startup, and where each key was set (for messages about keys found bad later, such as `db`).
/// </summary>
public sealed class LoadedConfig
{
    private readonly ConfigDocument _document;

    internal LoadedConfig(RelayConfig config, string? path, ConfigDocument document, IReadOnlyList<string> warnings,
                          IReadOnlyList<string> overrides, string? text)
    {
        Config = config;
        Path = path;
        FullPath = path is null ? null : System.IO.Path.GetFullPath(path);
        _document = document;
        Warnings = warnings;
        Overrides = overrides;
        Text = text;
    }

    public RelayConfig Config { get; }
    /// <summary>The file as named on the command line or found by lookup; null for built-in defaults.</summary>
    public string? Path { get; }
    public string? FullPath { get; }
    public ConfigFormat Format => _document.Format;
    public IReadOnlyList<string> Warnings { get; }
    /// <summary>The --set arguments that were applied (a reload applies them again).</summary>
    public IReadOnlyList<string> Overrides { get; }
    /// <summary>How to name the source in a startup line: the path or "built-in defaults".</summary>
    public string Source => Path ?? "built-in defaults";

    /// <summary>The file's text as loaded (a reload compares it before doing any work).</summary>
    internal string? Text { get; }

    /// <summary>Where <paramref name="key"/> was set, or null when it has its default value.</summary>
    public ConfigLocation? LocationOf(string key) =>
        _document.Locations.TryGetValue(key, out var where) ? where : null;

    /// <summary>
    /// A one-line error about a key whose value turned out unusable after loading, e.g.
    /// "strfry.conf:6:1: key 'db' = "/nope": cannot open the database: ...".
    /// </summary>
    public ConfigException KeyError(string key, string problem)
    {
        var where = LocationOf(key);
        var known = ConfigSchema.Find(key);
        string value = known is null ? "" : " = " + known.Show(Config) + (where is null ? " (default)" : "");
        return new ConfigException($"{(where is null ? Path ?? "config" : where.Value.ToString())}: key '{key}'{value}: {problem}");
    }

    /// <summary>For the caller that failed to open the database: names the `db` key and where it was set.</summary>
    public ConfigException DbError(Exception e) => KeyError("db", "cannot open the database: " + DescribeIoError(e));

    /// <summary>
    /// Checks, without creating anything, that `db` can be a database directory: not a file, and
    /// no file in the way of creating it. Call before opening the store.
    /// </summary>
    public void CheckDbPath()
    {
        string db = Config.Db;
        if (File.Exists(db)) throw KeyError("db", "is a file, not a directory");
        if (Directory.Exists(db)) return;
        string? dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(db).TrimEnd('/'));
        while (!string.IsNullOrEmpty(dir) && !Directory.Exists(dir))
        {
            if (File.Exists(dir)) throw KeyError("db", $"cannot be created: {dir} is a file");
            dir = System.IO.Path.GetDirectoryName(dir);
        }
    }

    internal static string DescribeIoError(Exception e) => e switch
    {
        UnauthorizedAccessException => "permission denied",
        _ => e.Message,
    };
}
