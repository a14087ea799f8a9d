using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Relay.Tests.Integration;

/// <summary>The relay as operators run it: a separate process, killed without warning.</summary>
public class DurabilityTests
{
    [Fact]
    public async Task Every_event_acknowledged_ok_true_survives_kill_9()
    {
        string dir = TestRelay.NewTempDir();
        try
        {
            int port = FreePort();
            string config = Path.Combine(dir, "config.json");
            File.WriteAllText(config, $$"""
                // written by the durability test
                { "db": "{{Path.Combine(dir, "db")}}", "dbParams": { "mapsize": 1073741824 },
                  "relay": { "port": {{port}}, "numThreads": { "ingester": 2, "reqWorker": 1, "reqMonitor": 1 } } }
                """);
            var url = new Uri($"ws://127.0.0.1:{port}/");
            var acknowledged = new System.Collections.Concurrent.ConcurrentBag<string>();

            using (var relay = RelayProcess.Start(config))
            {
                await relay.WaitListeningAsync();
                var keys = new TestKeys();
                // Four clients publish concurrently; the process is killed while later events are still in flight.
                var publishers = Enumerable.Range(0, 4).Select(async p =>
                {
                    await using var c = await TestClient.ConnectAsync(url);
                    for (int i = 0; i < 60; i++)
                    {
                        var ev = keys.Sign(1, $"durable {p}/{i}");
                        var (accepted, _) = await c.PublishAsync(ev);
                        if (accepted) acknowledged.Add(ev.Id);
                    }
                }).ToArray();
                await Task.WhenAll(publishers);
                // One more burst that is cut off by the kill: whatever got OK true must survive too.
                var burst = Task.Run(async () =>
                {
                    await using var c = await TestClient.ConnectAsync(url);
                    try
                    {
                        for (int i = 0; i < 500; i++)
                        {
                            var ev = keys.Sign(1, $"burst {i}");
                            var (accepted, _) = await c.PublishAsync(ev);
                            if (accepted) acknowledged.Add(ev.Id);
                        }
                    }
                    catch (Exception) { /* the relay died under us */ }
                });
                await Task.Delay(150);
                relay.Kill9();
                await burst;
            }

            Assert.True(acknowledged.Count >= 240, $"only {acknowledged.Count} acknowledged");
            using (var relay = RelayProcess.Start(config))
            {
                await relay.WaitListeningAsync();
                await using var c = await TestClient.ConnectAsync(url);
                var ids = acknowledged.ToArray();
                var found = new HashSet<string>();
                for (int i = 0; i < ids.Length; i += 100)
                {
                    string list = string.Join(",", ids.Skip(i).Take(100).Select(id => $"\"{id}\""));
                    foreach (var e in await c.QueryAsync("d" + i, $"{{\"ids\":[{list}]}}"))
                        found.Add(e.GetProperty("id").GetString()!);
                }
                Assert.Equal(ids.Length, found.Count);
            }
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    internal static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}

/// <summary>The relay executable started as a child process.</summary>
public sealed class RelayProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Text.StringBuilder _stderr = new();

    private RelayProcess(Process process) => _process = process;

    public static string RelayDll
    {
        get
        {
            string dll = Path.Combine(AppContext.BaseDirectory, "relay.dll");
            if (File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json"))) return dll;
            throw new FileNotFoundException("relay.runtimeconfig.json not found beside " + dll);
        }
    }

    public static RelayProcess Start(string configPath, params string[] extraArgs)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(RelayDll);
        psi.ArgumentList.Add("--config");
        psi.ArgumentList.Add(configPath);
        foreach (var a in extraArgs) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        var rp = new RelayProcess(p);
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (rp._stderr) rp._stderr.AppendLine(e.Data);
            if (e.Data.Contains("listening on")) rp._listening.TrySetResult();
        };
        p.Exited += (_, _) => rp._listening.TrySetException(new InvalidOperationException("relay exited: " + rp.Stderr));
        p.EnableRaisingEvents = true;
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        return rp;
    }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public Task WaitListeningAsync() => _listening.Task.WaitAsync(TimeSpan.FromSeconds(30));

    public async Task<int> WaitExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill9()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10000);
    }

    public void Dispose()
    {
        if (!_process.HasExited) Kill9();
        _process.Dispose();
    }
}
