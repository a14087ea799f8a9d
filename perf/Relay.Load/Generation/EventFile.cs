using System.Buffers.Binary;

namespace Relay.Load.Generation;

/// <summary>
/// The replay file: a 48-byte header, then per event a u32 LE length and the signed event JSON.
/// <code>
///  0 magic "RLYEVT01"   8 version u32   12 reserved u32   16 count i64
/// 24 seed u64          32 generated_at i64 (unix s)      40 authors i32   44 reserved i32
/// </code>
/// </summary>
public static class EventFile
{
    public const int HeaderSize = 48;
    public const int Version = 1;
    private static ReadOnlySpan<byte> Magic => "RLYEVT01"u8;

    public readonly record struct Header(long Count, ulong Seed, long GeneratedAt, int Authors);

    public static void WriteHeader(Stream stream, Header header)
    {
        Span<byte> bytes = stackalloc byte[HeaderSize];
        bytes.Clear();
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.Slice(8), Version);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.Slice(16), header.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.Slice(24), header.Seed);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.Slice(32), header.GeneratedAt);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.Slice(40), header.Authors);
        stream.Write(bytes);
    }

    public static void WriteRecord(Stream stream, ReadOnlySpan<byte> eventJson)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)eventJson.Length);
        stream.Write(length);
        stream.Write(eventJson);
    }

    public static Header ReadHeader(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < HeaderSize || !bytes.StartsWith(Magic))
            throw new InvalidDataException("not a relay-load events file (bad magic)");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(bytes.Slice(8));
        if (version != Version) throw new InvalidDataException($"events file version {version}, expected {Version}");
        return new Header(
            BinaryPrimitives.ReadInt64LittleEndian(bytes.Slice(16)),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes.Slice(24)),
            BinaryPrimitives.ReadInt64LittleEndian(bytes.Slice(32)),
            BinaryPrimitives.ReadInt32LittleEndian(bytes.Slice(40)));
    }
}
