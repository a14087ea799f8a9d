using System.Text;
using System.Text.Json;
using Relay.Tests.Integration;

namespace Relay.Tests.Commands;

/// <summary>relay import / export as an operator runs them, against real databases and a file real strfry wrote.</summary>
public class ImportExportCommandTests
{
    // In strfry's export although expired (strfry's import does not look at time; its cron deletes it later).
    private const string ExpiredId = "96a415e5a0611da09f2e422f87c979dde7bd185bcc626b6d9d76a01ffe6a2d1f";

    [Fact]
    public async Task Strfry_export_piped_into_import_is_served_event_for_event()
    {
        using var db = new TempDb();
        string export = CommandTestKit.StrfryFixture("strfry-export.jsonl");
        var r = await db.ShellAsync($"cat '{export}' | relay import");
        Assert.True(r.ExitCode == 0, r.ToString());
        // 903 lines; the one strfry kept although it had expired is refused: it would never be served.
        Assert.Contains("Read 903 lines: 902 stored, 0 duplicate, 1 rejected", r.Stderr);
        Assert.Contains("invalid: event expired: 1", r.Stderr);

        var expected = File.ReadAllLines(CommandTestKit.StrfryFixture("expected-ids.txt")).Where(l => l.Length > 0).ToList();
        Assert.Equal(903, expected.Count);
        var strfryEvents = new Dictionary<string, JsonElement>();
        foreach (var line in File.ReadLines(export))
        {
            var e = JsonDocument.Parse(line).RootElement;
            strfryEvents[e.GetProperty("id").GetString()!] = e;
        }

        await using var relay = TestRelay.Start(dir: db.DbDir);
        await using var client = await relay.ConnectAsync();
        var served = await CommandTestKit.FetchByIdsAsync(client, expected);
        Assert.Equal(expected.Where(id => id != ExpiredId).Order(), served.Keys.Order());
        // Same event, field for field; only the key order differs (strfry: alphabetical, Relay: NIP-01's).
        foreach (var (id, e) in served)
        {
            var s = strfryEvents[id];
            foreach (var field in new[] { "pubkey", "created_at", "kind", "tags", "content", "sig" })
                Assert.Equal(s.GetProperty(field).GetRawText(), e.GetProperty(field).GetRawText());
        }
    }

    [Fact]
    public async Task Export_import_export_round_trip_is_byte_identical()
    {
        using var source = new TempDb();
        using var copy = new TempDb();
        Assert.Equal(0, (await source.RunAsync("import", CommandTestKit.StrfryFixture("strfry-export.jsonl"))).ExitCode);
        string first = source.PathOf("first.jsonl"), second = copy.PathOf("second.jsonl");
        Assert.Equal(0, (await source.ShellAsync($"relay export > '{first}'")).ExitCode);
        var r = await copy.ShellAsync($"relay import < '{first}' && relay export > '{second}'");
        Assert.True(r.ExitCode == 0, r.ToString());
        byte[] a = File.ReadAllBytes(first), b = File.ReadAllBytes(second);
        Assert.Equal(902, a.Count(x => x == (byte)'\n'));
        Assert.True(a.AsSpan().SequenceEqual(b), "second export differs from the first");
    }

    [Fact]
    public async Task Export_is_oldest_first_with_inclusive_since_and_until_and_reverses()
    {
        using var db = new TempDb();
        var keys = new TestKeys();
        var events = new[] { 1000, 3000, 2000, 2000, 4000 }.Select((t, i) => keys.Sign(1, $"n{i}", createdAt: 1_700_000_000 + t)).ToList();
        CommandTestKit.WriteJsonl(db.PathOf("in.jsonl"), events.Select(e => e.Json));
        Assert.Equal(0, (await db.RunAsync("import", db.PathOf("in.jsonl"))).ExitCode);

        var all = await db.RunAsync("export");
        Assert.Equal(0, all.ExitCode);
        // Ties keep insertion (levId) order, like strfry.
        Assert.Equal(new[] { 0, 2, 3, 1, 4 }.Select(i => events[i].Id), CommandTestKit.Ids(all.Stdout));

        var window = await db.RunAsync("export", "--since=1700002000", "--until", "1700003000");
        Assert.Equal(new[] { 2, 3, 1 }.Select(i => events[i].Id), CommandTestKit.Ids(window.Stdout));

        var reversed = await db.RunAsync("export", "--reverse", "--since", "1700002000");
        Assert.Equal(new[] { 4, 1, 3, 2 }.Select(i => events[i].Id), CommandTestKit.Ids(reversed.Stdout));
    }

    [Fact]
    public async Task Export_stops_with_exit_code_1_when_its_reader_goes_away()
    {
        using var db = new TempDb();
        Assert.Equal(0, (await db.RunAsync("import", CommandTestKit.StrfryFixture("strfry-export.jsonl"))).ExitCode);
        // 700 KB of output, far more than a pipe holds: the export meets the closed pipe (strfry: SIGPIPE, exit 1).
        var r = await db.ShellAsync("set +e; relay export | head -c 10 > /dev/null; echo \"export=${PIPESTATUS[0]}\"");
        Assert.Contains("export=1", r.Stdout);
    }

    [Fact]
    public async Task Export_lines_are_the_bytes_a_client_receives()
    {
        using var db = new TempDb();
        var keys = new TestKeys();
        // Escapes that a re-serializer could change: the stored bytes must come back as they are.
        var ev = keys.Sign(1, "quote \" backslash \\ tab \t newline \n emoji \U0001F600 </script> \u2028", [["t", "ünïcode"]]);
        CommandTestKit.WriteJsonl(db.PathOf("in.jsonl"), [ev.Json]);
        Assert.Equal(0, (await db.RunAsync("import", db.PathOf("in.jsonl"))).ExitCode);
        var exported = await db.RunAsync("export");

        await using var relay = TestRelay.Start(dir: db.DbDir);
        var raw = await RawEventAsync(relay.Url, ev.Id);
        Assert.Equal(raw + "\n", exported.Stdout);
    }

    [Fact]
    public async Task Import_counts_every_refused_line_by_reason_and_shows_each_on_request()
    {
        using var db = new TempDb();
        var keys = new TestKeys();
        var good = Enumerable.Range(0, 5).Select(i => keys.Sign(1, $"good {i}")).ToList();
        var badSig = keys.Sign(1, "bad sig");
        var badId = keys.Sign(1, "bad id");
        string flippedSig = badSig.WithField("sig", "\"" + Flip(badSig.Sig) + "\"");
        string wrongId = badId.WithField("content", "\"tampered\"");
        var lines = new List<string>
        {
            good[0].Json, "this is not json", flippedSig, good[1].Json, "", wrongId, good[2].Json, good[2].Json,
            "{\"id\":\"nope\"}", "   ", good[3].Json, good[4].Json,
        };
        CommandTestKit.WriteJsonl(db.PathOf("in.jsonl"), lines);

        var r = await db.RunAsync("import", "--show-rejected", db.PathOf("in.jsonl"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Read 10 lines: 5 stored, 1 duplicate, 4 rejected", r.Stderr);
        Assert.Contains("invalid: bad signature: 1", r.Stderr);
        Assert.Contains("invalid: bad event id: 1", r.Stderr);
        Assert.Contains("invalid: malformed JSON: 1", r.Stderr);
        Assert.Contains("invalid: id must be 64 lowercase hex characters: 1", r.Stderr);
        Assert.Contains($"Rejected event {badSig.Id} (line 3): invalid: bad signature", r.Stderr);
        Assert.Contains($"Rejected event {badId.Id} (line 6): invalid: bad event id", r.Stderr);
        Assert.Contains("Rejected event unknown (line 2): invalid: malformed JSON", r.Stderr);

        var quiet = await db.RunAsync("import", db.PathOf("in.jsonl"));
        Assert.Equal(0, quiet.ExitCode);
        Assert.DoesNotContain("Rejected event", quiet.Stderr);
        Assert.Contains("Read 10 lines: 0 stored, 6 duplicate, 4 rejected", quiet.Stderr);

        var exported = CommandTestKit.Ids((await db.RunAsync("export")).Stdout);
        Assert.Equal(good.Select(e => e.Id).Order(), exported.Order());
    }

    [Fact]
    public async Task No_verify_stores_events_whose_signature_is_wrong_but_still_checks_ids()
    {
        using var db = new TempDb();
        var keys = new TestKeys();
        var ev = keys.Sign(1, "unsigned, really");
        string forged = ev.WithField("sig", "\"" + Flip(ev.Sig) + "\"");
        string wrongId = keys.Sign(1, "x").WithField("content", "\"y\"");
        CommandTestKit.WriteJsonl(db.PathOf("in.jsonl"), [forged, wrongId]);

        var r = await db.RunAsync("import", "--no-verify", db.PathOf("in.jsonl"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Read 2 lines: 1 stored, 0 duplicate, 1 rejected", r.Stderr);
        Assert.Contains("invalid: bad event id: 1", r.Stderr);
        Assert.Equal([ev.Id], CommandTestKit.Ids((await db.RunAsync("export")).Stdout));
    }

    [Fact]
    public async Task Import_takes_events_outside_the_created_at_window_like_strfry()
    {
        using var db = new TempDb();
        var keys = new TestKeys();
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var old = keys.Sign(1, "from 2015", createdAt: 1_420_000_000);
        var future = keys.Sign(1, "a day ahead", createdAt: now + 86_400);
        CommandTestKit.WriteJsonl(db.PathOf("in.jsonl"), [old.Json, future.Json]);
        var r = await db.RunAsync("import", db.PathOf("in.jsonl"));
        Assert.Contains("Read 2 lines: 2 stored", r.Stderr);

        // A client publishing the same events is refused: the window is the relay's, not the import's.
        using var other = new TempDb();
        await using var relay = TestRelay.Start(dir: other.DbDir);
        await using var client = await relay.ConnectAsync();
        Assert.False((await client.PublishAsync(old)).Accepted);
        Assert.False((await client.PublishAsync(future)).Accepted);
    }

    [Fact]
    public async Task Import_refuses_lines_longer_than_max_event_size_and_goes_on()
    {
        using var db = new TempDb();
        var keys = new TestKeys();
        var big = keys.Sign(1, new string('x', 70_000));
        var small = keys.Sign(1, "small");
        CommandTestKit.WriteJsonl(db.PathOf("in.jsonl"), [big.Json, small.Json]);
        var r = await db.RunAsync("import", db.PathOf("in.jsonl"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Read 2 lines: 1 stored, 0 duplicate, 1 rejected", r.Stderr);
        Assert.Contains("line longer than maxEventSize", r.Stderr);
    }

    [Fact]
    public async Task Import_of_an_empty_file_stores_nothing_and_succeeds()
    {
        using var db = new TempDb();
        File.WriteAllText(db.PathOf("empty.jsonl"), "");
        var r = await db.RunAsync("import", db.PathOf("empty.jsonl"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Read 0 lines: 0 stored, 0 duplicate, 0 rejected", r.Stderr);
    }

    [Fact]
    public async Task Import_of_a_missing_file_exits_1_and_says_so()
    {
        using var db = new TempDb();
        var r = await db.RunAsync("import", db.PathOf("missing.jsonl"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("missing.jsonl", r.Stderr);
    }

    [Fact]
    public async Task Import_reads_a_last_line_without_newline_and_crlf_line_ends()
    {
        using var db = new TempDb();
        var keys = new TestKeys();
        var a = keys.Sign(1, "a");
        var b = keys.Sign(1, "b");
        File.WriteAllText(db.PathOf("in.jsonl"), a.Json + "\r\n" + b.Json, new UTF8Encoding(false));
        var r = await db.RunAsync("import", db.PathOf("in.jsonl"));
        Assert.Contains("Read 2 lines: 2 stored", r.Stderr);
    }

    [Fact]
    public async Task Commands_are_listed_with_their_own_help()
    {
        var help = await RelayCli.RunAsync("--help");
        foreach (var command in new[] { "export", "import", "scan", "delete", "compact", "backup" })
        {
            Assert.Contains(command, help.Stdout);
            var own = await RelayCli.RunAsync(command, "--help");
            Assert.True(own.ExitCode == 0, own.ToString());
            Assert.Contains("Usage:", own.Stdout);
        }
        Assert.Contains("--show-rejected", (await RelayCli.RunAsync("import", "--help")).Stdout);
        Assert.Contains("Restore", (await RelayCli.RunAsync("backup", "--help")).Stdout);
    }

    internal static string Flip(string hex) => (hex[0] == '0' ? '1' : '0') + hex[1..];

    /// <summary>The EVENT message's event object exactly as the relay sent it (no JSON re-serialization).</summary>
    internal static async Task<string> RawEventAsync(Uri url, string id)
    {
        using var ws = new System.Net.WebSockets.ClientWebSocket();
        await ws.ConnectAsync(url, CancellationToken.None);
        await ws.SendAsync(Encoding.UTF8.GetBytes($"[\"REQ\",\"raw\",{{\"ids\":[\"{id}\"]}}]"), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[1 << 20];
        int total = 0;
        System.Net.WebSockets.WebSocketReceiveResult r;
        do
        {
            r = await ws.ReceiveAsync(new ArraySegment<byte>(buffer, total, buffer.Length - total), CancellationToken.None);
            total += r.Count;
        }
        while (!r.EndOfMessage);
        string message = Encoding.UTF8.GetString(buffer, 0, total);
        const string prefix = "[\"EVENT\",\"raw\",";
        Assert.StartsWith(prefix, message);
        return message[prefix.Length..^1];
    }
}
