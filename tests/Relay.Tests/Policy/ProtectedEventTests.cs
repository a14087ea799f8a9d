using Relay.Tests.Integration;

namespace Relay.Tests.Policy;

/// <summary>NIP-70: an event with a <c>["-"]</c> tag is accepted only from a connection authenticated as its author.</summary>
public class ProtectedEventTests
{
    private static TestEvent Protected(TestKeys keys, string content = "members only") => keys.Sign(1, content, [["-"]]);

    [Fact]
    public async Task Unauthenticated_publish_gets_a_challenge_and_auth_required_then_succeeds_after_auth()
    {
        await using var relay = PolicyKit.StartWithAuth();
        await using var c = await relay.ConnectClientAsync();
        var author = new TestKeys();
        var ev = Protected(author);

        await c.SendAsync($"[\"EVENT\",{ev.Json}]");
        var auth = await c.Client.ExpectAsync("AUTH");
        var ok = await c.Client.ExpectAsync("OK");
        Assert.Equal(ev.Id, ok[1].GetString());
        Assert.False(ok[2].GetBoolean());
        Assert.Equal("auth-required: event marked as protected", ok[3].GetString());

        var (accepted, message) = await c.AuthAsync(c.AuthEvent(author, challenge: auth[1].GetString()));
        Assert.True(accepted, message);
        Assert.Equal((true, ""), await c.PublishAsync(ev));
        Assert.Equal([ev.Id], (await c.QueryAsync("q", $"{{\"ids\":[\"{ev.Id}\"]}}")).Ids);
    }

    [Fact]
    public async Task Auth_and_event_sent_back_to_back_are_handled_in_order()
    {
        await using var relay = PolicyKit.StartWithAuth();
        await using var c = await relay.ConnectClientAsync();
        var author = new TestKeys();
        await c.EnsureChallengeAsync();
        var authEvent = c.AuthEvent(author);
        var ev = Protected(author);
        // No wait for the AUTH's OK: the EVENT read after it must see the connection authenticated.
        await c.SendAsync($"[\"AUTH\",{authEvent.Json}]");
        await c.SendAsync($"[\"EVENT\",{ev.Json}]");
        var first = await c.ExpectAsync("OK");
        var second = await c.ExpectAsync("OK");
        Assert.Equal(authEvent.Id, first[1].GetString());
        Assert.True(first[2].GetBoolean());
        Assert.Equal(ev.Id, second[1].GetString());
        Assert.True(second[2].GetBoolean(), second[3].GetString());
    }

    [Fact]
    public async Task Connection_authenticated_as_someone_else_gets_restricted()
    {
        await using var relay = PolicyKit.StartWithAuth();
        await using var c = await relay.ConnectClientAsync();
        await c.LoginAsync(new TestKeys());
        var (accepted, message) = await c.PublishAsync(Protected(new TestKeys()));
        Assert.False(accepted);
        Assert.Equal("restricted: must be published by the author", message);
    }

    [Fact]
    public async Task Author_among_several_authenticated_pubkeys_may_publish()
    {
        await using var relay = PolicyKit.StartWithAuth();
        await using var c = await relay.ConnectClientAsync();
        var author = new TestKeys();
        await c.LoginAsync(new TestKeys());
        await c.LoginAsync(author);
        Assert.Equal((true, ""), await c.PublishAsync(Protected(author)));
    }

    [Fact]
    public async Task Without_auth_a_protected_event_is_blocked()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectClientAsync();
        var (accepted, message) = await c.PublishAsync(Protected(new TestKeys()));
        Assert.False(accepted);
        Assert.Equal("blocked: event marked as protected", message);
        Assert.Null(c.Challenge);
        // The connection stays usable.
        Assert.True((await c.PublishAsync(new TestKeys().Sign(1, "plain"))).Accepted);
    }

    [Fact]
    public async Task Write_policy_plugin_sees_the_authenticated_pubkey_as_authed()
    {
        string file = Path.Combine(TestRelay.NewTempDir(), "requests.jsonl");
        await using var relay = PolicyKit.StartWithAuth(c => c.Relay.WritePolicy.Plugin = Plugins.Command("record.sh", file));
        await using var c = await relay.ConnectClientAsync();
        var author = new TestKeys();
        Assert.True((await c.PublishAsync(author.Sign(1, "before auth"))).Accepted);
        await c.LoginAsync(author);
        Assert.True((await c.PublishAsync(Protected(author))).Accepted);
        var lines = Plugins.ReadLines(file);
        Assert.Equal(2, lines.Length);
        Assert.DoesNotContain("\"authed\"", lines[0]);
        Assert.StartsWith($"{{\"authed\":\"{author.PubKey}\",", lines[1]);
    }

    [Theory]
    [InlineData(6)]
    [InlineData(16)]
    public async Task Repost_embedding_a_protected_event_is_blocked_even_from_its_author(int kind)
    {
        await using var relay = PolicyKit.StartWithAuth();
        await using var c = await relay.ConnectClientAsync();
        var author = new TestKeys();
        await c.LoginAsync(author);
        var original = Protected(author);
        var repost = author.Sign(kind, original.Json, [["e", original.Id], ["p", author.PubKey]]);
        var (accepted, message) = await c.PublishAsync(repost);
        Assert.False(accepted);
        Assert.Equal("blocked: reposts can't embed protected events", message);

        var plain = author.Sign(1, "public");
        Assert.True((await c.PublishAsync(author.Sign(kind, plain.Json, [["e", plain.Id]]))).Accepted);
        // A note quoting the text is not a repost.
        Assert.True((await c.PublishAsync(author.Sign(1, "tags look like [\"-\"]"))).Accepted);
    }
}
