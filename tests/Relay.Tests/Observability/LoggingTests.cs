using System.Text.Json;
using System.Text.RegularExpressions;
using Relay.Tests.Integration;

namespace Relay.Tests.Observability;

/// <summary>The log as an operator reads it: one line per record, key=value or JSON, and strfry's relay.logging flags.</summary>
[Collection(ObservabilityCollection.Name)]
public partial class LoggingTests
{
    // logfmt: key=bare or key="escaped".
    [GeneratedRegex("""(?<key>[a-z_]+)=(?:"(?<quoted>(?:[^"\\]|\\.)*)"|(?<bare>[^ ]*))""")]
    private static partial Regex Pair();

    /// <summary>A logfmt line back into its fields (the way Loki or logcli would read it).</summary>
    internal static Dictionary<string, string> ParseText(string line)
    {
        var fields = new Dictionary<string, string>();
        foreach (Match m in Pair().Matches(line))
        {
            string value = m.Groups["quoted"].Success
                ? Regex.Unescape(m.Groups["quoted"].Value)
                : m.Groups["bare"].Value;
            fields[m.Groups["key"].Value] = value;
        }
        return fields;
    }

    [Fact]
    public void Text_records_are_one_logfmt_line_whatever_the_values_hold()
    {
        string line = LogLine.Format(LogFormat.Text, new DateTime(2026, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc), LogLevel.Warn,
            "a message with \"quotes\"", [new LogField("conn", 42), new LogField("payload", "[\"EVENT\",{}]\nsecond line"), new LogField("empty", "")]);

        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("ts=2026-01-02T03:04:05.678Z level=WARN msg=", line);
        var f = ParseText(line);
        Assert.Equal("a message with \"quotes\"", f["msg"]);
        Assert.Equal("42", f["conn"]);
        Assert.Equal("[\"EVENT\",{}]\nsecond line", f["payload"]);
        Assert.Equal("", f["empty"]);
    }

    [Fact]
    public void Json_records_are_one_object_per_line_with_numbers_as_numbers()
    {
        string line = LogLine.Format(LogFormat.Json, new DateTime(2026, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc), LogLevel.Error,
            "boom <&>", [new LogField("conn", 42), new LogField("payload", "[\"EVENT\"]\nx")]);

        Assert.DoesNotContain('\n', line);
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        Assert.Equal("2026-01-02T03:04:05.678Z", root.GetProperty("ts").GetString());
        Assert.Equal("ERROR", root.GetProperty("level").GetString());
        Assert.Equal("boom <&>", root.GetProperty("msg").GetString());
        Assert.Equal(JsonValueKind.Number, root.GetProperty("conn").ValueKind);
        Assert.Equal(42, root.GetProperty("conn").GetInt64());
        Assert.Equal("[\"EVENT\"]\nx", root.GetProperty("payload").GetString());
    }

    [Fact]
    public void Verbosity_hides_records_below_the_level_as_strfry_does()
    {
        using var log = new LogCapture();
        var before = RelayLog.Level;
        try
        {
            Assert.True(RelayLog.TrySetVerbosity("WARN"));
            RelayLog.Info("hidden info");
            RelayLog.Warn("shown warning");
            Assert.True(RelayLog.TrySetVerbosity("1"));   // loguru's numbers: 1 and up is debug
            RelayLog.Debug("shown debug");
            Assert.True(RelayLog.TrySetVerbosity("-2"));
            RelayLog.Warn("hidden warning");
            RelayLog.Error("shown error");
            Assert.False(RelayLog.TrySetVerbosity("LOUD"));
        }
        finally
        {
            RelayLog.TrySetVerbosity(before.ToString());
        }
        Assert.Empty(log.Containing("hidden"));
        Assert.Equal(3, log.Containing("shown").Count());
    }

    [Fact]
    public async Task Dump_flags_log_incoming_messages_with_connection_and_address()
    {
        using var log = new LogCapture();
        await using var relay = TestRelay.Start(c => c.Relay.Logging.DumpInEvents = true);
        await using var c = await relay.ConnectAsync();
        var ev = new TestKeys().Sign(1, "dump me");
        await c.PublishAsync(ev);
        await c.QueryAsync("s", "{\"kinds\":[1]}");

        var dumps = log.Containing("msg=dumpIn").Select(ParseText).ToList();
        var dump = Assert.Single(dumps);
        Assert.Equal("EVENT", dump["verb"]);
        Assert.Equal($"[\"EVENT\",{ev.Json}]", dump["payload"]);
        Assert.Equal("127.0.0.1", dump["ip"]);
        Assert.True(long.Parse(dump["conn"], System.Globalization.CultureInfo.InvariantCulture) > 0);

        // The CLOSE of "s" may still be on its way; an OK comes back only after it was read.
        await c.PublishAsync(new TestKeys().Sign(1, "a barrier"));
        int seen = log.Lines.Count;
        relay.Server.Log.Apply(new Relay.Server.Config.LoggingConfig { DumpInReqs = true });
        await c.PublishAsync(new TestKeys().Sign(1, "not dumped now"));
        await c.QueryAsync("t", "{\"kinds\":[1]}");
        await c.SendAsync("[\"COUNT\",\"u\",{\"kinds\":[1]}]");
        await c.ExpectAsync("COUNT");
        var verbs = log.Lines.Skip(seen).Where(l => l.Contains("msg=dumpIn", StringComparison.Ordinal)).Select(l => ParseText(l)["verb"]).ToList();
        Assert.Equal(["REQ", "CLOSE", "COUNT"], verbs);

        relay.Server.Log.Apply(new Relay.Server.Config.LoggingConfig { DumpInAll = true });
        await c.SendAsync("[\"NOPE\"]");
        await c.ExpectAsync("NOTICE");
        Assert.Equal("[\"NOPE\"]", ParseText(log.Containing("msg=dumpIn").Last())["payload"]);
    }

    [Fact]
    public async Task Invalid_events_are_logged_with_their_reason_unless_switched_off()
    {
        using var log = new LogCapture();
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        var ev = new TestKeys().Sign(1, "tampered");
        string forged = ev.WithField("content", "\"changed after signing\"");
        await c.SendAsync($"[\"EVENT\",{forged}]");
        var ok = await c.ExpectAsync("OK");
        Assert.False(ok[2].GetBoolean());

        var line = ParseText(Assert.Single(log.Containing("rejected invalid event")));
        Assert.Equal("INFO", line["level"]);
        Assert.Equal(ok[3].GetString(), line["reason"]);
        Assert.Equal(ok[1].GetString(), line["id"]);

        relay.Server.Log.Apply(new Relay.Server.Config.LoggingConfig { InvalidEvents = false });
        await c.SendAsync($"[\"EVENT\",{forged}]");
        await c.ExpectAsync("OK");
        Assert.Single(log.Containing("rejected invalid event"));
    }

    [Fact]
    public async Task DbScanPerf_logs_each_query_with_its_index_work_and_results()
    {
        using var log = new LogCapture();
        await using var relay = TestRelay.Start(c => c.Relay.Logging.DbScanPerf = true);
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        for (int i = 0; i < 3; i++) await c.PublishAsync(keys.Sign(9041, "scan " + i));
        await c.QueryAsync("perf", "{\"kinds\":[9041]}", $"{{\"authors\":[\"{keys.PubKey}\"],\"kinds\":[9041],\"limit\":1}}");
        await c.SendAsync("[\"COUNT\",\"cnt\",{\"kinds\":[9041]}]");
        await c.ExpectAsync("COUNT");

        var req = ParseText(Assert.Single(log.Containing("msg=\"REQ scan\"")));
        Assert.Equal("perf", req["sub"]);
        Assert.Equal("kind,author_kind", req["index"]);
        Assert.Equal("3", req["sent"]);
        Assert.True(long.Parse(req["work"], System.Globalization.CultureInfo.InvariantCulture) >= 3);
        Assert.True(long.Parse(req["time_us"], System.Globalization.CultureInfo.InvariantCulture)
                    >= long.Parse(req["scan_us"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("1", req["slices"]);
        var count = ParseText(Assert.Single(log.Containing("msg=\"COUNT scan\"")));
        Assert.Equal("3", count["count"]);
        Assert.Equal("kind", count["index"]);
    }

    [Fact]
    public async Task Logging_flags_follow_a_config_reload()
    {
        await using var relay = TestRelay.Start();
        Assert.False(relay.Server.Log.DbScanPerf);
        Assert.True(relay.Server.Log.InvalidEvents);
        var next = new Relay.Server.Config.RelayConfig();
        foreach (var key in Relay.Server.Config.ConfigSchema.Keys) key.CopyValue(relay.Server.Config, next);
        next.Relay.Logging.DbScanPerf = true;
        next.Relay.Logging.InvalidEvents = false;
        relay.Server.Live.Apply(next, []);
        Assert.True(relay.Server.Log.DbScanPerf);
        Assert.False(relay.Server.Log.InvalidEvents);
    }

    [Fact]
    public async Task The_relay_writes_json_lines_when_the_config_says_so()
    {
        string dir = TestRelay.NewTempDir();
        try
        {
            string config = Relay.Tests.Commands.RelayCli.WriteConfig(dir,
                $"\"relay\": {{ \"port\": {FreePort()}, \"logging\": {{ \"format\": \"json\" }} }}");
            using (var relay = RelayProcess.Start(config))
            {
                await relay.WaitListeningAsync();
                var lines = relay.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                Assert.NotEmpty(lines);
                var records = lines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
                var listening = Assert.Single(records, r => r.GetProperty("msg").GetString()!.Contains("listening on", StringComparison.Ordinal));
                Assert.Equal("INFO", listening.GetProperty("level").GetString());
            }

            string bad = Relay.Tests.Commands.RelayCli.WriteConfig(dir, "\"relay\": { \"logging\": { \"format\": \"xml\" } }");
            var r = await Relay.Tests.Commands.RelayCli.RunAsync("--config", bad);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("relay.logging.format", r.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        int port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
