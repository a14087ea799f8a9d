namespace Relay.Native.Negentropy;

/// <summary>
/// Constants of Negentropy protocol V1, the binary payload of NIP-77's NEG-OPEN / NEG-MSG.
/// <code>
/// Message     := version(0x61) Range*
/// Range       := upperBound(Bound) mode(Varint) payload
/// Bound       := timestamp(Varint: 0 = infinity, else 1 + delta from the previous bound) length(Varint 0..32) idPrefix
/// payload     := Skip: nothing | Fingerprint: 16 bytes | IdList: count(Varint) id{32}*
/// Varint      := base-128 digits, most significant first, high bit set on all but the last
/// Fingerprint := SHA-256(sum of ids as 256-bit little-endian integers mod 2^256 ‖ Varint(count))[0..16]
/// </code>
/// Ranges cover the (timestamp, id) space from (0, empty) upwards without gaps; what a message
/// leaves uncovered at the end is an implicit Skip to infinity.
/// </summary>
public static class NegentropyProtocol
{
    public const byte Version = 0x61;
    /// <summary>Version bytes of the protocol family; one outside it is not a Negentropy message at all.</summary>
    public const byte FirstVersion = 0x60;
    public const byte LastVersion = 0x6F;

    public const int IdSize = 32;
    public const int FingerprintSize = 16;

    /// <summary>Below this a frame limit could not fit one bucketed range (16 fingerprints + bounds).</summary>
    public const int MinFrameSizeLimit = 4096;
    /// <summary>What strfry's relay uses for its replies.</summary>
    public const int ServerFrameSizeLimit = 500_000;
    /// <summary>What strfry's <c>sync</c> (and nostr-tools) use for the initiator's messages.</summary>
    public const int ClientFrameSizeLimit = 60_000;

    /// <summary>
    /// Room kept free under the frame limit: a message may still need a Skip and a closing
    /// Fingerprint range (at most ~65 bytes) after the last range that fitted.
    /// </summary>
    internal const int FrameSlack = 200;

    /// <summary>Ranges with fewer items than this are sent as an IdList, larger ones as 16 fingerprinted buckets.</summary>
    internal const int Buckets = 16;
    internal const int IdListThreshold = 2 * Buckets;

    internal static void CheckFrameSizeLimit(int frameSizeLimit, string paramName)
    {
        if (frameSizeLimit != 0 && frameSizeLimit < MinFrameSizeLimit)
            throw new ArgumentOutOfRangeException(paramName, frameSizeLimit, $"a frame limit is 0 (none) or at least {MinFrameSizeLimit} bytes");
    }
}

public enum NegMode : byte
{
    Skip = 0,
    Fingerprint = 1,
    IdList = 2,
}

/// <summary>Why a Negentropy message was refused. Malformed input always ends here, never in an exception.</summary>
public enum NegError : byte
{
    None,
    /// <summary>No version byte.</summary>
    Empty,
    /// <summary>The first byte is outside 0x60..0x6F.</summary>
    InvalidVersion,
    /// <summary>The peer answered with a protocol version this side does not speak (the initiator cannot downgrade further).</summary>
    UnsupportedVersion,
    /// <summary>The message ends inside a varint, a bound, a fingerprint or an id list.</summary>
    Truncated,
    /// <summary>A varint longer than 64 bits.</summary>
    VarintOverflow,
    /// <summary>A varint with a leading zero digit (the encoding must be the shortest).</summary>
    VarintNotMinimal,
    /// <summary>A bound's id prefix longer than 32 bytes.</summary>
    IdPrefixTooLong,
    /// <summary>A range's upper bound is below the previous one.</summary>
    BoundsOutOfOrder,
    UnknownMode,
}

public static class NegErrors
{
    /// <summary>A short English description, for logs and NEG-ERR texts.</summary>
    public static string Describe(NegError error) => error switch
    {
        NegError.None => "no error",
        NegError.Empty => "empty message",
        NegError.InvalidVersion => "not a negentropy message (bad version byte)",
        NegError.UnsupportedVersion => "peer speaks an unsupported protocol version",
        NegError.Truncated => "message ends prematurely",
        NegError.VarintOverflow => "varint longer than 64 bits",
        NegError.VarintNotMinimal => "varint not minimally encoded",
        NegError.IdPrefixTooLong => "bound id prefix longer than 32 bytes",
        NegError.BoundsOutOfOrder => "range bounds out of order",
        NegError.UnknownMode => "unknown range mode",
        _ => "unknown error",
    };
}
