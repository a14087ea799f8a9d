using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Relay.Native.Events;
using Relay.Server.Config;
using Relay.Server.Policy;
using Relay.Tests.Integration;

namespace Relay.Tests.Policy;

/// <summary>Relays with AUTH on, and clients that keep the AUTH challenge whenever one arrives.</summary>
internal static class PolicyKit
{
    /// <summary>The public URL the test relays claim (as behind a TLS proxy); AUTH events name it.</summary>
    public const string ServiceUrl = "wss://relay.test";

    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public static TestRelay StartWithAuth(Action<RelayConfig>? configure = null) => TestRelay.Start(c =>
    {
        c.Relay.Auth.ServiceUrl = ServiceUrl;
        configure?.Invoke(c);
    });

    public static async Task<PolicyClient> ConnectClientAsync(this TestRelay relay) => new(await relay.ConnectAsync());

    /// <summary>Changes reloadable keys of a running relay, as a config file reload would.</summary>
    public static void Reconfigure(this TestRelay relay, Action<RelayConfig> change)
    {
        var current = relay.Server.Live.Current;
        var next = ConfigLoader.FromText(current.ToJson(), "effective.json", []).Config;
        change(next);
        relay.Server.Live.Apply(next, ConfigChange.Between(current, next));
    }

    public static async Task<JsonElement> Nip11Async(this TestRelay relay)
    {
        using var http = new HttpClient();
        using var req = new HttpRequestMessage(HttpMethod.Get, relay.HttpUrl);
        req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/nostr+json"));
        using var resp = await http.SendAsync(req);
        using var doc = JsonDocument.Parse(await resp.Content.ReadAsStringAsync());
        return doc.RootElement.Clone();
    }

    public static string[][] Tags(params string[][] tags) => tags;

    /// <summary>Signs an event whose id has at least <paramref name="bits"/> leading zero bits (NIP-13), committing <paramref name="target"/>.</summary>
    public static TestEvent Mine(TestKeys keys, int kind, string content, int bits, int? target = null)
    {
        long createdAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var pubkey = Convert.FromHexString(keys.PubKey);
        for (long nonce = 0; ; nonce++)
        {
            string[] nonceTag = target is null ? ["nonce", nonce.ToString()] : ["nonce", nonce.ToString(), target.Value.ToString()];
            string[][] tags = [nonceTag];
            byte[] id = SHA256.HashData(EventSigner.Serialize(pubkey, kind, createdAt, tags, content));
            if (WriteRules.LeadingZeroBits(id) >= bits) return keys.Sign(kind, content, tags, createdAt);
        }
    }
}

/// <summary>What a REQ or COUNT got: events up to EOSE (or a count), or the CLOSED message.</summary>
internal sealed record ReadResult(List<JsonElement> Events, long? Count, string? Closed)
{
    public IEnumerable<string> Ids => Events.Select(e => e.GetProperty("id").GetString()!);
}

/// <summary>
/// A <see cref="TestClient"/> that notes AUTH challenges wherever they arrive (they may come before
/// a refusal, or unprompted) and otherwise reads like the client does.
/// </summary>
internal sealed class PolicyClient(TestClient client) : IAsyncDisposable
{
    public TestClient Client { get; } = client;
    public string? Challenge { get; private set; }
    public int ChallengesReceived { get; private set; }

    public Task SendAsync(string text) => Client.SendAsync(text);

    /// <summary>Next message that is not an AUTH challenge.</summary>
    public async Task<JsonElement[]> NextAsync(TimeSpan? timeout = null)
    {
        while (true)
        {
            var m = await Client.ReceiveAsync(timeout) ?? throw new Xunit.Sdk.XunitException("connection closed");
            if (m[0].GetString() != "AUTH") return m;
            Challenge = m[1].GetString();
            ChallengesReceived++;
        }
    }

    public async Task<JsonElement[]> ExpectAsync(string verb)
    {
        var m = await NextAsync();
        Assert.True(m[0].GetString() == verb, $"expected {verb}, got {JsonSerializer.Serialize(m)}");
        return m;
    }

    /// <summary>True when nothing but AUTH arrives within the window.</summary>
    public async Task<bool> IsSilentAsync(TimeSpan window)
    {
        try
        {
            var m = await NextAsync(window);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    public async Task<(bool Accepted, string Message)> PublishAsync(TestEvent ev)
    {
        await SendAsync($"[\"EVENT\",{ev.Json}]");
        var ok = await ExpectAsync("OK");
        Assert.Equal(ev.Id, ok[1].GetString());
        return (ok[2].GetBoolean(), ok[3].GetString()!);
    }

    /// <summary>REQ then EOSE or CLOSED; the subscription is left open (CLOSE it with <see cref="CloseAsync"/>).</summary>
    public async Task<ReadResult> ReqAsync(string subId, params string[] filters)
    {
        await SendAsync($"[\"REQ\",\"{subId}\",{string.Join(',', filters)}]");
        var events = new List<JsonElement>();
        while (true)
        {
            var m = await NextAsync();
            string verb = m[0].GetString()!;
            Assert.Equal(subId, m[1].GetString());
            if (verb == "EOSE") return new ReadResult(events, null, null);
            if (verb == "CLOSED") return new ReadResult(events, null, m[2].GetString());
            Assert.Equal("EVENT", verb);
            events.Add(m[2]);
        }
    }

    public async Task<ReadResult> QueryAsync(string subId, params string[] filters)
    {
        var r = await ReqAsync(subId, filters);
        if (r.Closed is null) await CloseAsync(subId);
        return r;
    }

    public Task CloseAsync(string subId) => SendAsync($"[\"CLOSE\",\"{subId}\"]");

    public async Task<ReadResult> CountAsync(string subId, params string[] filters)
    {
        await SendAsync($"[\"COUNT\",\"{subId}\",{string.Join(',', filters)}]");
        var m = await NextAsync();
        Assert.Equal(subId, m[1].GetString());
        return m[0].GetString() switch
        {
            "COUNT" => new ReadResult([], m[2].GetProperty("count").GetInt64(), null),
            "CLOSED" => new ReadResult([], null, m[2].GetString()),
            _ => throw new Xunit.Sdk.XunitException("unexpected " + JsonSerializer.Serialize(m)),
        };
    }

    /// <summary>Makes the relay send the challenge (a REQ for DMs, refused while unauthenticated) unless one arrived already.</summary>
    public async Task<string> EnsureChallengeAsync()
    {
        if (Challenge is not null) return Challenge;
        var r = await ReqAsync("get-challenge", "{\"kinds\":[4]}");
        Assert.StartsWith("auth-required: ", r.Closed);
        return Challenge ?? throw new Xunit.Sdk.XunitException("no AUTH challenge before the auth-required CLOSED");
    }

    /// <summary>The kind 22242 event a client signs; the parameters let a test get one thing wrong.</summary>
    public TestEvent AuthEvent(TestKeys keys, string? challenge = null, string relay = PolicyKit.ServiceUrl, long? createdAt = null, int kind = 22242) =>
        keys.Sign(kind, "", [["relay", relay], ["challenge", challenge ?? Challenge ?? ""]], createdAt);

    /// <summary>Sends AUTH and returns its OK.</summary>
    public async Task<(bool Accepted, string Message)> AuthAsync(TestEvent authEvent)
    {
        await SendAsync($"[\"AUTH\",{authEvent.Json}]");
        var ok = await ExpectAsync("OK");
        Assert.Equal(authEvent.Id, ok[1].GetString());
        return (ok[2].GetBoolean(), ok[3].GetString()!);
    }

    /// <summary>Gets the challenge if needed and authenticates as <paramref name="keys"/>; asserts success.</summary>
    public async Task LoginAsync(TestKeys keys)
    {
        await EnsureChallengeAsync();
        var (accepted, message) = await AuthAsync(AuthEvent(keys));
        Assert.True(accepted, message);
    }

    public ValueTask DisposeAsync() => Client.DisposeAsync();
}
