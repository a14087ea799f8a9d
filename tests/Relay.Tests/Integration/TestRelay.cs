using Relay.Server.Config;
using Relay.Server.Relay;

namespace Relay.Tests.Integration;

/// <summary>A real relay on a loopback port over a real LMDB in a temp directory.</summary>
public sealed class TestRelay : IAsyncDisposable
{
    private TestRelay(RelayServer server, string dir)
    {
        Server = server;
        Directory = dir;
    }

    public RelayServer Server { get; }
    public string Directory { get; }
    public Uri Url => new($"ws://127.0.0.1:{Server.Port}/");
    public Uri HttpUrl => new($"http://127.0.0.1:{Server.Port}/");

    public static TestRelay Start(Action<RelayConfig>? configure = null, string? dir = null) => Start(configure, dir, null, null);

    internal static TestRelay Start(Action<RelayConfig>? configure, string? dir, FaultInjection? faults, TimeSpan? cronPeriod = null)
    {
        dir ??= NewTempDir();
        var config = new RelayConfig { Db = dir };
        config.DbParams.Mapsize = 1L << 30;
        config.Relay.Port = 0;
        config.Relay.NumThreads.Ingester = 2;
        config.Relay.NumThreads.ReqWorker = 2;
        config.Relay.NumThreads.ReqMonitor = 2;
        configure?.Invoke(config);
        RelayLog.Quiet = true;
        var server = new RelayServer(config, null, faults) { CronPeriod = cronPeriod ?? TimeSpan.FromSeconds(9) };
        server.Start();
        return new TestRelay(server, dir);
    }

    public static string NewTempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "relay-test-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(dir);
        return dir;
    }

    public Task<TestClient> ConnectAsync() => TestClient.ConnectAsync(Url);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
