using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Relay.Native.Crypto;
using Relay.Native.Events;

namespace Relay.Tests.Integration;

/// <summary>A key pair for signing test events.</summary>
public sealed class TestKeys
{
    public TestKeys(byte[]? secret = null)
    {
        Secret = secret ?? RandomNumberGenerator.GetBytes(32);
        PubKey = Convert.ToHexStringLower(Schnorr.PublicKeyFromSecret(Secret));
    }

    public byte[] Secret { get; }
    public string PubKey { get; }

    public TestEvent Sign(int kind, string content = "", string[][]? tags = null, long? createdAt = null)
    {
        long ts = createdAt ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        byte[] json = EventSigner.Sign(Secret, kind, ts, tags ?? [], content);
        return TestEvent.FromJson(Encoding.UTF8.GetString(json));
    }
}

/// <summary>A signed event as a client would send it.</summary>
public sealed class TestEvent
{
    private TestEvent(string json, JsonElement root)
    {
        Json = json;
        Id = root.GetProperty("id").GetString()!;
        PubKey = root.GetProperty("pubkey").GetString()!;
        Sig = root.GetProperty("sig").GetString()!;
        Kind = root.GetProperty("kind").GetInt32();
        CreatedAt = root.GetProperty("created_at").GetInt64();
        Content = root.GetProperty("content").GetString()!;
    }

    public string Json { get; }
    public string Id { get; }
    public string PubKey { get; }
    public string Sig { get; }
    public int Kind { get; }
    public long CreatedAt { get; }
    public string Content { get; }

    public static TestEvent FromJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return new TestEvent(json, doc.RootElement.Clone());
    }

    /// <summary>The same event with one top-level field's JSON replaced (for tampering tests).</summary>
    public string WithField(string name, string rawJsonValue)
    {
        using var doc = JsonDocument.Parse(Json);
        var sb = new StringBuilder("{");
        bool first = true;
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (!first) sb.Append(',');
            first = false;
            sb.Append('"').Append(p.Name).Append("\":").Append(p.Name == name ? rawJsonValue : p.Value.GetRawText());
        }
        return sb.Append('}').ToString();
    }
}
