using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Relay.Server.Config;
using Relay.Server.Policy;
using Relay.Server.Relay;
using Relay.Tests.Integration;

namespace Relay.Tests.Policy;

/// <summary>
/// Write-policy plugins in strfry's protocol, on a live relay, with plugin scripts in sh, perl and
/// node (tests/plugins): what each answer does to the client and the store, and that a slow,
/// crashing, noisy or lying plugin costs only the events it is asked about.
/// </summary>
public class WritePolicyPluginTests
{
    // whitelist.js lists the pubkey of this secret key.
    private static readonly TestKeys Listed = new(Enumerable.Repeat((byte)7, 32).ToArray());

    private static TestRelay Start(string command, int timeoutSeconds = 10) =>
        TestRelay.Start(c =>
        {
            c.Relay.WritePolicy.Plugin = command;
            c.Relay.WritePolicy.TimeoutSeconds = timeoutSeconds;
        });

    private static string Ids(TestEvent ev) => $"{{\"ids\":[\"{ev.Id}\"]}}";

    [Fact]
    public async Task Node_whitelist_plugin_stores_listed_pubkeys_and_refuses_the_rest()
    {
        Assert.Equal("989c0b76cb563971fdc9bef31ec06c3560f3249d6ee9e5d83c57625596e05f6f", Listed.PubKey);
        await using var relay = Start(Plugins.Path("whitelist.js"));
        await using var c = await relay.ConnectAsync();
        var listed = Listed.Sign(1, "from the listed key");
        var other = new TestKeys().Sign(1, "from anyone else");

        Assert.Equal((true, ""), await c.PublishAsync(listed));
        Assert.Equal((false, "blocked: pubkey is not on the allow list"), await c.PublishAsync(other));

        Assert.Single(await c.QueryAsync("listed", Ids(listed)));
        Assert.Empty(await c.QueryAsync("other", Ids(other)));
    }

    [Fact]
    public async Task Rejection_message_without_a_prefix_gets_blocked_prefix()
    {
        await using var relay = Start(Plugins.Path("reject-all.pl"));
        await using var c = await relay.ConnectAsync();
        var ev = new TestKeys().Sign(1, "anything");

        Assert.Equal((false, "blocked: this relay is read-only"), await c.PublishAsync(ev));
        Assert.Empty(await c.QueryAsync("q", Ids(ev)));
    }

    [Fact]
    public async Task Shadow_rejected_event_gets_ok_true_but_is_neither_stored_nor_delivered()
    {
        await using var relay = Start(Plugins.Command("shadow-word.sh", "spam"));
        await using var publisher = await relay.ConnectAsync();
        await using var subscriber = await relay.ConnectAsync();
        var keys = new TestKeys();
        await subscriber.SubscribeAsync("live", $"{{\"authors\":[\"{keys.PubKey}\"]}}");
        var spam = keys.Sign(1, "cheap spam for sale");
        var fine = keys.Sign(1, "hello");

        Assert.Equal((true, ""), await publisher.PublishAsync(spam));
        Assert.Equal((true, ""), await publisher.PublishAsync(fine));

        var delivered = await subscriber.ExpectAsync("EVENT");
        Assert.Equal(fine.Id, delivered[2].GetProperty("id").GetString());
        Assert.True(await subscriber.IsSilentAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Empty(await publisher.QueryAsync("spam", Ids(spam)));
        Assert.Single(await publisher.QueryAsync("fine", Ids(fine)));
    }

    [Fact]
    public async Task Plugin_receives_strfry_request_lines_carrying_the_event_as_stored()
    {
        string file = Path.Combine(TestRelay.NewTempDir(), "requests.jsonl");
        await using var relay = Start(Plugins.Command("record.sh", file));
        await using var c = await relay.ConnectAsync();
        var ev = new TestKeys().Sign(1, "say \"hi\"\n", [["t", "plugins"]]);
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        // Sent with its keys reordered and spaced out: the plugin sees the normalized form.
        await c.SendAsync($"[\"EVENT\",{Reordered(ev)}]");
        var ok = await c.ExpectAsync("OK");
        Assert.True(ok[2].GetBoolean(), ok[3].GetString());
        long after = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        string line = Assert.Single(Plugins.ReadLines(file));
        var m = Regex.Match(line,
            "^\\{\"event\":(\\{.*\\}),\"receivedAt\":(\\d+),\"sourceInfo\":\"127\\.0\\.0\\.1\",\"sourceType\":\"IP4\",\"type\":\"new\"\\}$");
        Assert.True(m.Success, line);
        string stored = Assert.Single(await c.QueryAsync("q", Ids(ev))).GetRawText();
        Assert.Equal(stored, m.Groups[1].Value);
        Assert.InRange(long.Parse(m.Groups[2].Value), before, after);
        Assert.DoesNotContain("\"authed\"", line);
    }

    [Fact]
    public async Task Client_address_from_real_ip_header_is_the_source_and_ipv6_is_IP6()
    {
        string file = Path.Combine(TestRelay.NewTempDir(), "requests.jsonl");
        await using var relay = TestRelay.Start(c =>
        {
            c.Relay.WritePolicy.Plugin = Plugins.Command("record.sh", file);
            c.Relay.RealIpHeader = "x-real-ip";
        });
        using var ws = new ClientWebSocket();
        ws.Options.SetRequestHeader("X-Real-IP", "2001:db8::7");
        await ws.ConnectAsync(relay.Url, CancellationToken.None);
        var ev = new TestKeys().Sign(1, "from behind a proxy");
        await ws.SendAsync(Encoding.UTF8.GetBytes($"[\"EVENT\",{ev.Json}]"), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var r = await ws.ReceiveAsync(buffer, cts.Token);
        Assert.Contains("\"OK\"", Encoding.UTF8.GetString(buffer, 0, r.Count));

        string line = Assert.Single(Plugins.ReadLines(file));
        Assert.EndsWith(",\"sourceInfo\":\"2001:db8::7\",\"sourceType\":\"IP6\",\"type\":\"new\"}", line);
    }

    [Fact]
    public async Task Hung_plugin_times_out_with_error_while_reqs_are_answered_and_later_events_are_accepted()
    {
        await using var relay = Start(Plugins.Path("slow.pl"), timeoutSeconds: 2);
        var log = new ConcurrentQueue<string>();
        relay.Server.WritePolicy.Log.Sink = (level, message) => log.Enqueue(message);
        await using var a = await relay.ConnectAsync();
        await using var b = await relay.ConnectAsync();
        await using var reader = await relay.ConnectAsync();
        var keys = new TestKeys();
        var warmUp = keys.Sign(1, "warm up");
        Assert.True((await a.PublishAsync(warmUp)).Accepted);

        var slow = keys.Sign(1, "please be slow");
        var behind = keys.Sign(1, "sent while the plugin hangs");
        await a.SendAsync($"[\"EVENT\",{slow.Json}]");
        await Plugins.WaitUntilAsync(() => log.Any(l => l.Contains("sleeping on " + slow.Id)), "the plugin to hang");
        await b.SendAsync($"[\"EVENT\",{behind.Json}]");

        // The plugin holds both events; queries do not wait for it.
        var found = await reader.QueryAsync("meanwhile", $"{{\"authors\":[\"{keys.PubKey}\"]}}");
        Assert.Equal(warmUp.Id, Assert.Single(found).GetProperty("id").GetString());
        Assert.True(await a.IsSilentAsync(TimeSpan.FromMilliseconds(100)), "the slow event was answered before the timeout");

        var ok = await a.ExpectAsync("OK");
        Assert.Equal(slow.Id, ok[1].GetString());
        Assert.False(ok[2].GetBoolean());
        Assert.Equal("error: write policy plugin timed out", ok[3].GetString());
        // The event that waited behind it goes to the restarted plugin.
        var okBehind = await b.ExpectAsync("OK");
        Assert.Equal(behind.Id, okBehind[1].GetString());
        Assert.True(okBehind[2].GetBoolean(), okBehind[3].GetString());
        Assert.Equal((true, ""), await a.PublishAsync(keys.Sign(1, "after the timeout")));
    }

    [Fact]
    public async Task Plugin_that_exits_after_some_events_is_restarted_and_later_events_are_accepted()
    {
        string starts = Path.Combine(TestRelay.NewTempDir(), "starts.log");
        await using var relay = Start(Plugins.Command("crash-after.sh", "2", starts));
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();

        for (int i = 0; i < 5; i++)
            Assert.Equal((true, ""), await c.PublishAsync(keys.Sign(1, $"event {i}")));

        // Two events per life: started for events 0, 2 and 4.
        Assert.Equal(3, Plugins.ReadLines(starts).Length);
    }

    [Fact]
    public async Task Event_that_kills_the_plugin_gets_an_error_and_other_events_are_accepted()
    {
        await using var relay = Start(Plugins.Path("poison.js"));
        await using var a = await relay.ConnectAsync();
        await using var b = await relay.ConnectAsync();
        var keys = new TestKeys();
        Assert.Equal((true, ""), await a.PublishAsync(keys.Sign(1, "fine")));

        var poison = keys.Sign(1, "please crash now");
        var innocent = keys.Sign(1, "in flight next to the poison");
        await a.SendAsync($"[\"EVENT\",{poison.Json}]");
        await b.SendAsync($"[\"EVENT\",{innocent.Json}]");

        var ok = await a.ExpectAsync("OK");
        Assert.Equal(poison.Id, ok[1].GetString());
        Assert.False(ok[2].GetBoolean());
        Assert.Equal("error: write policy plugin exited with status 1", ok[3].GetString());
        var okInnocent = await b.ExpectAsync("OK");
        Assert.True(okInnocent[2].GetBoolean(), okInnocent[3].GetString());
        Assert.Equal((true, ""), await a.PublishAsync(keys.Sign(1, "still fine")));
    }

    [Fact]
    public async Task Lines_that_are_not_json_objects_are_skipped_and_stderr_is_logged()
    {
        await using var relay = Start(Plugins.Path("noisy.pl"));
        var log = new ConcurrentQueue<string>();
        relay.Server.WritePolicy.Log.Sink = (level, message) => log.Enqueue(level + " " + message);
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();

        for (int i = 0; i < 3; i++)
            Assert.Equal((true, ""), await c.PublishAsync(keys.Sign(1, $"event {i}")));

        await Plugins.WaitUntilAsync(() => log.Any(l => l.Contains("stderr: noisy.pl: hello from stderr")), "the plugin's stderr in the log");
        Assert.Contains(log, l => l.StartsWith("WARN") && l.Contains("not a JSON object, skipped: debug: got an event"));
        Assert.Contains(log, l => l.Contains("skipped: [1,2,3]"));
        Assert.DoesNotContain(log, l => l.StartsWith("ERROR"));
    }

    [Theory]
    [InlineData("wrong id", "error: write policy plugin answered with the wrong id")]
    [InlineData("unknown action", "error: write policy plugin answered with an unknown action")]
    [InlineData("long answer", "error: write policy plugin sent a line longer than 8192 bytes")]
    public async Task Bad_answer_gets_error_and_the_restarted_plugin_accepts_the_next_event(string content, string expected)
    {
        await using var relay = Start(Plugins.Path("misbehave.sh"));
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        Assert.Equal((true, ""), await c.PublishAsync(keys.Sign(1, "before")));
        int? firstPid = relay.Server.WritePolicy.ProcessId;
        Assert.NotNull(firstPid);

        Assert.Equal((false, expected), await c.PublishAsync(keys.Sign(1, content)));
        Assert.Equal((true, ""), await c.PublishAsync(keys.Sign(1, "after")));
        Assert.NotEqual(firstPid, relay.Server.WritePolicy.ProcessId);
    }

    [Fact]
    public async Task Requests_are_pipelined_to_one_plugin_without_waiting_for_each_answer()
    {
        // batch3.pl answers only once it holds three requests: one-at-a-time would time out.
        await using var relay = Start(Plugins.Path("batch3.pl"), timeoutSeconds: 3);
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        var events = Enumerable.Range(0, 6).Select(i => keys.Sign(1, $"pipelined {i}")).ToList();

        foreach (var ev in events) await c.SendAsync($"[\"EVENT\",{ev.Json}]");
        var answered = new HashSet<string>();
        for (int i = 0; i < events.Count; i++)
        {
            var ok = await c.ExpectAsync("OK");
            Assert.True(ok[2].GetBoolean(), ok[3].GetString());
            answered.Add(ok[1].GetString()!);
        }
        Assert.Equal(events.Select(e => e.Id).ToHashSet(), answered);
    }

    [Fact]
    public async Task Many_events_from_several_connections_through_a_plugin_are_all_answered_and_stored()
    {
        const int perConnection = 500, connections = 3;
        await using var relay = Start(Plugins.Path("accept-all.pl"));
        var clients = new List<TestClient>();
        for (int i = 0; i < connections; i++) clients.Add(await relay.ConnectAsync());
        try
        {
            var keys = new TestKeys();
            await Task.WhenAll(clients.Select((client, n) => Task.Run(async () =>
            {
                var events = Enumerable.Range(0, perConnection).Select(i => keys.Sign(1, $"connection {n} event {i}")).ToList();
                foreach (var ev in events) await client.SendAsync($"[\"EVENT\",{ev.Json}]");
                for (int i = 0; i < perConnection; i++)
                {
                    var ok = await client.ExpectAsync("OK");
                    Assert.True(ok[2].GetBoolean(), ok[3].GetString());
                }
            })));

            await clients[0].SendAsync($"[\"COUNT\",\"all\",{{\"authors\":[\"{keys.PubKey}\"]}}]");
            var count = await clients[0].ExpectAsync("COUNT");
            Assert.Equal(perConnection * connections, count[2].GetProperty("count").GetInt32());
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Reconfigure_replaces_the_plugin_and_an_empty_command_turns_it_off()
    {
        await using var relay = Start(Plugins.Path("accept-all.pl"));
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        Assert.Equal((true, ""), await c.PublishAsync(keys.Sign(1, "first plugin")));

        relay.Server.WritePolicy.Reconfigure(Plugins.Path("reject-all.pl"), 10);
        Assert.Equal((false, "blocked: this relay is read-only"), await c.PublishAsync(keys.Sign(1, "second plugin")));

        relay.Server.WritePolicy.Reconfigure("", 10);
        Assert.False(relay.Server.WritePolicy.Enabled);
        Assert.Equal((true, ""), await c.PublishAsync(keys.Sign(1, "no plugin")));
        await Plugins.WaitUntilAsync(() => relay.Server.WritePolicy.ProcessId is null, "the plugin to be stopped");
    }

    [Fact]
    public async Task Plugin_set_in_the_config_file_takes_effect_on_reload_without_a_restart()
    {
        string dir = TestRelay.NewTempDir();
        string path = Path.Combine(dir, "relay.conf");
        string Conf(string plugin) => $$"""
            db = "{{Path.Combine(dir, "db")}}/"
            dbParams { mapsize = 1073741824 }
            relay {
                port = 0
                writePolicy { plugin = "{{plugin}}" }
            }
            """;
        File.WriteAllText(path, Conf(""));
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
        Assert.Equal((true, ""), await c.PublishAsync(keys.Sign(1, "no plugin yet")));

        File.WriteAllText(path, Conf(Plugins.Path("reject-all.pl")));
        var result = await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.True(result.Succeeded, result.Error);
        Assert.Contains(result.Applied, change => change.Key == "relay.writePolicy.plugin");
        Assert.Equal((false, "blocked: this relay is read-only"), await c.PublishAsync(keys.Sign(1, "after the reload")));
    }

    [Fact]
    public async Task Editing_the_script_file_restarts_the_plugin()
    {
        string script = Path.Combine(TestRelay.NewTempDir(), "policy.pl");
        File.Copy(Plugins.Path("accept-all.pl"), script);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var relay = Start(script);
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        Assert.Equal((true, ""), await c.PublishAsync(keys.Sign(1, "old script")));

        File.Copy(Plugins.Path("reject-all.pl"), script, overwrite: true);
        File.SetLastWriteTimeUtc(script, DateTime.UtcNow.AddSeconds(5));

        Assert.Equal((false, "blocked: this relay is read-only"), await c.PublishAsync(keys.Sign(1, "new script")));
    }

    [Fact]
    public async Task Plugin_that_cannot_start_refuses_events_with_error_and_the_relay_keeps_serving()
    {
        await using var relay = Start("/nonexistent/relay-write-policy");
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();

        for (int i = 0; i < 3; i++)
        {
            var (accepted, message) = await c.PublishAsync(keys.Sign(1, $"refused {i}"));
            Assert.False(accepted);
            Assert.StartsWith("error: write policy plugin ", message);
        }
        Assert.Empty(await c.QueryAsync("q", $"{{\"authors\":[\"{keys.PubKey}\"]}}"));

        relay.Server.WritePolicy.Reconfigure(Plugins.Path("accept-all.pl"), 10);
        Assert.Equal((true, ""), await c.PublishAsync(keys.Sign(1, "fixed")));
    }

    [Fact]
    public async Task EvaluateAsync_asks_the_plugin_about_imported_events_with_source_Import_and_authed()
    {
        string file = Path.Combine(TestRelay.NewTempDir(), "requests.jsonl");
        using var plugin = new WritePolicyPlugin(Plugins.Command("record.sh", file), 10);
        var keys = new TestKeys();
        var ev = keys.Sign(1, "imported");

        var verdict = await plugin.EvaluateAsync(Encoding.UTF8.GetBytes(ev.Json), EventSourceType.Import, "", keys.PubKey);

        Assert.Equal(PolicyVerdict.Accept, verdict);
        string line = Assert.Single(Plugins.ReadLines(file));
        Assert.Matches(
            "^\\{\"authed\":\"" + keys.PubKey + "\",\"event\":" + Regex.Escape(ev.Json)
            + ",\"receivedAt\":\\d+,\"sourceInfo\":\"\",\"sourceType\":\"Import\",\"type\":\"new\"\\}$", line);
    }

    [Fact]
    public async Task Import_seam_CheckAsync_sends_source_Import_with_the_importers_receivedAt()
    {
        string file = Path.Combine(TestRelay.NewTempDir(), "requests.jsonl");
        using var plugin = new WritePolicyPlugin(Plugins.Command("record.sh", file), 10);
        IEventPolicy policy = plugin;
        var ev = new TestKeys().Sign(1, "imported from a file");

        var verdict = await policy.CheckAsync(
            new PolicyRequest(Encoding.UTF8.GetBytes(ev.Json), EventSourceType.Import, "events.jsonl", 1700000000), CancellationToken.None);

        Assert.Equal(PolicyVerdict.Accept, verdict);
        string line = Assert.Single(Plugins.ReadLines(file));
        Assert.Equal("{\"event\":" + ev.Json + ",\"receivedAt\":1700000000,\"sourceInfo\":\"events.jsonl\",\"sourceType\":\"Import\",\"type\":\"new\"}", line);
    }

    [Fact]
    public async Task EvaluateAsync_calls_in_flight_together_each_get_their_own_verdict()
    {
        using var plugin = new WritePolicyPlugin(Plugins.Path("whitelist.js"), 10);
        var other = new TestKeys();
        var events = Enumerable.Range(0, 300).Select(i => (i % 3 == 0 ? Listed : other).Sign(1, $"streamed {i}")).ToList();

        var verdicts = await Task.WhenAll(events.Select(ev =>
            plugin.EvaluateAsync(Encoding.UTF8.GetBytes(ev.Json), EventSourceType.Stream, "wss://upstream.example/")));

        for (int i = 0; i < events.Count; i++)
        {
            if (i % 3 == 0) Assert.Equal(PolicyVerdict.Accept, verdicts[i]);
            else Assert.Equal(new PolicyVerdict(PolicyAction.Reject, "blocked: pubkey is not on the allow list"), verdicts[i]);
        }
    }

    [Fact]
    public async Task Without_a_command_EvaluateAsync_accepts_and_starts_nothing()
    {
        using var plugin = new WritePolicyPlugin("", 10);
        var ev = new TestKeys().Sign(1, "no plugin");

        Assert.False(plugin.Enabled);
        Assert.Equal(PolicyVerdict.Accept, await plugin.EvaluateAsync(Encoding.UTF8.GetBytes(ev.Json), EventSourceType.Sync, "wss://x/"));
        Assert.Null(plugin.ProcessId);
    }

    /// <summary>The event with its keys in reverse order and whitespace between tokens.</summary>
    private static string Reordered(TestEvent ev)
    {
        using var doc = JsonDocument.Parse(ev.Json);
        var props = doc.RootElement.EnumerateObject().Reverse().Select(p => $"\n  \"{p.Name}\" : {p.Value.GetRawText()}");
        return "{" + string.Join(",", props) + "\n}";
    }
}
