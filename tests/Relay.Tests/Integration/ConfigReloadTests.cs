using System.Net.Http.Headers;
using System.Text.Json;
using Relay.Server.Config;
using Relay.Server.Relay;
using Relay.Tests.Config;

namespace Relay.Tests.Integration;

/// <summary>strfry.conf as the relay's config, end to end, and hot reload of reloadable keys.</summary>
public class ConfigReloadTests
{
    [Fact]
    public async Task Strfry_conf_with_only_db_and_port_changed_starts_the_relay_executable()
    {
        string dir = TestRelay.NewTempDir();
        try
        {
            int port = DurabilityTests.FreePort();
            string text = StrfryConfFixture.Text
                .Replace("db = \"./strfry-db/\"", $"db = \"{Path.Combine(dir, "db")}/\"")
                .Replace("port = 7777", $"port = {port}");
            string path = Path.Combine(dir, "strfry.conf");
            File.WriteAllText(path, text);
            using var p = RelayProcess.Start(path);
            await p.WaitListeningAsync();
            await using var c = await TestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
            var ev = new TestKeys().Sign(1, "from a strfry.conf relay");
            Assert.True((await c.PublishAsync(ev)).Accepted);
            // strfry's own file loads without a warning about keys Relay ignores.
            Assert.DoesNotContain("ignored", p.Stderr);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Reloadable_key_changed_in_the_file_takes_effect_without_a_restart()
    {
        string dir = TestRelay.NewTempDir();
        string path = Path.Combine(dir, "relay.conf");
        string Conf(int maxLimit, string name) => $$"""
            db = "{{Path.Combine(dir, "db")}}/"
            dbParams { mapsize = 1073741824 }
            relay {
                port = 0
                maxFilterLimit = {{maxLimit}}
                info { name = "{{name}}" }
            }
            """;
        File.WriteAllText(path, Conf(500, "before"));
        var loaded = ConfigLoader.Load(path, []);
        var live = new LiveConfig(loaded.Config);
        RelayLog.Quiet = true;
        await using var server = new RelayServer(live);
        server.Start();
        using var watcher = new ConfigWatcher(live, loaded, new ConfigWatcherOptions { Debounce = TimeSpan.FromMilliseconds(50) });
        var reloaded = new TaskCompletionSource<ConfigReloadResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.Reloaded += r => reloaded.TrySetResult(r);
        watcher.Start();

        await using var c = await TestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}/"));
        var keys = new TestKeys();
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        for (int i = 0; i < 5; i++) Assert.True((await c.PublishAsync(keys.Sign(1, "e" + i, createdAt: now - i))).Accepted);
        Assert.Equal(5, (await c.QueryAsync("a", "{\"kinds\":[1]}")).Count);

        File.WriteAllText(path, Conf(2, "after").Replace("port = 0", "port = 1"));
        var result = await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Contains(result.Applied, ch => ch.Key == "relay.maxFilterLimit");
        // A restart-required key keeps its running value and is reported as such.
        Assert.Contains(result.RestartRequired, ch => ch.Key == "relay.port");

        Assert.Equal(2, (await c.QueryAsync("b", "{\"kinds\":[1]}")).Count);
        using var http = new HttpClient();
        var req = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{server.Port}/");
        req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/nostr+json"));
        using var doc = JsonDocument.Parse(await (await http.SendAsync(req)).Content.ReadAsStringAsync());
        Assert.Equal("after", doc.RootElement.GetProperty("name").GetString());
        Assert.Equal(2, doc.RootElement.GetProperty("limitation").GetProperty("max_limit").GetInt32());
        Directory.Delete(dir, true);
    }
}
