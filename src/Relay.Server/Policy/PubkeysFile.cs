using Relay.Server.Config;
using Relay.Server.Relay;

namespace Relay.Server.Policy;

/// <summary>
/// Follows relay.access.pubkeysFile: one npub or hex pubkey per line, <c>#</c> starts a comment.
/// Like the config watcher it watches the directory (editors replace files by renaming) and polls
/// the file's size and time as a fallback; a change is read after a short quiet time. A line that
/// is not a pubkey is logged and skipped; a file that cannot be read keeps the last list (a missing
/// file at startup gives an empty list), so a bad edit never opens or closes the relay to everyone.
/// </summary>
internal sealed class PubkeysFile : IDisposable
{
    private readonly TimeSpan _debounce;
    private readonly TimeSpan _pollInterval;
    private readonly Lock _gate = new();
    private string _path = "";
    private string? _fullPath;
    private string[] _pubkeys = [];
    private string? _lastText;
    private (bool Exists, long Length, DateTime Written) _lastStat;
    private FileSystemWatcher? _watcher;
    private Timer? _debounceTimer;
    private Timer? _pollTimer;
    private bool _disposed;

    public PubkeysFile(TimeSpan? debounce = null, TimeSpan? pollInterval = null)
    {
        _debounce = debounce ?? TimeSpan.FromMilliseconds(100);
        _pollInterval = pollInterval ?? TimeSpan.FromSeconds(2);
    }

    /// <summary>The pubkeys (lowercase hex) from the file as last read.</summary>
    public IReadOnlyList<string> Pubkeys => Volatile.Read(ref _pubkeys);

    /// <summary>Raised on a timer thread after the list changed.</summary>
    public event Action? Changed;

    /// <summary>Follows <paramref name="path"/> from now on (relative to the working directory, like db); "" follows nothing.</summary>
    public void Follow(string path)
    {
        lock (_gate)
        {
            if (_disposed || path == _path) return;
            StopWatching();
            _path = path;
            _fullPath = path.Length == 0 ? null : Path.GetFullPath(path);
            _lastText = null;
            Volatile.Write(ref _pubkeys, []);
            if (_fullPath is null) return;
            _lastStat = Stat();
            ReadLocked(reportMissing: true);
            _debounceTimer = new Timer(_ => CheckSafely());
            _pollTimer = new Timer(_ => Poll(), null, _pollInterval, _pollInterval);
            try
            {
                string name = Path.GetFileName(_fullPath);
                var watcher = new FileSystemWatcher(Path.GetDirectoryName(_fullPath)!)
                {
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                    IncludeSubdirectories = false,
                };
                // Names starting ".." are how a Kubernetes ConfigMap swaps its files in.
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
                RelayLog.Warn($"access: cannot watch the directory of {_path} ({e.Message}); checking it every {_pollInterval.TotalSeconds:0.#} s instead");
            }
        }
    }

    /// <summary>Parses the file's text: the pubkeys, and one message per line that is not a pubkey.</summary>
    public static string[] Parse(string text, string path, List<string> problems)
    {
        var keys = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            int hash = line.IndexOf('#');
            if (hash >= 0) line = line[..hash];
            var parsed = PubkeyList.Parse(line, out string? error);
            if (parsed is null)
            {
                problems.Add($"{path}:{i + 1}: {error}; line skipped");
                continue;
            }
            foreach (string key in parsed)
                if (seen.Add(key)) keys.Add(key);
        }
        return keys.ToArray();
    }

    private void Schedule()
    {
        lock (_gate)
        {
            if (!_disposed) _debounceTimer?.Change(_debounce, Timeout.InfiniteTimeSpan);
        }
    }

    private void Poll()
    {
        lock (_gate)
        {
            if (_fullPath is null) return;
            var stat = Stat();
            if (stat == _lastStat) return;
            _lastStat = stat;
        }
        Schedule();
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

    private void CheckSafely()
    {
        // A timer callback that throws would end the process.
        try
        {
            bool changed;
            lock (_gate)
            {
                if (_disposed || _fullPath is null) return;
                changed = ReadLocked(reportMissing: false);
            }
            if (changed) Changed?.Invoke();
        }
        catch (Exception e)
        {
            RelayLog.Error($"access: reading {_path} failed: {e.Message}");
        }
    }

    /// <summary>Reads the file; true when the list changed.</summary>
    private bool ReadLocked(bool reportMissing)
    {
        string text;
        try
        {
            text = File.ReadAllText(_fullPath!);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Between an editor's delete and create, or not made yet: keep what we have.
            if (reportMissing) RelayLog.Warn($"access: {_path} does not exist yet; its pubkeys are added when it appears");
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            RelayLog.Error($"access: cannot read {_path} ({e.Message}); keeping the pubkeys read before");
            return false;
        }
        if (text == _lastText) return false;
        _lastText = text;
        var problems = new List<string>();
        string[] keys = Parse(text, _path, problems);
        foreach (string problem in problems) RelayLog.Warn("access: " + problem);
        var old = _pubkeys;
        Volatile.Write(ref _pubkeys, keys);
        if (old.AsSpan().SequenceEqual(keys)) return false;
        RelayLog.Info($"access: {keys.Length} pubkeys from {_path}");
        return true;
    }

    private void StopWatching()
    {
        _watcher?.Dispose();
        _debounceTimer?.Dispose();
        _pollTimer?.Dispose();
        _watcher = null;
        _debounceTimer = null;
        _pollTimer = null;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            StopWatching();
        }
    }
}
