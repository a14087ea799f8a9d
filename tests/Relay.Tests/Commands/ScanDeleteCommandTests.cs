using Relay.Tests.Integration;

namespace Relay.Tests.Commands;

/// <summary>relay scan and relay delete against real databases, checked against what a live relay serves.</summary>
public class ScanDeleteCommandTests
{
    [Theory]
    [InlineData("{\"kinds\":[1],\"limit\":50}")]
    [InlineData("{\"kinds\":[7],\"since\":1764050000,\"until\":1764150000}")]
    [InlineData("{\"#t\":[\"nostr\",\"日本\"],\"limit\":40}")]
    [InlineData("{\"authors\":[\"41d1354074d927bd545648e1cd8bfe9e3d3095b365178e7319984e802afa0d1a\"],\"kinds\":[1,7],\"limit\":100}")]
    [InlineData("{\"kinds\":[1],\"since\":1764250000,\"until\":1764250001}")]
    [InlineData("{\"kinds\":[0,3,30023]}")]
    public async Task Scan_prints_what_a_REQ_gets_in_the_same_order(string filter)
    {
        using var db = new TempDb();
        Assert.Equal(0, (await db.RunAsync("import", CommandTestKit.StrfryFixture("strfry-export.jsonl"))).ExitCode);
        var scan = await db.RunAsync("scan", filter);
        Assert.True(scan.ExitCode == 0, scan.ToString());
        var count = await db.RunAsync("scan", "--count", filter);
        var scanned = CommandTestKit.Ids(scan.Stdout);

        await using var relay = TestRelay.Start(dir: db.DbDir);
        await using var client = await relay.ConnectAsync();
        var served = (await client.QueryAsync("s", filter)).Select(e => e.GetProperty("id").GetString()!).ToList();
        Assert.NotEmpty(served);
        Assert.Equal(served, scanned);
        Assert.Equal(served.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), count.Stdout.Trim());
    }

    [Fact]
    public async Task Scan_applies_the_filter_limit_but_not_max_filter_limit()
    {
        using var db = new TempDb();
        Assert.Equal(0, (await db.RunAsync("import", CommandTestKit.StrfryFixture("strfry-export.jsonl"))).ExitCode);
        // 678 kind-1 events in the fixture, one of them expired (not imported): more than maxFilterLimit (500).
        Assert.Equal("677", (await db.RunAsync("scan", "--count", "{\"kinds\":[1]}")).Stdout.Trim());
        Assert.Equal("7", (await db.RunAsync("scan", "--count", "{\"kinds\":[1],\"limit\":7}")).Stdout.Trim());
        var paused = await db.RunAsync("scan", "--pause", "1", "--metrics", "{\"kinds\":[1]}");
        Assert.Equal(677, CommandTestKit.Ids(paused.Stdout).Count);
        Assert.Contains("scan: 677 events", paused.Stderr);
    }

    [Fact]
    public async Task Scan_with_a_bad_filter_exits_1_with_the_reason()
    {
        using var db = new TempDb();
        var r = await db.RunAsync("scan", "{\"kinds\":\"1\"}");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("bad filter", r.Stderr);
        Assert.Equal(1, (await db.RunAsync("scan", "not json")).ExitCode);
    }

    [Fact]
    public async Task Delete_by_age_removes_only_older_events()
    {
        using var db = new TempDb();
        var keys = new TestKeys();
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var old = Enumerable.Range(0, 4).Select(i => keys.Sign(1, $"old {i}", createdAt: now - 10 * 86_400 - i)).ToList();
        var recent = Enumerable.Range(0, 3).Select(i => keys.Sign(1, $"recent {i}", createdAt: now - 3600 - i)).ToList();
        CommandTestKit.WriteJsonl(db.PathOf("in.jsonl"), old.Concat(recent).Select(e => e.Json));
        Assert.Equal(0, (await db.RunAsync("import", db.PathOf("in.jsonl"))).ExitCode);

        var dry = await db.RunAsync("delete", "--age", "86400", "--dry-run");
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains("Would delete 4 events", dry.Stderr);
        Assert.Equal(7, CommandTestKit.Ids((await db.RunAsync("export")).Stdout).Count);

        var r = await db.RunAsync("delete", "--age=86400");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Deleted 4 events", r.Stderr);
        Assert.Equal(recent.Select(e => e.Id).Order(), CommandTestKit.Ids((await db.RunAsync("export")).Stdout).Order());
    }

    [Fact]
    public async Task Delete_by_filter_removes_events_from_every_index()
    {
        using var db = new TempDb();
        var alice = new TestKeys();
        var bob = new TestKeys();
        var doomed = Enumerable.Range(0, 3).Select(i => alice.Sign(1, $"doomed {i}", [["t", "doomed"], ["p", bob.PubKey]])).ToList();
        var profile = alice.Sign(0, "{\"name\":\"alice\"}");
        var kept = Enumerable.Range(0, 2).Select(i => bob.Sign(1, $"kept {i}", [["t", "doomed"]])).ToList();
        CommandTestKit.WriteJsonl(db.PathOf("in.jsonl"), doomed.Append(profile).Concat(kept).Select(e => e.Json));
        Assert.Equal(0, (await db.RunAsync("import", db.PathOf("in.jsonl"))).ExitCode);

        var r = await db.RunAsync("delete", "--filter", $"{{\"authors\":[\"{alice.PubKey}\"]}}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Deleted 4 events", r.Stderr);

        // Whatever index a query takes, the deleted events are gone from it.
        foreach (var filter in new[]
        {
            $"{{\"ids\":[{string.Join(',', doomed.Select(e => $"\"{e.Id}\""))}]}}",
            $"{{\"authors\":[\"{alice.PubKey}\"]}}",
            $"{{\"authors\":[\"{alice.PubKey}\"],\"kinds\":[0,1]}}",
            "{\"kinds\":[0]}",
            $"{{\"#p\":[\"{bob.PubKey}\"]}}",
        })
            Assert.Equal("0", (await db.RunAsync("scan", "--count", filter)).Stdout.Trim());
        var tagged = CommandTestKit.Ids((await db.RunAsync("scan", "{\"#t\":[\"doomed\"]}")).Stdout);
        Assert.Equal(kept.Select(e => e.Id).Order(), tagged.Order());

        // The replaceable slot is free again: an older profile is accepted now.
        var older = alice.Sign(0, "{\"name\":\"older\"}", createdAt: profile.CreatedAt - 10);
        CommandTestKit.WriteJsonl(db.PathOf("older.jsonl"), [older.Json]);
        Assert.Contains("1 stored", (await db.RunAsync("import", db.PathOf("older.jsonl"))).Stderr);
    }

    [Fact]
    public async Task Delete_with_age_and_filter_takes_both_and_its_limit()
    {
        using var db = new TempDb();
        var keys = new TestKeys();
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var oldNotes = Enumerable.Range(0, 5).Select(i => keys.Sign(1, $"n{i}", createdAt: now - 86_400 * 3 - i)).ToList();
        var oldReactions = Enumerable.Range(0, 2).Select(i => keys.Sign(7, "+", createdAt: now - 86_400 * 3 - i)).ToList();
        var newNote = keys.Sign(1, "new");
        CommandTestKit.WriteJsonl(db.PathOf("in.jsonl"), oldNotes.Concat(oldReactions).Append(newNote).Select(e => e.Json));
        Assert.Equal(0, (await db.RunAsync("import", db.PathOf("in.jsonl"))).ExitCode);

        var r = await db.RunAsync("delete", "--age", "86400", "--filter", "{\"kinds\":[1],\"limit\":3}");
        Assert.Contains("Deleted 3 events", r.Stderr);
        // The limit picks the newest matches, as a REQ would.
        var left = CommandTestKit.Ids((await db.RunAsync("export")).Stdout);
        Assert.Equal(oldNotes.Skip(3).Concat(oldReactions).Append(newNote).Select(e => e.Id).Order(), left.Order());

        var until = await db.RunAsync("delete", "--age", "10", "--filter", "{\"until\":5}");
        Assert.Equal(1, until.ExitCode);
        Assert.Contains("not compatible", until.Stderr);
    }

    [Fact]
    public async Task Delete_without_age_or_filter_exits_1()
    {
        using var db = new TempDb();
        var r = await db.RunAsync("delete");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("must specify --age and/or --filter", r.Stderr);
    }

    [Fact]
    public async Task Delete_of_many_events_commits_in_batches_and_leaves_nothing_behind()
    {
        using var db = new TempDb();
        var keys = new TestKeys();
        var events = Enumerable.Range(0, Relay.Server.Commands.DeleteCommand.BatchSize + 500).Select(i => keys.Sign(1, $"bulk {i}", createdAt: 1_700_000_000 + i)).ToList();
        CommandTestKit.WriteJsonl(db.PathOf("in.jsonl"), events.Select(e => e.Json));
        Assert.Contains($"{events.Count} stored", (await db.RunAsync("import", "--no-verify", db.PathOf("in.jsonl"))).Stderr);
        var r = await db.RunAsync("delete", "--filter", "{\"kinds\":[1]}");
        Assert.Contains($"Deleted {events.Count} events", r.Stderr);
        using var store = CommandTestKit.OpenStore(db.DbDir);
        Assert.Equal(0, store.Count);
    }
}
