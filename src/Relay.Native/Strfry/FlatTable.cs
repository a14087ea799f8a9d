using System.Buffers.Binary;

namespace Relay.Native.Strfry;

/// <summary>
/// Just enough of the FlatBuffers wire format to read golpe's small tables (Meta,
/// CompressionDictionary): a root table found through the buffer's first u32, its vtable through
/// the table's first i32, then u64 scalars and ubyte vectors by field index. Absent fields read as
/// their default, 0 or empty. Every offset is checked, so a damaged record throws.
/// </summary>
internal readonly ref struct FlatTable
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly int _table;
    private readonly int _vtable;
    private readonly int _vtableSize;

    public FlatTable(ReadOnlySpan<byte> buffer, string what)
    {
        _buffer = buffer;
        What = what;
        _table = (int)ReadU32(0);
        int back = (int)ReadU32(_table);
        long vtable = (long)_table - back;
        if (vtable < 0 || vtable > buffer.Length - 4) throw Damaged($"its vtable offset {vtable} is outside the record");
        _vtable = (int)vtable;
        _vtableSize = BinaryPrimitives.ReadUInt16LittleEndian(buffer.Slice(_vtable));
        if (_vtableSize < 4 || _vtable + _vtableSize > buffer.Length) throw Damaged($"its vtable of {_vtableSize} bytes does not fit");
    }

    private string What { get; }

    public ulong UInt64(int field)
    {
        int at = FieldOffset(field);
        return at == 0 ? 0 : BinaryPrimitives.ReadUInt64LittleEndian(Slice(_table + at, 8));
    }

    public ReadOnlySpan<byte> Bytes(int field)
    {
        int at = FieldOffset(field);
        if (at == 0) return default;
        int position = _table + at;
        long vector = position + (long)ReadU32(position);
        if (vector > _buffer.Length - 4) throw Damaged($"field {field} points outside the record");
        uint length = ReadU32((int)vector);
        return Slice((int)vector + 4, length);
    }

    private int FieldOffset(int field)
    {
        int entry = 4 + 2 * field;
        return entry + 2 > _vtableSize ? 0 : BinaryPrimitives.ReadUInt16LittleEndian(_buffer.Slice(_vtable + entry));
    }

    private uint ReadU32(int position) => BinaryPrimitives.ReadUInt32LittleEndian(Slice(position, 4));

    private ReadOnlySpan<byte> Slice(long position, long length)
    {
        if (position < 0 || length < 0 || position > _buffer.Length - length) throw Damaged($"{length} bytes at {position} lie outside the {_buffer.Length}-byte record");
        return _buffer.Slice((int)position, (int)length);
    }

    private StrfryFormatException Damaged(string why) => new($"strfry {What} record is damaged: {why}");
}
