using System.Buffers.Binary;
using System.Security.Cryptography;
using Relay.Native.Events;

namespace Relay.Native.Storage;

/// <summary>
/// Byte layouts of every key. All integers are big-endian so that LMDB's bytewise order is the
/// numeric order, and every index key ends with <c>created_at ‖ levId</c> (the "time suffix"):
/// the entries of one value are then a contiguous run sorted by time, scanned backwards for
/// newest-first.
/// </summary>
internal static class IndexKeys
{
    public const int LevIdSize = 8;
    public const int TimeSuffixSize = 16;
    public const int KindSize = 2;
    public const int IdSize = 32;

    /// <summary>
    /// Tag values up to this length are stored as they are; longer ones as a SHA-256. Keeps keys far
    /// below LMDB's 511-byte limit and the B-tree dense; a hashed match is always re-checked on the
    /// packed record, so a collision can only cost a wasted lookup.
    /// </summary>
    public const int MaxInlineTagValue = 128;

    // Tag value encodings. The marker (and the length byte of raw values) makes the encoding
    // prefix-free: no encoded value is a prefix of another, so "prefix ‖ time suffix" can never be
    // confused with a longer value whose bytes happen to look like a timestamp.
    public const byte RawValue = 0x00;
    public const byte HexValue = 0x01;
    public const byte HashedValue = 0x02;

    public const int MaxEncodedValueSize = 2 + MaxInlineTagValue;
    /// <summary>letter ‖ encoded value.</summary>
    public const int MaxTagPrefixSize = 1 + MaxEncodedValueSize;
    /// <summary>Large enough for any key of any database.</summary>
    public const int MaxKeySize = 192;

    // Markers inside the `deleted` database, after the deleting pubkey.
    private const byte DeletedId = 0x00;
    private const byte DeletedAddress = 0x01;

    public static void WriteLevId(Span<byte> destination, ulong levId) =>
        BinaryPrimitives.WriteUInt64BigEndian(destination, levId);

    public static ulong ReadLevId(ReadOnlySpan<byte> source) => BinaryPrimitives.ReadUInt64BigEndian(source);

    public static void WriteTimeSuffix(Span<byte> destination, ulong createdAt, ulong levId)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, createdAt);
        BinaryPrimitives.WriteUInt64BigEndian(destination.Slice(8), levId);
    }

    public static void WriteKind(Span<byte> destination, int kind) =>
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)kind);

    /// <summary>Encodes a tag value (or a <c>d</c> identifier); returns the bytes written.</summary>
    public static int WriteTagValue(Span<byte> destination, ReadOnlySpan<byte> value)
    {
        // Ids and pubkeys in e/p/a-style tags are most of all tag values: 33 bytes instead of 66.
        if (value.Length == 64 && Hex.TryDecodeLower(value, destination.Slice(1, 32)))
        {
            destination[0] = HexValue;
            return 33;
        }
        if (value.Length <= MaxInlineTagValue)
        {
            destination[0] = RawValue;
            destination[1] = (byte)value.Length;
            value.CopyTo(destination.Slice(2));
            return 2 + value.Length;
        }
        destination[0] = HashedValue;
        SHA256.HashData(value, destination.Slice(1, 32));
        return 33;
    }

    /// <summary>letter ‖ encoded value: the part of a <c>tag</c> key before the time suffix.</summary>
    public static int WriteTagPrefix(Span<byte> destination, byte letter, ReadOnlySpan<byte> value)
    {
        destination[0] = letter;
        return 1 + WriteTagValue(destination.Slice(1), value);
    }

    /// <summary>pubkey ‖ kind: the part of an <c>author_kind</c> key before the time suffix.</summary>
    public static int WriteAuthorKindPrefix(Span<byte> destination, ReadOnlySpan<byte> pubKey, int kind)
    {
        pubKey.CopyTo(destination);
        WriteKind(destination.Slice(32), kind);
        return 34;
    }

    /// <summary>
    /// pubkey ‖ kind, plus the encoded <c>d</c> value for addressable kinds ("" when the event has
    /// no d tag). Replaceable kinds have no d in their identity.
    /// </summary>
    public static int WriteReplaceableKey(Span<byte> destination, ReadOnlySpan<byte> pubKey, int kind, ReadOnlySpan<byte> d)
    {
        int length = WriteAuthorKindPrefix(destination, pubKey, kind);
        if (EventKinds.IsAddressable(kind)) length += WriteTagValue(destination.Slice(length), d);
        return length;
    }

    public static int WriteReplaceableKey(Span<byte> destination, in PackedEvent ev)
    {
        ev.TryGetFirstTag((byte)'d', out var d);
        return WriteReplaceableKey(destination, ev.PubKey, ev.Kind, d);
    }

    /// <summary>deleter ‖ 0x00 ‖ target id.</summary>
    public static int WriteDeletedIdKey(Span<byte> destination, ReadOnlySpan<byte> deleter, ReadOnlySpan<byte> targetId)
    {
        deleter.CopyTo(destination);
        destination[32] = DeletedId;
        targetId.CopyTo(destination.Slice(33));
        return 65;
    }

    /// <summary>
    /// deleter ‖ 0x01 ‖ replaceable key without its pubkey. NIP-09 only honours addresses of the
    /// deleter's own events, so the address pubkey is the deleter and is not repeated.
    /// </summary>
    public static int WriteDeletedAddressKey(Span<byte> destination, ReadOnlySpan<byte> replaceableKey)
    {
        replaceableKey.Slice(0, 32).CopyTo(destination);
        destination[32] = DeletedAddress;
        replaceableKey.Slice(32).CopyTo(destination.Slice(33));
        return 1 + replaceableKey.Length;
    }

    /// <summary>
    /// Parses a NIP-01 address <c>kind:pubkey:d</c>. The d part is everything after the second
    /// colon (it may itself contain colons).
    /// </summary>
    public static bool TryParseAddress(ReadOnlySpan<byte> address, out int kind, Span<byte> pubKey, out ReadOnlySpan<byte> d)
    {
        kind = 0;
        d = default;
        int colon = address.IndexOf((byte)':');
        if (colon <= 0 || colon > 5) return false;
        for (int i = 0; i < colon; i++)
        {
            byte c = address[i];
            if (c < '0' || c > '9') return false;
            kind = kind * 10 + (c - '0');
        }
        if (kind > ushort.MaxValue) return false;
        var rest = address.Slice(colon + 1);
        if (rest.Length < 65 || rest[64] != ':') return false;
        if (!Hex.TryDecodeLower(rest.Slice(0, 64), pubKey)) return false;
        d = rest.Slice(65);
        return true;
    }
}
