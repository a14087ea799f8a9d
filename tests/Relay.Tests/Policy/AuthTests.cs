using Relay.Tests.Integration;

namespace Relay.Tests.Policy;

/// <summary>NIP-42 AUTH through a live relay: challenges, every check on the kind 22242 event, several pubkeys.</summary>
public class AuthTests
{
    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    [Fact]
    public async Task Challenge_comes_before_the_auth_required_refusal_and_only_once_per_connection()
    {
        await using var relay = PolicyKit.StartWithAuth();
        await using var c = await relay.ConnectClientAsync();
        // Nothing at connect: a client that never needs AUTH is never asked.
        Assert.True(await c.Client.IsSilentAsync(TimeSpan.FromMilliseconds(300)));

        await c.SendAsync("[\"REQ\",\"dm\",{\"kinds\":[4]}]");
        var auth = await c.Client.ExpectAsync("AUTH");
        string challenge = auth[1].GetString()!;
        Assert.Equal(22, challenge.Length);
        var closed = await c.Client.ExpectAsync("CLOSED");
        Assert.Equal("dm", closed[1].GetString());
        Assert.StartsWith("auth-required: ", closed[2].GetString());

        // The second refusal comes without a new challenge; the first stays valid.
        await c.SendAsync("[\"REQ\",\"dm2\",{\"kinds\":[1059]}]");
        var again = await c.Client.ExpectAsync("CLOSED");
        Assert.StartsWith("auth-required: ", again[2].GetString());

        await using var other = await relay.ConnectClientAsync();
        Assert.NotEqual(challenge, await other.EnsureChallengeAsync());
    }

    [Fact]
    public async Task Two_pubkeys_authenticate_on_one_connection_and_both_count()
    {
        await using var relay = PolicyKit.StartWithAuth();
        var alice = new TestKeys();
        var bob = new TestKeys();
        var carol = new TestKeys();
        await using (var w = await relay.ConnectClientAsync())
        {
            Assert.True((await w.PublishAsync(carol.Sign(4, "to alice", [["p", alice.PubKey]]))).Accepted);
            Assert.True((await w.PublishAsync(carol.Sign(4, "to bob", [["p", bob.PubKey]]))).Accepted);
        }

        await using var c = await relay.ConnectClientAsync();
        await c.EnsureChallengeAsync();
        var first = await c.AuthAsync(c.AuthEvent(alice));
        Assert.Equal((true, ""), first);
        var second = await c.AuthAsync(c.AuthEvent(bob));
        Assert.Equal((true, ""), second);
        // The same pubkey again is fine, and says so.
        var repeat = await c.AuthAsync(c.AuthEvent(alice));
        Assert.True(repeat.Accepted);
        Assert.StartsWith("duplicate: ", repeat.Message);

        var dms = await c.QueryAsync("dms", "{\"kinds\":[4]}");
        Assert.Null(dms.Closed);
        Assert.Equal(["to alice", "to bob"], dms.Events.Select(e => e.GetProperty("content").GetString()).Order());
    }

    [Fact]
    public async Task Wrong_challenge_is_refused_as_invalid_and_the_connection_stays_usable()
    {
        await using var relay = PolicyKit.StartWithAuth();
        await using var c = await relay.ConnectClientAsync();
        await using var other = await relay.ConnectClientAsync();
        string othersChallenge = await other.EnsureChallengeAsync();
        await c.EnsureChallengeAsync();
        var keys = new TestKeys();

        var (accepted, message) = await c.AuthAsync(c.AuthEvent(keys, challenge: othersChallenge));
        Assert.False(accepted);
        Assert.StartsWith("invalid: ", message);
        Assert.Contains("challenge", message);
        (accepted, message) = await c.AuthAsync(keys.Sign(22242, "", [["relay", PolicyKit.ServiceUrl]]));
        Assert.False(accepted);
        Assert.Contains("challenge", message);

        // Still unauthenticated; and the right challenge still works.
        Assert.StartsWith("auth-required: ", (await c.QueryAsync("dm", "{\"kinds\":[4]}")).Closed);
        Assert.True((await c.AuthAsync(c.AuthEvent(keys))).Accepted);
    }

    [Theory]
    [InlineData("wss://other.relay")]
    [InlineData("wss://relay.test:444")]
    [InlineData("ws://relay.test")]
    [InlineData("wss://relay.test.evil.com")]
    [InlineData("")]
    public async Task Relay_tag_naming_another_relay_is_refused(string relayTag)
    {
        await using var relay = PolicyKit.StartWithAuth();
        await using var c = await relay.ConnectClientAsync();
        await c.EnsureChallengeAsync();
        var (accepted, message) = await c.AuthAsync(c.AuthEvent(new TestKeys(), relay: relayTag));
        Assert.False(accepted);
        Assert.StartsWith("invalid: relay tag", message);
    }

    [Theory]
    [InlineData("wss://relay.test")]
    [InlineData("wss://relay.test/")]
    [InlineData("wss://RELAY.Test:443/some/path?x=1")]
    [InlineData("relay.test")]
    [InlineData("https://relay.test")]
    public async Task Relay_tag_is_compared_by_host_and_port_after_normalising(string relayTag)
    {
        await using var relay = PolicyKit.StartWithAuth();
        await using var c = await relay.ConnectClientAsync();
        await c.EnsureChallengeAsync();
        var (accepted, message) = await c.AuthAsync(c.AuthEvent(new TestKeys(), relay: relayTag));
        Assert.True(accepted, message);
    }

    [Theory]
    [InlineData(-601)]
    [InlineData(601)]
    [InlineData(-3600)]
    public async Task Auth_event_outside_ten_minutes_is_refused(int offset)
    {
        await using var relay = PolicyKit.StartWithAuth();
        await using var c = await relay.ConnectClientAsync();
        await c.EnsureChallengeAsync();
        var (accepted, message) = await c.AuthAsync(c.AuthEvent(new TestKeys(), createdAt: Now + offset));
        Assert.False(accepted);
        Assert.StartsWith("invalid: ", message);
        Assert.Contains("10 minutes", message);
        // Nine minutes off is within NIP-42's window.
        Assert.True((await c.AuthAsync(c.AuthEvent(new TestKeys(), createdAt: Now + Math.Sign(offset) * 540))).Accepted);
    }

    [Fact]
    public async Task Bad_signature_wrong_kind_and_tampered_id_are_refused()
    {
        await using var relay = PolicyKit.StartWithAuth();
        await using var c = await relay.ConnectClientAsync();
        await c.EnsureChallengeAsync();
        var keys = new TestKeys();

        var good = c.AuthEvent(keys);
        string badSig = good.WithField("sig", "\"" + new string('1', 128) + "\"");
        await c.SendAsync($"[\"AUTH\",{badSig}]");
        var ok = await c.ExpectAsync("OK");
        Assert.Equal(good.Id, ok[1].GetString());
        Assert.False(ok[2].GetBoolean());
        Assert.Equal("invalid: bad signature", ok[3].GetString());

        var (accepted, message) = await c.AuthAsync(c.AuthEvent(keys, kind: 1));
        Assert.False(accepted);
        Assert.Equal("invalid: an AUTH event must be kind 22242", message);

        string otherContent = good.WithField("content", "\"changed\"");
        await c.SendAsync($"[\"AUTH\",{otherContent}]");
        ok = await c.ExpectAsync("OK");
        Assert.False(ok[2].GetBoolean());
        Assert.Equal("invalid: bad event id", ok[3].GetString());

        // Nothing authenticated the connection.
        Assert.StartsWith("auth-required: ", (await c.QueryAsync("dm", "{\"kinds\":[4]}")).Closed);
    }

    [Fact]
    public async Task Auth_when_auth_is_not_active_is_answered_with_ok_false_restricted()
    {
        await using var relay = TestRelay.Start();   // no serviceUrl
        await using var c = await relay.ConnectClientAsync();
        var ev = new TestKeys().Sign(22242, "", [["relay", PolicyKit.ServiceUrl], ["challenge", "x"]]);
        var (accepted, message) = await c.AuthAsync(ev);
        Assert.False(accepted);
        Assert.StartsWith("restricted: ", message);
        var doc = await relay.Nip11Async();
        Assert.DoesNotContain(42, doc.GetProperty("supported_nips").EnumerateArray().Select(n => n.GetInt32()));
    }

    [Fact]
    public async Task Malformed_auth_message_gets_an_answer_naming_what_was_sent()
    {
        await using var relay = PolicyKit.StartWithAuth();
        await using var c = await relay.ConnectClientAsync();
        await c.SendAsync("[\"AUTH\",{\"id\":\"not-hex\",\"kind\":22242}]");
        var ok = await c.ExpectAsync("OK");
        Assert.Equal("not-hex", ok[1].GetString());
        Assert.False(ok[2].GetBoolean());
        Assert.StartsWith("invalid: ", ok[3].GetString());
        await c.SendAsync("[\"AUTH\",\"just a string\"]");
        Assert.StartsWith("invalid: ", (await c.ExpectAsync("NOTICE"))[1].GetString());
    }

    [Fact]
    public async Task Auth_events_are_never_stored_or_delivered()
    {
        await using var relay = PolicyKit.StartWithAuth();
        await using var watcher = await relay.ConnectClientAsync();
        var live = await watcher.ReqAsync("all", "{\"kinds\":[22242]}", "{\"since\":" + (Now - 60) + "}");
        Assert.Null(live.Closed);
        Assert.Empty(live.Events);

        await using var c = await relay.ConnectClientAsync();
        var keys = new TestKeys();
        await c.LoginAsync(keys);
        // Sent as EVENT it is refused too: kind 22242 is for AUTH only.
        var asEvent = c.AuthEvent(keys);
        var published = await c.PublishAsync(asEvent);
        Assert.False(published.Accepted);
        Assert.StartsWith("invalid: ", published.Message);

        // A marker after them: once it arrives, anything delivered before it has arrived too.
        var marker = keys.Sign(1, "marker");
        Assert.True((await c.PublishAsync(marker)).Accepted);
        var m = await watcher.NextAsync();
        Assert.Equal("EVENT", m[0].GetString());
        Assert.Equal(marker.Id, m[2].GetProperty("id").GetString());

        var stored = await watcher.QueryAsync("q", "{\"kinds\":[22242]}", $"{{\"authors\":[\"{keys.PubKey}\"]}}");
        Assert.Equal([marker.Id], stored.Ids);
    }

    [Fact]
    public async Task Auth_counters_are_on_the_metrics_page()
    {
        await using var relay = PolicyKit.StartWithAuth();
        await using var c = await relay.ConnectClientAsync();
        await c.LoginAsync(new TestKeys());
        using var http = new HttpClient();
        string metrics = await http.GetStringAsync(new Uri(relay.HttpUrl, "/metrics"));
        foreach (string name in new[] { "strfry_auth_challenges_sent_total", "strfry_auth_success_total", "strfry_auth_failure_total", "strfry_authenticated_connections_current" })
            Assert.Contains("\n" + name + " ", metrics);
        Assert.Matches(@"\nstrfry_auth_success_total [1-9]", metrics);
    }
}
