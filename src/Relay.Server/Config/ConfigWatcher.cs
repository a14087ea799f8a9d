using Relay.Server.Relay;

namespace Relay.Server.Config;

public sealed class ConfigWatcherOptions
{
    /// <summary>Quiet time after the last file event before reading (editors write in several steps).</summary>
    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(200);
    /// <summary>How often the file's size and time are checked, for file systems without change events.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>Watch the directory for change events (the poll runs either way); off only to test the poll.</summary>
    public bool FileSystemEvents { get; init; } = true;
    public Action<string>? Log { get; init; }
    public Action<string>? LogError { get; init; }
}

/// <summary>What one reload found. Applied keys are live; restart-required ones kept their old values.</summary>
public sealed record ConfigReloadResult(
    bool Succeeded, string? Error, RelayConfig Config,
    IReadOnlyList<ConfigChange> Applied, IReadOnlyList<ConfigChange> RestartRequired, IReadOnlyList<string> Warnings);

/// <summary>
/// Follows the loaded config file and installs changes into a <see cref="LiveConfig"/>, like strfry's
/// hot reload: the file is re-read with the same --set overrides; a reloadable key takes its new
/// value; a restart-required key keeps the running value and is logged; a file that does not load
/// leaves everything as it is and logs why. The directory is watched (not the file), so editors that
/// write a new file and rename it over the old one, or delete and recreate it, are followed; a slow
/// poll covers file systems that send no events. Events are debounced, and a reload that finds the
/// same text as the last one does nothing.
/// </summary>
public sealed class ConfigWatcher : IDisposable
{
    private readonly LiveConfig _live;
    private readonly string? _path;
    private readonly string? _fullPath;
    private readonly IReadOnlyList<string> _overrides;
    private readonly ConfigWatcherOptions _options;
    private readonly Action<string> _log;
    private readonly Action<string> _logError;
    private readonly object _gate = new();
    private string? _lastText;
    private (bool Exists, long Length, DateTime Written) _lastStat;
    private bool _reportedMissing;
    private bool _disposed;
    private FileSystemWatcher? _watcher;
    private Timer? _debounce;
    private Timer? _poll;

    public ConfigWatcher(LiveConfig live, LoadedConfig loaded, ConfigWatcherOptions? options = null)
    {
        _live = live;
        _path = loaded.Path;
        _fullPath = loaded.FullPath;
        _overrides = loaded.Overrides;
        _lastText = loaded.Text;
        _options = options ?? new ConfigWatcherOptions();
        _log = _options.Log ?? RelayLog.Info;
        _logError = _options.LogError ?? RelayLog.Error;
    }

    /// <summary>Raised after a reload that found any key changed (applied or needing a restart), on a pool thread.</summary>
    public event Action<ConfigReloadResult>? Reloaded;

    /// <summary>Starts following the file; does nothing when the config came from built-in defaults.</summary>
    public void Start()
    {
        if (_fullPath is null) return;
        lock (_gate)
        {
            if (_disposed || _debounce is not null) return;
            _lastStat = Stat();
            _debounce = new Timer(_ => CheckSafely(force: false));
            _poll = new Timer(_ => Poll(), null, _options.PollInterval, _options.PollInterval);
            string dir = Path.GetDirectoryName(_fullPath)!;
            if (!_options.FileSystemEvents) return;
            try
            {
                var watcher = new FileSystemWatcher(dir)
                {
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                    IncludeSubdirectories = false,
                };
                string name = Path.GetFileName(_fullPath);
                // Only our file's events: a log written next to it would otherwise keep postponing the
                // debounce forever. Names starting ".." are how a Kubernetes ConfigMap swaps its files in.
                bool Ours(string? entry) => entry is not null && (entry == name || entry.StartsWith("..", StringComparison.Ordinal));
                watcher.Changed += (_, e) => { if (Ours(e.Name)) Schedule(); };
                watcher.Created += (_, e) => { if (Ours(e.Name)) Schedule(); };
                watcher.Deleted += (_, e) => { if (Ours(e.Name)) Schedule(); };
                watcher.Renamed += (_, e) => { if (Ours(e.Name) || Ours(e.OldName)) Schedule(); };
                watcher.Error += (_, _) => Schedule();
                watcher.EnableRaisingEvents = true;
                _watcher = watcher;
            }
            catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException or PlatformNotSupportedException)
            {
                _log($"config: cannot watch {dir} for changes ({e.Message}); checking {_path} every {_options.PollInterval.TotalSeconds:0.#} s instead");
            }
        }
    }

    /// <summary>Re-reads the file now, even if its text looks unchanged (for SIGHUP).</summary>
    public ConfigReloadResult Reload() => Check(force: true);

    private void Schedule()
    {
        lock (_gate)
        {
            if (!_disposed) _debounce?.Change(_options.Debounce, Timeout.InfiniteTimeSpan);
        }
    }

    private void Poll()
    {
        var stat = Stat();
        bool changed;
        lock (_gate)
        {
            changed = stat != _lastStat;
            _lastStat = stat;
        }
        if (changed) Schedule();
    }

    private (bool, long, DateTime) Stat()
    {
        try
        {
            var info = new FileInfo(_fullPath!);
            return info.Exists ? (true, info.Length, info.LastWriteTimeUtc) : default;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return default;
        }
    }

    private void CheckSafely(bool force)
    {
        // A timer callback that throws would end the process; a subscriber's bug must not.
        try { Check(force); }
        catch (Exception e) { _logError($"config: reload of {_path} failed: {e.Message}"); }
    }

    private ConfigReloadResult Check(bool force)
    {
        if (_fullPath is null)
            return new ConfigReloadResult(true, null, _live.Current, [], [], []);
        ConfigReloadResult result;
        lock (_gate)
        {
            var current = _live.Current;
            if (_disposed) return new ConfigReloadResult(false, "the watcher is stopped", current, [], [], []);
            string text;
            try
            {
                text = File.ReadAllText(_fullPath);
                _reportedMissing = false;
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // Between an editor's delete and create; the next event or poll brings it back.
                string error = $"config: {_path} is missing; keeping the current config";
                if (!_reportedMissing || force) _logError(error);
                _reportedMissing = true;
                return new ConfigReloadResult(false, error, current, [], [], []);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                string error = $"config: cannot read {_path} ({LoadedConfig.DescribeIoError(e)}); keeping the current config";
                _logError(error);
                return new ConfigReloadResult(false, error, current, [], [], []);
            }
            if (!force && text == _lastText) return new ConfigReloadResult(true, null, current, [], [], []);
            _lastText = text;

            LoadedConfig loaded;
            try
            {
                loaded = ConfigLoader.FromText(text, _path!, _overrides);
            }
            catch (ConfigException e)
            {
                _logError($"config: reload failed, keeping the current config: {e.Message}");
                return new ConfigReloadResult(false, e.Message, current, [], [], []);
            }

            var next = loaded.Config;
            var applied = new List<ConfigChange>();
            var restart = new List<ConfigChange>();
            foreach (var change in ConfigChange.Between(current, next))
            {
                if (!change.RestartRequired) { applied.Add(change); continue; }
                restart.Add(change);
                ConfigSchema.Find(change.Key)!.CopyValue(current, next);
            }
            if (applied.Count == 0 && restart.Count == 0)
            {
                _log($"config: reloaded {_path}: no changes");
                return new ConfigReloadResult(true, null, current, [], [], loaded.Warnings);
            }
            foreach (string warning in loaded.Warnings) _log(warning);
            foreach (var c in applied) _log($"config: {c.Key} changed from {c.OldValue} to {c.NewValue}");
            foreach (var c in restart) _log($"config: {c.Key} changed from {c.OldValue} to {c.NewValue} in {_path}, but takes effect only after a restart");
            if (applied.Count > 0) _live.Apply(next, applied);
            result = new ConfigReloadResult(true, null, applied.Count > 0 ? next : current, applied, restart, loaded.Warnings);
        }
        Reloaded?.Invoke(result);
        return result;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _watcher?.Dispose();
            _debounce?.Dispose();
            _poll?.Dispose();
        }
    }
}
