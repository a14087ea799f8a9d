using System.Text;
using Relay.Native.Events;

namespace Relay.Benchmarks;

/// <summary>Deterministic ids, pubkeys and packed events shared by the benchmarks.</summary>
internal static class SampleEvents
{
    public static Bytes32 Key(int seed)
    {
        Span<byte> bytes = stackalloc byte[32];
        new Random(seed).NextBytes(bytes);
        return Bytes32.From(bytes);
    }

    public static byte[] HexOf(Bytes32 value) => Encoding.ASCII.GetBytes(Hex.Encode(value.Span));

    /// <summary>A kind-1 reply: an e tag, <paramref name="pTags"/> p tags and two hashtags, like a typical note.</summary>
    public static byte[] Note(Bytes32 id, Bytes32 pubKey, int kind = 1, int pTags = 3, long createdAt = 1_700_000_000)
    {
        var buffer = new byte[PackedEvent.HeaderSize + (3 + 64) * (1 + pTags) + 3 + 5 + 3 + 7];
        var writer = new PackedEventWriter(buffer, id.Span, pubKey.Span, createdAt, kind, expiration: 0);
        Add(ref writer, (byte)'e', HexOf(Key(1_000_000)));
        for (int i = 0; i < pTags; i++) Add(ref writer, (byte)'p', HexOf(Key(2_000_000 + i)));
        Add(ref writer, (byte)'t', "nostr"u8);
        Add(ref writer, (byte)'t', "bitcoin"u8);
        return writer.Written.ToArray();
    }

    /// <summary>A valid secp256k1 secret key: top bit cleared keeps it below the group order, low bit set keeps it non-zero.</summary>
    public static byte[] SecretKey(int seed)
    {
        var key = new byte[32];
        new Random(seed).NextBytes(key);
        key[0] &= 0x7F;
        key[31] |= 1;
        return key;
    }

    public const long SignedNoteCreatedAt = 1_700_000_000;

    /// <summary>
    /// A signed kind-1 reply as a client sends it (~700 bytes): a root e tag with a relay hint, two p
    /// tags, two hashtags, and content mixing ASCII, accents, CJK, emoji, a newline and quotes.
    /// </summary>
    public static byte[] SignedNote(int seed)
    {
        string[][] tags =
        [
            ["e", Hex.Encode(Key(3_000_000 + seed).Span), "wss://relay.example.com", "root"],
            ["p", Hex.Encode(Key(4_000_000 + seed).Span)],
            ["p", Hex.Encode(Key(5_000_000 + seed).Span)],
            ["t", "nostr"],
            ["t", "coffee"],
        ];
        const string content = "GM #nostr ☕ Ça va? 日本語も大丈夫 🚀\n\"Stay humble, stack sats\" ⚡";
        return EventSigner.Sign(SecretKey(seed), kind: 1, SignedNoteCreatedAt + seed, tags, content);
    }

    private static void Add(ref PackedEventWriter writer, byte letter, ReadOnlySpan<byte> value)
    {
        if (!writer.TryAddTag(letter, value)) throw new InvalidOperationException("sample event buffer too small");
    }
}
