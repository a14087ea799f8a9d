using System.Buffers;
using System.Text;
using Relay.Native.Crypto;
using Sha256 = System.Security.Cryptography.SHA256;

namespace Relay.Native.Events;

/// <summary>Builds signed events, for tests, tools and the load generator (allocates freely).</summary>
public static class EventSigner
{
    /// <summary>
    /// The event as normalized JSON (the field order and escaping <see cref="EventParser"/> writes),
    /// with its id computed from the NIP-01 serialization and a fresh BIP-340 signature.
    /// </summary>
    public static byte[] Sign(ReadOnlySpan<byte> secretKey32, int kind, long createdAt, string[][] tags, string content)
    {
        ArgumentNullException.ThrowIfNull(tags);
        ArgumentNullException.ThrowIfNull(content);
        byte[] pubKey = Schnorr.PublicKeyFromSecret(secretKey32);
        byte[] tagsJson = SerializeTags(tags);
        byte[] contentJson = Quote(content);

        var serialization = new ArrayBufferWriter<byte>();
        Append(serialization, "[0,\""u8);
        AppendHex(serialization, pubKey);
        Append(serialization, "\","u8);
        Append(serialization, Encoding.ASCII.GetBytes($"{createdAt},{kind},"));
        Append(serialization, tagsJson);
        Append(serialization, ","u8);
        Append(serialization, contentJson);
        Append(serialization, "]"u8);
        Span<byte> id = stackalloc byte[32];
        Sha256.HashData(serialization.WrittenSpan, id);
        Span<byte> sig = stackalloc byte[64];
        Schnorr.Sign(secretKey32, id, sig);

        var json = new ArrayBufferWriter<byte>();
        Append(json, "{\"id\":\""u8);
        AppendHex(json, id);
        Append(json, "\",\"pubkey\":\""u8);
        AppendHex(json, pubKey);
        Append(json, Encoding.ASCII.GetBytes($"\",\"created_at\":{createdAt},\"kind\":{kind},\"tags\":"));
        Append(json, tagsJson);
        Append(json, ",\"content\":"u8);
        Append(json, contentJson);
        Append(json, ",\"sig\":\""u8);
        AppendHex(json, sig);
        Append(json, "\"}"u8);
        return json.WrittenSpan.ToArray();
    }

    /// <summary>The NIP-01 serialization <c>[0,pubkey,created_at,kind,tags,content]</c> whose SHA-256 is the id.</summary>
    public static byte[] Serialize(ReadOnlySpan<byte> pubKey32, int kind, long createdAt, string[][] tags, string content)
    {
        var w = new ArrayBufferWriter<byte>();
        Append(w, "[0,\""u8);
        AppendHex(w, pubKey32);
        Append(w, Encoding.ASCII.GetBytes($"\",{createdAt},{kind},"));
        Append(w, SerializeTags(tags));
        Append(w, ","u8);
        Append(w, Quote(content));
        Append(w, "]"u8);
        return w.WrittenSpan.ToArray();
    }

    private static byte[] SerializeTags(string[][] tags)
    {
        var w = new ArrayBufferWriter<byte>();
        Append(w, "["u8);
        for (int i = 0; i < tags.Length; i++)
        {
            if (i > 0) Append(w, ","u8);
            Append(w, "["u8);
            for (int j = 0; j < tags[i].Length; j++)
            {
                if (j > 0) Append(w, ","u8);
                Append(w, Quote(tags[i][j]));
            }
            Append(w, "]"u8);
        }
        Append(w, "]"u8);
        return w.WrittenSpan.ToArray();
    }

    private static byte[] Quote(string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        var quoted = new byte[CanonicalJson.MaxQuotedLength(utf8.Length)];
        int length = CanonicalJson.WriteString(utf8, quoted);
        return quoted.AsSpan(0, length).ToArray();
    }

    private static void Append(ArrayBufferWriter<byte> w, ReadOnlySpan<byte> bytes) => w.Write(bytes);

    private static void AppendHex(ArrayBufferWriter<byte> w, ReadOnlySpan<byte> bytes)
    {
        Span<byte> hex = w.GetSpan(bytes.Length * 2).Slice(0, bytes.Length * 2);
        Hex.EncodeLower(bytes, hex);
        w.Advance(hex.Length);
    }
}
