using System.Collections.Concurrent;
using Relay.Server.Config;

namespace Relay.Tests.Config;

public sealed class ConfigWatcherTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private readonly string _dir = Directory.CreateTempSubdirectory("relay-watch-").FullName;
    private readonly string _path;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly ConcurrentQueue<string> _errors = new();

    public ConfigWatcherTests() => _path = Path.Combine(_dir, "strfry.conf");

    public void Dispose() => Directory.Delete(_dir, true);

    private (LiveConfig Live, ConfigWatcher Watcher) Start(string text, ConfigWatcherOptions? options = null, params string[] sets)
    {
        File.WriteAllText(_path, text);
        return Watch(_path, options, sets);
    }

    private (LiveConfig Live, ConfigWatcher Watcher) Watch(string path, ConfigWatcherOptions? options = null, params string[] sets)
    {
        var loaded = ConfigLoader.Load(path, sets);
        var live = new LiveConfig(loaded.Config);
        var watcher = new ConfigWatcher(live, loaded, new ConfigWatcherOptions
        {
            Debounce = options?.Debounce ?? TimeSpan.FromMilliseconds(150),
            PollInterval = options?.PollInterval ?? TimeSpan.FromHours(1),
            FileSystemEvents = options?.FileSystemEvents ?? true,
            Log = _log.Enqueue,
            LogError = _errors.Enqueue,
        });
        watcher.Start();
        return (live, watcher);
    }

    private static Task<ConfigChangedEventArgs> NextChange(LiveConfig live)
    {
        var tcs = new TaskCompletionSource<ConfigChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Handler(ConfigChangedEventArgs e) { live.Changed -= Handler; tcs.TrySetResult(e); }
        live.Changed += Handler;
        return tcs.Task;
    }

    private static string Conf(int maxFilterLimit, int port = 7777, string extra = "") =>
        $"relay {{\n    port = {port}\n    maxFilterLimit = {maxFilterLimit}\n}}\n{extra}";

    [Fact]
    public async Task Editing_a_reloadable_key_installs_the_new_config()
    {
        var (live, watcher) = Start(Conf(500));
        using var _ = watcher;
        var changed = NextChange(live);
        File.WriteAllText(_path, Conf(123));
        var e = await changed.WaitAsync(Patience);
        Assert.Equal(123, live.Current.Relay.MaxFilterLimit);
        Assert.Same(e.Current, live.Current);
        Assert.Equal(500, e.Previous.Relay.MaxFilterLimit);
        Assert.Equal(2, live.Version);
        var change = Assert.Single(e.Changes);
        Assert.Equal(new ConfigChange("relay.maxFilterLimit", "500", "123", false), change);
        Assert.Contains("config: relay.maxFilterLimit changed from 500 to 123", _log);
    }

    [Fact]
    public async Task Restart_required_keys_keep_their_running_value_and_are_reported()
    {
        var (live, watcher) = Start(Conf(500, port: 7777));
        using var _ = watcher;
        var reloaded = new TaskCompletionSource<ConfigReloadResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.Reloaded += r => reloaded.TrySetResult(r);
        File.WriteAllText(_path, Conf(200, port: 8888, extra: "db = \"/elsewhere/\"\nrelay.numThreads.ingester = 5\n"));
        var result = await reloaded.Task.WaitAsync(Patience);

        Assert.True(result.Succeeded);
        Assert.Equal(["relay.maxFilterLimit"], result.Applied.Select(c => c.Key));
        Assert.Equal(["db", "relay.port", "relay.numThreads.ingester"], result.RestartRequired.Select(c => c.Key));
        Assert.All(result.RestartRequired, c => Assert.True(c.RestartRequired));
        Assert.Equal(7777, live.Current.Relay.Port);
        Assert.Equal("./strfry-db/", live.Current.Db);
        Assert.Equal(3, live.Current.Relay.NumThreads.Ingester);
        Assert.Equal(200, live.Current.Relay.MaxFilterLimit);
        Assert.Contains(_log, l => l.StartsWith("config: relay.port changed from 7777 to 8888 in ", StringComparison.Ordinal) && l.EndsWith("takes effect only after a restart", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_burst_of_writes_is_debounced_into_one_reload()
    {
        var (live, watcher) = Start(Conf(500), new ConfigWatcherOptions { Debounce = TimeSpan.FromMilliseconds(400) });
        using var _ = watcher;
        int changes = 0;
        var first = NextChange(live);
        live.Changed += _ => Interlocked.Increment(ref changes);
        for (int i = 101; i <= 105; i++) File.WriteAllText(_path, Conf(i));
        await first.WaitAsync(Patience);
        await Task.Delay(1000);
        Assert.Equal(1, Volatile.Read(ref changes));
        Assert.Equal(105, live.Current.Relay.MaxFilterLimit);
    }

    [Fact]
    public async Task A_bad_edit_keeps_the_old_config_and_logs_why_then_a_fix_applies()
    {
        var (live, watcher) = Start(Conf(500));
        using var _ = watcher;
        var before = live.Current;
        File.WriteAllText(_path, "relay {\n    maxFilterLimit = \n}\n");
        await WaitFor(() => !_errors.IsEmpty);
        string error = Assert.Single(_errors);
        Assert.StartsWith("config: reload failed, keeping the current config: ", error);
        Assert.EndsWith("strfry.conf:3:1: expected a value, found '}'", error);
        Assert.Same(before, live.Current);

        var changed = NextChange(live);
        File.WriteAllText(_path, Conf(42));
        await changed.WaitAsync(Patience);
        Assert.Equal(42, live.Current.Relay.MaxFilterLimit);
    }

    [Fact]
    public async Task A_wrong_value_is_rejected_like_at_startup()
    {
        var (live, watcher) = Start(Conf(500));
        using var _ = watcher;
        File.WriteAllText(_path, Conf(500, extra: "relay.bogus = 1\n"));
        await WaitFor(() => !_errors.IsEmpty);
        Assert.Contains("unknown key 'relay.bogus'", Assert.Single(_errors));
        Assert.Equal(500, live.Current.Relay.MaxFilterLimit);
    }

    [Fact]
    public async Task An_editor_that_writes_a_new_file_and_renames_it_over_the_old_is_followed()
    {
        var (live, watcher) = Start(Conf(500));
        using var _ = watcher;
        for (int round = 1; round <= 2; round++)
        {
            var changed = NextChange(live);
            string temp = Path.Combine(_dir, ".strfry.conf.swp");
            File.WriteAllText(temp, Conf(300 + round));
            File.Move(temp, _path, overwrite: true);
            await changed.WaitAsync(Patience);
            Assert.Equal(300 + round, live.Current.Relay.MaxFilterLimit);
        }
    }

    [Fact]
    public async Task A_file_deleted_and_written_again_is_followed()
    {
        var (live, watcher) = Start(Conf(500));
        using var _ = watcher;
        var changed = NextChange(live);
        File.Delete(_path);
        File.WriteAllText(_path, Conf(77));
        await changed.WaitAsync(Patience);
        Assert.Equal(77, live.Current.Relay.MaxFilterLimit);
    }

    [Fact]
    public async Task A_busy_neighbour_file_does_not_hold_off_the_reload()
    {
        var (live, watcher) = Start(Conf(500));
        using var _ = watcher;
        using var stop = new CancellationTokenSource();
        string log = Path.Combine(_dir, "relay.log");
        // Written more often than the debounce, from its own thread so a busy thread pool cannot pause
        // it: were the log's events taken as the config's, the reload would wait for ever.
        var writer = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                File.AppendAllText(log, "line\n");
                Thread.Sleep(20);
            }
        });
        writer.Start();
        try
        {
            await Task.Delay(200);
            var changed = NextChange(live);
            File.WriteAllText(_path, Conf(321));
            await changed.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(321, live.Current.Relay.MaxFilterLimit);
        }
        finally
        {
            stop.Cancel();
            writer.Join();
        }
    }

    [Fact]
    public async Task A_kubernetes_style_symlink_swap_is_followed()
    {
        // A ConfigMap volume: strfry.conf -> ..data/strfry.conf, ..data -> ..v1; an update writes ..v2
        // and renames a new ..data link over the old one. The file itself never changes.
        string k8s = Path.Combine(_dir, "k8s");
        Directory.CreateDirectory(Path.Combine(k8s, "..v1"));
        File.WriteAllText(Path.Combine(k8s, "..v1", "strfry.conf"), Conf(500));
        File.CreateSymbolicLink(Path.Combine(k8s, "..data"), "..v1");
        string path = Path.Combine(k8s, "strfry.conf");
        File.CreateSymbolicLink(path, Path.Combine("..data", "strfry.conf"));

        var (live, watcher) = Watch(path, new ConfigWatcherOptions { Debounce = TimeSpan.FromMilliseconds(100) });
        using var _ = watcher;
        var changed = NextChange(live);
        Directory.CreateDirectory(Path.Combine(k8s, "..v2"));
        File.WriteAllText(Path.Combine(k8s, "..v2", "strfry.conf"), Conf(222));
        File.CreateSymbolicLink(Path.Combine(k8s, "..data_tmp"), "..v2");
        Assert.Equal(0, Rename(Path.Combine(k8s, "..data_tmp"), Path.Combine(k8s, "..data")));
        await changed.WaitAsync(Patience);
        Assert.Equal(222, live.Current.Relay.MaxFilterLimit);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int Rename(string from, string to);

    [Fact]
    public async Task Polling_alone_notices_a_change()
    {
        var (live, watcher) = Start(Conf(500), new ConfigWatcherOptions
        {
            FileSystemEvents = false,
            PollInterval = TimeSpan.FromMilliseconds(100),
            Debounce = TimeSpan.FromMilliseconds(50),
        });
        using var _ = watcher;
        var changed = NextChange(live);
        File.WriteAllText(_path, Conf(12345));
        await changed.WaitAsync(Patience);
        Assert.Equal(12345, live.Current.Relay.MaxFilterLimit);
    }

    [Fact]
    public void Reload_on_demand_applies_the_file_and_the_same_set_overrides()
    {
        var (live, watcher) = Start(Conf(500), new ConfigWatcherOptions { FileSystemEvents = false }, "relay.info.name=From set");
        using var _ = watcher;
        File.WriteAllText(_path, Conf(600, extra: "relay.info.name = \"from file\"\n"));
        var result = watcher.Reload();
        Assert.True(result.Succeeded);
        Assert.Equal(["relay.maxFilterLimit"], result.Applied.Select(c => c.Key));
        Assert.Equal(600, live.Current.Relay.MaxFilterLimit);
        Assert.Equal("From set", live.Current.Relay.Info.Name);

        var again = watcher.Reload();
        Assert.True(again.Succeeded);
        Assert.Empty(again.Applied);
        Assert.Contains(_log, l => l.EndsWith("no changes", StringComparison.Ordinal));
    }

    [Fact]
    public void Reload_of_a_missing_file_keeps_the_config()
    {
        var (live, watcher) = Start(Conf(500), new ConfigWatcherOptions { FileSystemEvents = false });
        using var _ = watcher;
        var before = live.Current;
        File.Delete(_path);
        var result = watcher.Reload();
        Assert.False(result.Succeeded);
        Assert.Contains("is missing; keeping the current config", result.Error);
        Assert.Same(before, live.Current);
    }

    [Fact]
    public void A_watcher_over_built_in_defaults_does_nothing()
    {
        var loaded = ConfigLoader.FromDefaults(["relay.port=1"]);
        var live = new LiveConfig(loaded.Config);
        using var watcher = new ConfigWatcher(live, loaded, new ConfigWatcherOptions { Log = _log.Enqueue, LogError = _errors.Enqueue });
        watcher.Start();
        var result = watcher.Reload();
        Assert.True(result.Succeeded);
        Assert.Empty(result.Applied);
        Assert.Equal(1, live.Version);
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met");
            await Task.Delay(20);
        }
    }
}
