using Relay.Native.Events;
using Relay.Tests.Integration;

namespace Relay.Tests.Policy;

/// <summary>Private relay mode: reads and/or writes only for listed pubkeys, from config and from a followed file.</summary>
public class PrivateRelayTests
{
    private static string Npub(TestKeys k) => Bech32.EncodePublicKey(Convert.FromHexString(k.PubKey));

    [Fact]
    public async Task Write_restricted_relay_accepts_listed_authors_only_and_takes_npubs()
    {
        var member = new TestKeys();
        var other = new TestKeys();
        await using var relay = TestRelay.Start(c =>
        {
            c.Relay.Access.WriteRestricted = true;
            c.Relay.Access.WritePubkeys = Npub(member);
        });
        await using var c = await relay.ConnectClientAsync();
        Assert.Equal((true, ""), await c.PublishAsync(member.Sign(1, "member")));
        var (accepted, message) = await c.PublishAsync(other.Sign(1, "stranger"));
        Assert.False(accepted);
        Assert.StartsWith("restricted: ", message);
        // Reads stay open.
        Assert.Single((await c.QueryAsync("q", "{}")).Events);
        var doc = await relay.Nip11Async();
        Assert.True(doc.GetProperty("limitation").GetProperty("restricted_writes").GetBoolean());
        Assert.False(doc.GetProperty("limitation").GetProperty("auth_required").GetBoolean());
    }

    [Fact]
    public async Task Write_by_authenticated_member_accepts_other_authors_events()
    {
        var member = new TestKeys();
        await using var relay = PolicyKit.StartWithAuth(c =>
        {
            c.Relay.Access.WriteRestricted = true;
            c.Relay.Access.WritePubkeys = member.PubKey;
            c.Relay.Access.WriteByAuthenticated = true;
        });
        var foreign = new TestKeys().Sign(1, "someone else's note");
        await using var c = await relay.ConnectClientAsync();
        var (accepted, message) = await c.PublishAsync(foreign);
        Assert.False(accepted);
        Assert.StartsWith("auth-required: ", message);
        Assert.NotNull(c.Challenge);

        var stranger = new TestKeys();
        Assert.True((await c.AuthAsync(c.AuthEvent(stranger))).Accepted);
        (accepted, message) = await c.PublishAsync(foreign);
        Assert.False(accepted);
        Assert.StartsWith("restricted: ", message);

        Assert.True((await c.AuthAsync(c.AuthEvent(member))).Accepted);
        Assert.Equal((true, ""), await c.PublishAsync(foreign));
    }

    [Fact]
    public async Task Read_restricted_relay_serves_only_authenticated_members_by_req_count_and_live()
    {
        var reader = new TestKeys();
        var writer = new TestKeys();
        var outsider = new TestKeys();
        await using var relay = PolicyKit.StartWithAuth(c =>
        {
            c.Relay.Access.ReadRestricted = true;
            c.Relay.Access.ReadPubkeys = reader.PubKey;
            c.Relay.Access.WritePubkeys = writer.PubKey;
        });
        var note = outsider.Sign(1, "stored");
        await using var w = await relay.ConnectClientAsync();
        Assert.True((await w.PublishAsync(note)).Accepted);   // writes are not restricted here

        // Unauthenticated: challenge and auth-required, for REQ and COUNT.
        var anon = await w.QueryAsync("q", "{}");
        Assert.StartsWith("auth-required: ", anon.Closed);
        Assert.NotNull(w.Challenge);
        Assert.StartsWith("auth-required: ", (await w.CountAsync("n", "{\"kinds\":[1]}")).Closed);

        // Authenticated outsider: restricted.
        Assert.True((await w.AuthAsync(w.AuthEvent(outsider))).Accepted);
        Assert.StartsWith("restricted: ", (await w.QueryAsync("q2", "{}")).Closed);
        Assert.StartsWith("restricted: ", (await w.CountAsync("n2", "{}")).Closed);

        // Readers and writers read; a live subscription gets new events.
        foreach (var member in new[] { reader, writer })
        {
            await using var m = await relay.ConnectClientAsync();
            await m.LoginAsync(member);
            Assert.Equal([note.Id], (await m.QueryAsync("q", "{\"kinds\":[1]}")).Ids);
            Assert.Equal(1, (await m.CountAsync("n", "{\"kinds\":[1]}")).Count);
        }

        await using var live = await relay.ConnectClientAsync();
        await live.LoginAsync(reader);
        Assert.Single((await live.ReqAsync("live", "{\"kinds\":[1]}")).Events);
        var fresh = outsider.Sign(1, "fresh");
        Assert.True((await w.PublishAsync(fresh)).Accepted);
        Assert.Equal(fresh.Id, (await live.ExpectAsync("EVENT"))[2].GetProperty("id").GetString());

        // Taken off the list (a config reload): the open subscription gets nothing more.
        relay.Reconfigure(c => c.Relay.Access.ReadPubkeys = "");
        Assert.True((await w.PublishAsync(outsider.Sign(1, "after removal"))).Accepted);
        Assert.True(await live.IsSilentAsync(TimeSpan.FromMilliseconds(400)));
        Assert.StartsWith("restricted: ", (await live.QueryAsync("again", "{}")).Closed);

        var doc = await relay.Nip11Async();
        Assert.True(doc.GetProperty("limitation").GetProperty("auth_required").GetBoolean());
    }

    [Fact]
    public async Task Pubkeys_file_is_followed_while_the_relay_runs()
    {
        string dir = TestRelay.NewTempDir();
        string file = Path.Combine(dir, "members.txt");
        var alice = new TestKeys();
        var bob = new TestKeys();
        File.WriteAllText(file, $"# members\n{Npub(alice)}   # alice\n\nnot-a-key\n");
        await using var relay = TestRelay.Start(c =>
        {
            c.Relay.Access.WriteRestricted = true;
            c.Relay.Access.PubkeysFile = file;
        });
        await using var c = await relay.ConnectClientAsync();
        Assert.True((await c.PublishAsync(alice.Sign(1, "a1"))).Accepted);
        Assert.StartsWith("restricted: ", (await c.PublishAsync(bob.Sign(1, "b1"))).Message);

        // Replaced the way editors do: write a new file, rename it over the old one.
        File.WriteAllText(file + ".tmp", $"{bob.PubKey}\n");
        File.Move(file + ".tmp", file, overwrite: true);
        await Eventually(async () => (await c.PublishAsync(bob.Sign(1, "b2"))).Accepted);
        Assert.StartsWith("restricted: ", (await c.PublishAsync(alice.Sign(1, "a2"))).Message);

        // A missing file keeps the list it had.
        File.Delete(file);
        await Task.Delay(500);
        Assert.True((await c.PublishAsync(bob.Sign(1, "b3"))).Accepted);

        File.WriteAllText(file, $"{alice.PubKey}\n{bob.PubKey}\n");
        await Eventually(async () => (await c.PublishAsync(alice.Sign(1, "a3"))).Accepted);
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task Denied_pubkeys_are_blocked()
    {
        var banned = new TestKeys();
        await using var relay = TestRelay.Start(c => c.Relay.Access.DeniedPubkeys = $"{new TestKeys().PubKey}, {Npub(banned)}");
        await using var c = await relay.ConnectClientAsync();
        Assert.Equal((false, "blocked: this pubkey may not publish here"), await c.PublishAsync(banned.Sign(1, "spam")));
        Assert.True((await c.PublishAsync(new TestKeys().Sign(1, "fine"))).Accepted);
    }

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(100);
        }
    }
}
