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

    private static void Add(ref PackedEventWriter writer, byte letter, ReadOnlySpan<byte> value)
    {
        if (!writer.TryAddTag(letter, value)) throw new InvalidOperationException("sample event buffer too small");
    }
}
