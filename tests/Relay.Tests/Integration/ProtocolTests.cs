using System.Text.Json;

namespace Relay.Tests.Integration;

/// <summary>NIP-01 over a live relay: what a client sees for good and bad input.</summary>
public class ProtocolTests
{
    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    [Fact]
    public async Task Published_event_is_acknowledged_and_served_back_byte_for_byte_in_content()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        var ev = keys.Sign(1, "hello \"world\" \\ \n\t é 日本 🎉 \u007f \u2028 \u0001", [["t", "greeting"], ["p", keys.PubKey]]);

        var (accepted, message) = await c.PublishAsync(ev);
        Assert.True(accepted, message);

        var got = await c.QueryAsync("s1", $"{{\"ids\":[\"{ev.Id}\"]}}");
        var e = Assert.Single(got);
        Assert.Equal(ev.Id, e.GetProperty("id").GetString());
        Assert.Equal(ev.Content, e.GetProperty("content").GetString());
        Assert.Equal(ev.Sig, e.GetProperty("sig").GetString());
        Assert.Equal("greeting", e.GetProperty("tags")[0][1].GetString());
    }

    [Fact]
    public async Task Duplicate_event_is_answered_ok_with_duplicate_prefix()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        var ev = new TestKeys().Sign(1, "once");
        Assert.True((await c.PublishAsync(ev)).Accepted);
        var (accepted, message) = await c.PublishAsync(ev);
        Assert.True(accepted);
        Assert.StartsWith("duplicate:", message);
    }

    [Fact]
    public async Task Bad_signature_and_bad_id_are_rejected_as_invalid()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        var ev = new TestKeys().Sign(1, "tamper");

        string badSig = ev.WithField("sig", "\"" + (ev.Sig[0] == 'a' ? "b" : "a") + ev.Sig[1..] + "\"");
        await c.SendAsync($"[\"EVENT\",{badSig}]");
        var ok = await c.ExpectAsync("OK");
        Assert.False(ok[2].GetBoolean());
        Assert.StartsWith("invalid:", ok[3].GetString());

        string badContent = ev.WithField("content", "\"changed\"");
        await c.SendAsync($"[\"EVENT\",{badContent}]");
        ok = await c.ExpectAsync("OK");
        Assert.Equal(ev.Id, ok[1].GetString());
        Assert.False(ok[2].GetBoolean());
        Assert.StartsWith("invalid:", ok[3].GetString());

        // The connection is still usable and nothing of the tampered events was stored.
        Assert.Empty(await c.QueryAsync("q", $"{{\"ids\":[\"{ev.Id}\"]}}"));
        Assert.True((await c.PublishAsync(ev)).Accepted);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"EVENT\":1}")]
    [InlineData("[]")]
    [InlineData("[\"HELLO\",1]")]
    [InlineData("[1,2,3]")]
    [InlineData("[\"EVENT\"]")]
    [InlineData("[\"EVENT\",\"not an object\"]")]
    [InlineData("[\"CLOSE\"]")]
    [InlineData("[\"EVENT\",{\"id\":1}")]
    public async Task Malformed_messages_get_a_notice_and_the_connection_stays_usable(string message)
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        await c.SendAsync(message);
        var reply = await c.ReceiveAsync();
        Assert.NotNull(reply);
        string verb = reply![0].GetString()!;
        Assert.True(verb is "NOTICE" or "OK", $"got {verb}");
        var ev = new TestKeys().Sign(1, "still here");
        Assert.True((await c.PublishAsync(ev)).Accepted);
    }

    [Fact]
    public async Task Deeply_nested_input_gets_a_notice()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        await c.SendAsync(new string('[', 20000) + new string(']', 20000));
        var reply = await c.ExpectAsync("NOTICE");
        Assert.False(string.IsNullOrEmpty(reply[1].GetString()));
        // Nested inside a REQ, where the subscription id is readable, the REQ is refused with CLOSED.
        await c.SendAsync("[\"REQ\",\"x\"," + new string('[', 20000) + new string(']', 20000) + "]");
        reply = await c.ExpectAsync("CLOSED");
        Assert.StartsWith("invalid:", reply[2].GetString());
        Assert.Empty(await c.QueryAsync("ok", "{\"kinds\":[1]}"));
    }

    [Theory]
    [InlineData("{\"ids\":[\"abc\"]}")]
    [InlineData("{\"authors\":[\"ABCDEF0000000000000000000000000000000000000000000000000000000000\"]}")]
    [InlineData("{\"#e\":[\"short\"]}")]
    [InlineData("{\"#p\":[1]}")]
    [InlineData("{\"kinds\":[\"1\"]}")]
    [InlineData("{\"kinds\":[70000]}")]
    [InlineData("{\"since\":\"yesterday\"}")]
    [InlineData("{\"limit\":-1}")]
    [InlineData("{\"limit\":1.5}")]
    [InlineData("{\"#tag\":[\"x\"]}")]
    [InlineData("{\"search\":\"x\"}")]
    [InlineData("\"not an object\"")]
    public async Task Invalid_filters_close_the_subscription_with_a_reason(string filter)
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        await c.SendAsync($"[\"REQ\",\"bad\",{filter}]");
        var closed = await c.ExpectAsync("CLOSED");
        Assert.Equal("bad", closed[1].GetString());
        string reason = closed[2].GetString()!;
        Assert.True(reason.StartsWith("invalid:") || reason.StartsWith("unsupported:"), reason);
    }

    [Fact]
    public async Task Subscription_ids_must_be_1_to_64_characters()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        await c.SendAsync($"[\"REQ\",\"{new string('a', 65)}\",{{}}]");
        var reply = await c.ReceiveAsync();
        Assert.True(reply![0].GetString() is "CLOSED" or "NOTICE");
        await c.SendAsync("[\"REQ\",\"\",{}]");
        reply = await c.ReceiveAsync();
        Assert.True(reply![0].GetString() is "CLOSED" or "NOTICE");
        Assert.Empty(await c.QueryAsync(new string('b', 64), "{\"kinds\":[1]}"));
    }

    [Fact]
    public async Task Too_many_subscriptions_are_closed_with_a_reason()
    {
        await using var relay = TestRelay.Start(c => c.Relay.MaxSubsPerConnection = 3);
        await using var c = await relay.ConnectAsync();
        for (int i = 0; i < 3; i++) await c.SubscribeAsync("s" + i, "{\"kinds\":[1]}");
        await c.SendAsync("[\"REQ\",\"s3\",{\"kinds\":[1]}]");
        var closed = await c.ExpectAsync("CLOSED");
        Assert.Equal("s3", closed[1].GetString());
        Assert.StartsWith("blocked:", closed[2].GetString());
        // Re-using an open id replaces it instead of counting twice; closing frees a slot.
        await c.SubscribeAsync("s0", "{\"kinds\":[2]}");
        await c.SendAsync("[\"CLOSE\",\"s1\"]");
        await c.SubscribeAsync("s4", "{\"kinds\":[1]}");
    }

    [Fact]
    public async Task Live_events_reach_subscribers_after_eose_until_close()
    {
        await using var relay = TestRelay.Start();
        await using var sub = await relay.ConnectAsync();
        await using var pub = await relay.ConnectAsync();
        var keys = new TestKeys();
        Assert.Empty(await sub.SubscribeAsync("live", $"{{\"authors\":[\"{keys.PubKey}\"]}}"));

        var ev = keys.Sign(1, "live one");
        Assert.True((await pub.PublishAsync(ev)).Accepted);
        var got = await sub.ExpectAsync("EVENT");
        Assert.Equal("live", got[1].GetString());
        Assert.Equal(ev.Id, got[2].GetProperty("id").GetString());

        await sub.SendAsync("[\"CLOSE\",\"live\"]");
        await Task.Delay(200);
        Assert.True((await pub.PublishAsync(keys.Sign(1, "after close"))).Accepted);
        Assert.True(await sub.IsSilentAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task An_event_sent_right_after_close_is_never_delivered_to_the_closed_subscription()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        for (int i = 0; i < 100; i++)
        {
            await c.SubscribeAsync("s" + i, $"{{\"authors\":[\"{keys.PubKey}\"],\"since\":{Now - 5}}}");
            await c.SendAsync($"[\"CLOSE\",\"s{i}\"]");
            var ev = keys.Sign(1, "after close " + i);
            // PublishAsync fails if anything but the OK arrives first, e.g. the event for the closed "s{i}".
            Assert.True((await c.PublishAsync(ev)).Accepted);
        }
        Assert.True(await c.IsSilentAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task Req_with_a_used_id_replaces_the_subscription()
    {
        await using var relay = TestRelay.Start();
        await using var sub = await relay.ConnectAsync();
        await using var pub = await relay.ConnectAsync();
        var keys = new TestKeys();
        await sub.SubscribeAsync("x", "{\"kinds\":[1]}");
        await sub.SubscribeAsync("x", "{\"kinds\":[7]}");
        Assert.True((await pub.PublishAsync(keys.Sign(1, "note"))).Accepted);
        var reaction = keys.Sign(7, "+");
        Assert.True((await pub.PublishAsync(reaction)).Accepted);
        var got = await sub.ExpectAsync("EVENT");
        Assert.Equal(reaction.Id, got[2].GetProperty("id").GetString());
    }

    [Fact]
    public async Task Several_filters_are_ored_without_duplicates()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        var a = keys.Sign(1, "a", [["t", "x"]], Now - 30);
        var b = keys.Sign(1, "b", [["t", "y"]], Now - 20);
        var d = keys.Sign(7, "+", [["t", "x"]], Now - 10);
        foreach (var e in new[] { a, b, d }) Assert.True((await c.PublishAsync(e)).Accepted);

        var got = await c.QueryAsync("or", "{\"#t\":[\"x\"]}", "{\"kinds\":[1]}", $"{{\"authors\":[\"{keys.PubKey}\"]}}");
        // Like strfry, filters run one after another (each newest first); an event matching several is sent once.
        Assert.Equal(new[] { a.Id, b.Id, d.Id }.Order(), got.Select(e => e.GetProperty("id").GetString()!).Order());
        Assert.Equal(new[] { d.Id, a.Id }, got.Take(2).Select(e => e.GetProperty("id").GetString()).ToArray());
    }

    [Fact]
    public async Task Limit_is_clamped_by_maxFilterLimit_and_since_until_are_inclusive()
    {
        await using var relay = TestRelay.Start(c => c.Relay.MaxFilterLimit = 3);
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        long t0 = Now - 100;
        for (int i = 0; i < 6; i++) Assert.True((await c.PublishAsync(keys.Sign(1, "n" + i, null, t0 + i))).Accepted);

        Assert.Equal(3, (await c.QueryAsync("a", "{\"kinds\":[1],\"limit\":100}")).Count);
        Assert.Equal(3, (await c.QueryAsync("b", "{\"kinds\":[1]}")).Count);
        var window = await c.QueryAsync("c", $"{{\"kinds\":[1],\"since\":{t0 + 1},\"until\":{t0 + 3}}}");
        Assert.Equal(new long[] { t0 + 3, t0 + 2, t0 + 1 }, window.Select(e => e.GetProperty("created_at").GetInt64()).ToArray());
    }

    [Fact]
    public async Task Time_sliced_queries_return_complete_ordered_results_while_writes_continue()
    {
        // The smallest time slice makes every REQ pause and resume in newer snapshots many times.
        await using var relay = TestRelay.Start(c => c.Relay.QueryTimesliceBudgetMicroseconds = 100);
        await using var c = await relay.ConnectAsync();
        await using var writer = await relay.ConnectAsync();
        var keys = new TestKeys();
        long t0 = Now - 1000;
        var published = new List<TestEvent>();
        for (int i = 0; i < 150; i++)
        {
            var e = keys.Sign(1, "n" + i, [["t", "slice"]], t0 + i / 3);
            Assert.True((await c.PublishAsync(e)).Accepted);
            published.Add(e);
        }
        var expected = published.OrderByDescending(e => e.CreatedAt).ThenBy(e => e.Id, StringComparer.Ordinal).Select(e => e.Id).ToArray();

        var query = c.QueryAsync("big", "{\"kinds\":[1],\"limit\":500}", "{\"#t\":[\"slice\"]}");
        for (int i = 0; i < 20; i++) await writer.PublishAsync(keys.Sign(7, "+" + i));
        var got = await query;
        Assert.Equal(expected, got.Select(e => e.GetProperty("id").GetString()).ToArray());

        await c.SendAsync($"[\"COUNT\",\"n\",{{\"authors\":[\"{keys.PubKey}\"],\"kinds\":[1]}}]");
        Assert.Equal(150, (await c.ExpectAsync("COUNT"))[2].GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Count_answers_with_the_number_of_matching_events()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        for (int i = 0; i < 4; i++) await c.PublishAsync(keys.Sign(1, "c" + i));
        await c.PublishAsync(keys.Sign(7, "+"));
        await c.SendAsync($"[\"COUNT\",\"n\",{{\"authors\":[\"{keys.PubKey}\"],\"kinds\":[1]}}]");
        var count = await c.ExpectAsync("COUNT");
        Assert.Equal("n", count[1].GetString());
        Assert.Equal(4, count[2].GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Unknown_verb_gets_a_notice()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        await c.SendAsync("[\"PUBLISH\",{}]");
        var n = await c.ExpectAsync("NOTICE");
        Assert.Contains("unknown", n[1].GetString());
    }
}
