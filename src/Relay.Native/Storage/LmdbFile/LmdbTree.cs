using System.Buffers.Binary;

namespace Relay.Native.Storage.LmdbFile;

/// <summary>Database flags as LMDB stores them (mdb_dbi_open's flags).</summary>
[Flags]
public enum LmdbDatabaseFlags : ushort
{
    None = 0,
    ReverseKey = 0x02,
    DupSort = 0x04,
    IntegerKey = 0x08,
    DupFixed = 0x10,
    IntegerDup = 0x20,
    ReverseDup = 0x40,
}

/// <summary>
/// One B+tree of the file (a named database, the main one, or the duplicates of one key): its
/// MDB_db record. Walk it with <see cref="CreateCursor"/>.
/// </summary>
public sealed class LmdbTree
{
    private readonly LmdbDataFile _file;

    internal LmdbTree(LmdbDataFile file, string name, ReadOnlySpan<byte> record)
    {
        _file = file;
        Name = name;
        // MDB_db: pad u32 (key size on LEAF2 pages), flags u16, depth u16, then u64 branch, leaf and
        // overflow page counts, entries, root.
        LeafKeySize = (int)BinaryPrimitives.ReadUInt32LittleEndian(record);
        Flags = (LmdbDatabaseFlags)BinaryPrimitives.ReadUInt16LittleEndian(record.Slice(4));
        Depth = BinaryPrimitives.ReadUInt16LittleEndian(record.Slice(6));
        BranchPages = BinaryPrimitives.ReadUInt64LittleEndian(record.Slice(8));
        LeafPages = BinaryPrimitives.ReadUInt64LittleEndian(record.Slice(16));
        OverflowPages = BinaryPrimitives.ReadUInt64LittleEndian(record.Slice(24));
        Entries = BinaryPrimitives.ReadUInt64LittleEndian(record.Slice(32));
        Root = BinaryPrimitives.ReadUInt64LittleEndian(record.Slice(40));
    }

    public string Name { get; }
    public LmdbDatabaseFlags Flags { get; }
    public int Depth { get; }
    public ulong BranchPages { get; }
    public ulong LeafPages { get; }
    public ulong OverflowPages { get; }

    /// <summary>Number of key/value pairs (every duplicate counts).</summary>
    public ulong Entries { get; }

    internal ulong Root { get; }
    internal int LeafKeySize { get; }
    internal LmdbDataFile File => _file;

    /// <summary>A cursor before the first entry; it walks the tree in the order it was written (key order).</summary>
    public LmdbCursor CreateCursor() => new(this);
}
