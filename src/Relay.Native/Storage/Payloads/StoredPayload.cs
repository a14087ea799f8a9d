using System.Buffers.Binary;

namespace Relay.Native.Storage.Payloads;

/// <summary>
/// How a stored payload is laid out. Two forms live side by side, so a database written before
/// compression existed needs no migration (the writer stores raw JSON in <c>payloads</c>; the
/// compression pass moves compressed values to <c>payloads_zstd</c>, see StoreDatabases; readers
/// tell the forms apart by the first byte, wherever they find the value):
/// <code>
/// raw          the event JSON as received (starts with '{')
/// compressed   0xFF ‖ dictId (u32 BE) ‖ zstd frame
/// </code>
/// 0xFF can never begin UTF-8 text (bytes F5..FF never occur in UTF-8), so no JSON payload, not
/// even one with leading whitespace or a byte-order mark, is mistaken for a compressed one.
/// The zstd frame is written without the 4-byte magic number and without zstd's own dictionary id
/// (the dictId in front says which dictionary), which saves up to 8 bytes per event over a
/// standard frame; it keeps the content size, so readers size their buffer and stats read the
/// original length without decompressing. dictId 0 means "no dictionary" (plain zstd).
/// </summary>
public static class StoredPayload
{
    public const byte CompressedMarker = 0xFF;
    public const int HeaderSize = 5;

    /// <summary>No dictionary: the frame was compressed on its own.</summary>
    public const uint NoDictionary = 0;

    public static bool IsCompressed(ReadOnlySpan<byte> stored) => !stored.IsEmpty && stored[0] == CompressedMarker;

    /// <summary>Reads the header of a compressed value; throws on one too short to have one.</summary>
    public static uint ReadDictionaryId(ReadOnlySpan<byte> stored)
    {
        if (stored.Length <= HeaderSize || stored[0] != CompressedMarker)
            throw new PayloadFormatException($"a compressed payload needs a {HeaderSize}-byte header and a frame; this value has {stored.Length} bytes");
        return BinaryPrimitives.ReadUInt32BigEndian(stored.Slice(1));
    }

    public static ReadOnlySpan<byte> Frame(ReadOnlySpan<byte> stored) => stored.Slice(HeaderSize);

    public static void WriteHeader(Span<byte> destination, uint dictId)
    {
        destination[0] = CompressedMarker;
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(1), dictId);
    }
}

/// <summary>A stored payload cannot be decoded: a damaged value, a missing dictionary, a failed frame.</summary>
public sealed class PayloadFormatException : Exception
{
    public PayloadFormatException(string message) : base(message) { }
}
