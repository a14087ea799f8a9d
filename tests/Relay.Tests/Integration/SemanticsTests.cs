namespace Relay.Tests.Integration;

/// <summary>Replaceable, addressable, ephemeral, NIP-09 and NIP-40 behaviour as clients see it.</summary>
public class SemanticsTests
{
    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static string Ids(List<System.Text.Json.JsonElement> events) =>
        string.Join(",", events.Select(e => e.GetProperty("id").GetString()));

    [Fact]
    public async Task Replaceable_event_with_older_created_at_is_rejected_and_newer_replaces()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        var v1 = keys.Sign(0, "{\"name\":\"v1\"}", null, Now - 100);
        var v2 = keys.Sign(0, "{\"name\":\"v2\"}", null, Now - 50);
        var older = keys.Sign(0, "{\"name\":\"older\"}", null, Now - 75);
        Assert.True((await c.PublishAsync(v1)).Accepted);
        Assert.True((await c.PublishAsync(v2)).Accepted);
        var (accepted, message) = await c.PublishAsync(older);
        Assert.False(accepted);
        Assert.StartsWith("duplicate:", message);
        var got = await c.QueryAsync("m", $"{{\"kinds\":[0],\"authors\":[\"{keys.PubKey}\"]}}");
        Assert.Equal(v2.Id, Ids(got));
    }

    [Fact]
    public async Task Replaceable_tie_keeps_the_lowest_id()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        long t = Now - 10;
        var a = keys.Sign(10002, "a", null, t);
        var b = keys.Sign(10002, "b", null, t);
        var (low, high) = string.CompareOrdinal(a.Id, b.Id) < 0 ? (a, b) : (b, a);
        Assert.True((await c.PublishAsync(high)).Accepted);
        Assert.True((await c.PublishAsync(low)).Accepted);
        Assert.False((await c.PublishAsync(high)).Accepted);
        Assert.Equal(low.Id, Ids(await c.QueryAsync("r", $"{{\"kinds\":[10002],\"authors\":[\"{keys.PubKey}\"]}}")));
    }

    [Fact]
    public async Task Addressable_events_are_replaced_per_d_tag()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        var a1 = keys.Sign(30023, "a1", [["d", "a"]], Now - 30);
        var b1 = keys.Sign(30023, "b1", [["d", "b"]], Now - 30);
        var a2 = keys.Sign(30023, "a2", [["d", "a"]], Now - 10);
        foreach (var e in new[] { a1, b1, a2 }) Assert.True((await c.PublishAsync(e)).Accepted);
        var got = await c.QueryAsync("d", $"{{\"kinds\":[30023],\"authors\":[\"{keys.PubKey}\"]}}");
        Assert.Equal($"{a2.Id},{b1.Id}", Ids(got));
        Assert.Equal(a2.Id, Ids(await c.QueryAsync("d2", "{\"#d\":[\"a\"]}")));
    }

    [Fact]
    public async Task Ephemeral_events_are_delivered_live_and_never_stored()
    {
        await using var relay = TestRelay.Start();
        await using var sub = await relay.ConnectAsync();
        await using var pub = await relay.ConnectAsync();
        var keys = new TestKeys();
        await sub.SubscribeAsync("e", "{\"kinds\":[20001]}");
        var ev = keys.Sign(20001, "ephemeral");
        Assert.True((await pub.PublishAsync(ev)).Accepted);
        var got = await sub.ExpectAsync("EVENT");
        Assert.Equal(ev.Id, got[2].GetProperty("id").GetString());
        Assert.Empty(await pub.QueryAsync("later", "{\"kinds\":[20001]}"));
    }

    [Fact]
    public async Task Deletion_by_e_tag_removes_own_events_only_and_blocks_republish()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        var alice = new TestKeys();
        var bob = new TestKeys();
        var mine = alice.Sign(1, "mine");
        var theirs = bob.Sign(1, "theirs");
        Assert.True((await c.PublishAsync(mine)).Accepted);
        Assert.True((await c.PublishAsync(theirs)).Accepted);

        var deletion = alice.Sign(5, "", [["e", mine.Id], ["e", theirs.Id], ["k", "1"]]);
        Assert.True((await c.PublishAsync(deletion)).Accepted);

        Assert.Empty(await c.QueryAsync("a", $"{{\"ids\":[\"{mine.Id}\"]}}"));
        Assert.Single(await c.QueryAsync("b", $"{{\"ids\":[\"{theirs.Id}\"]}}"));
        Assert.Single(await c.QueryAsync("c", $"{{\"kinds\":[5],\"authors\":[\"{alice.PubKey}\"]}}"));

        var (accepted, message) = await c.PublishAsync(mine);
        Assert.False(accepted);
        Assert.StartsWith("blocked:", message);
    }

    [Fact]
    public async Task Deletion_by_a_tag_removes_versions_up_to_its_created_at()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        var article = keys.Sign(30023, "v1", [["d", "post"]], Now - 60);
        Assert.True((await c.PublishAsync(article)).Accepted);
        var deletion = keys.Sign(5, "", [["a", $"30023:{keys.PubKey}:post"]], Now - 30);
        Assert.True((await c.PublishAsync(deletion)).Accepted);
        Assert.Empty(await c.QueryAsync("a", "{\"kinds\":[30023]}"));

        var older = keys.Sign(30023, "v0", [["d", "post"]], Now - 45);
        Assert.False((await c.PublishAsync(older)).Accepted);
        var newer = keys.Sign(30023, "v2", [["d", "post"]], Now - 5);
        Assert.True((await c.PublishAsync(newer)).Accepted);
        Assert.Equal(newer.Id, Ids(await c.QueryAsync("b", "{\"kinds\":[30023]}")));
    }

    [Fact]
    public async Task Expired_events_are_rejected_on_arrival_and_never_served_after_expiry()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        var expired = keys.Sign(1, "gone", [["expiration", (Now - 1).ToString()]]);
        var (accepted, message) = await c.PublishAsync(expired);
        Assert.False(accepted);
        Assert.StartsWith("invalid:", message);

        var soon = keys.Sign(1, "soon gone", [["expiration", (Now + 2).ToString()]]);
        Assert.True((await c.PublishAsync(soon)).Accepted);
        Assert.Single(await c.QueryAsync("a", $"{{\"ids\":[\"{soon.Id}\"]}}"));
        await Task.Delay(TimeSpan.FromSeconds(3.2));
        Assert.Empty(await c.QueryAsync("b", $"{{\"ids\":[\"{soon.Id}\"]}}"));
        Assert.Empty(await c.QueryAsync("c", "{\"kinds\":[1]}"));
    }

    [Fact]
    public async Task Events_outside_the_created_at_window_or_limits_are_rejected()
    {
        await using var relay = TestRelay.Start(c =>
        {
            c.Events.MaxNumTags = 5;
            c.Events.MaxTagValSize = 50;
        });
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        async Task Rejected(TestEvent e)
        {
            var (accepted, message) = await c.PublishAsync(e);
            Assert.False(accepted);
            Assert.StartsWith("invalid:", message);
        }
        await Rejected(keys.Sign(1, "future", null, Now + 3600));
        await Rejected(keys.Sign(1, "ancient", null, Now - 4L * 365 * 24 * 3600));
        await Rejected(keys.Sign(1, "tags", Enumerable.Range(0, 6).Select(i => new[] { "t", "v" + i }).ToArray()));
        await Rejected(keys.Sign(1, "long tag", [["t", new string('x', 51)]]));
        Assert.True((await c.PublishAsync(keys.Sign(1, "fine", [["t", "ok"]]))).Accepted);
    }
}
