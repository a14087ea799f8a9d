using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Text;

namespace Relay.Native.Storage.LmdbFile;

/// <summary>
/// A read-only view of an LMDB 0.9 data file (data.mdb), read with no LMDB library at all. Relay
/// links LMDB 1.0, whose file format differs; this lets it take events out of a database written
/// by an LMDB 0.9 program (strfry, built against Debian's liblmdb 0.9.24) without installing it.
/// <para>
/// Format facts (from LMDB 0.9's mdb.c, on a 64-bit little-endian host): pages of mm_psize bytes;
/// pages 0 and 1 hold the two meta records, the newer (higher txnid) is the current snapshot; every
/// other page starts with a 16-byte header (pgno u64, pad u16, flags u16, lower u16, upper u16,
/// or a u32 page count on overflow pages), followed by u16 offsets of its nodes. Named databases
/// are entries of the main B+tree whose value is their 48-byte MDB_db record.
/// </para>
/// The file is memory-mapped read-only and never locked: read a copy, or a database no process is
/// writing, since a writer may reuse pages this reader is looking at. Every page number and
/// length read from the file is checked against the file, so a damaged or truncated file ends in
/// an <see cref="LmdbFormatException"/>, never in reading outside the mapping.
/// </summary>
public sealed unsafe class LmdbDataFile : IDisposable
{
    internal const uint Magic = 0xBEEFC0DE;
    /// <summary>MDB_DATA_VERSION of LMDB 0.9 (1.0 writes 3; development builds 999).</summary>
    internal const uint Version09 = 1;
    internal const int PageHeaderSize = 16;
    internal const int DbRecordSize = 48;
    internal const ulong InvalidPage = ulong.MaxValue;

    internal const ushort PageBranch = 0x01;
    internal const ushort PageLeaf = 0x02;
    internal const ushort PageOverflow = 0x04;
    internal const ushort PageMeta = 0x08;
    internal const ushort PageLeaf2 = 0x20;
    internal const ushort PageSub = 0x40;

    internal const ushort NodeBigData = 0x01;
    internal const ushort NodeSubData = 0x02;
    internal const ushort NodeDupData = 0x04;

    private readonly string _path;
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _length;
    private bool _disposed;

    private LmdbDataFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, long length)
    {
        _path = path;
        _map = map;
        _view = view;
        _length = length;
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + view.PointerOffset;
    }

    /// <summary>The data file's path.</summary>
    public string Path => _path;

    public int PageSize { get; private set; }

    /// <summary>The transaction that committed the snapshot being read.</summary>
    public ulong TransactionId { get; private set; }

    /// <summary>Which meta page (0 or 1) holds that snapshot.</summary>
    public int MetaPage { get; private set; }

    /// <summary>Last page in use by the snapshot.</summary>
    public ulong LastPage { get; private set; }

    /// <summary>The main database: its entries name the other databases.</summary>
    public LmdbTree Main { get; private set; } = null!;

    /// <summary>Opens <c>data.mdb</c>, or the <c>data.mdb</c> inside a directory.</summary>
    /// <exception cref="LmdbFormatException">Not an LMDB 0.9 file, or damaged.</exception>
    public static LmdbDataFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) path = System.IO.Path.Combine(path, "data.mdb");
        // FileShare.ReadWrite: opening must not fail just because another process holds the file.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        long length = stream.Length;
        if (length < 2 * 512) throw new LmdbFormatException($"{path} is {length} bytes, too short for an LMDB data file");
        var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            var file = new LmdbDataFile(path, map, view, length);
            try
            {
                file.ReadMeta();
                return file;
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }
        catch when (view is null)
        {
            map.Dispose();
            throw;
        }
    }

    private void ReadMeta()
    {
        // The page size is in the meta record itself, so meta page 0 is read at offset 0 first.
        var first = ReadMetaAt(0, out string? firstProblem);
        int pageSize = first?.PageSize ?? 0;
        MetaRecord? second = null;
        if (pageSize == 0)
        {
            // Meta 0 is unreadable: try meta 1 at every legal page size.
            for (int size = 512; size <= 65536 && second is null; size *= 2)
            {
                if (2L * size <= _length) second = ReadMetaAt(size, out _);
            }
            if (second is null) throw new LmdbFormatException($"{_path}: {firstProblem}");
        }
        else if (2L * pageSize <= _length) second = ReadMetaAt(pageSize, out _);

        var meta = first is null ? second!.Value
            : second is null || first.Value.TxnId >= second.Value.TxnId ? first.Value
            : second.Value;
        if (first is not null && second is not null && first.Value.PageSize != second.Value.PageSize)
            throw new LmdbFormatException($"{_path}: the two meta pages disagree on the page size ({first.Value.PageSize} and {second.Value.PageSize})");

        PageSize = meta.PageSize;
        TransactionId = meta.TxnId;
        MetaPage = meta.Page;
        LastPage = meta.LastPage;
        if ((LastPage + 1) * (ulong)PageSize > (ulong)_length)
            throw new LmdbFormatException(
                $"{_path} is truncated: its snapshot uses pages up to {LastPage} ({(LastPage + 1) * (ulong)PageSize} bytes) but the file has {_length} bytes");
        Main = new LmdbTree(this, "", meta.MainDb.Span);
    }

    private readonly record struct MetaRecord(int Page, int PageSize, ulong LastPage, ulong TxnId, ReadOnlyMemory<byte> MainDb);

    private MetaRecord? ReadMetaAt(long offset, out string? problem)
    {
        var page = Bytes(offset, Math.Min(512, (int)Math.Min(_length - offset, 512)));
        if (page.Length < PageHeaderSize + 136)
        {
            problem = "the file ends inside a meta page";
            return null;
        }
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(page.Slice(PageHeaderSize));
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(page.Slice(PageHeaderSize + 4));
        if (magic != Magic)
        {
            problem = Diagnose(page);
            return null;
        }
        if (version != Version09)
        {
            problem = version == 999
                ? "written by a development build of LMDB (data format 999), which this reader does not read"
                : $"LMDB data format {version}; this reader reads LMDB 0.9 files (format {Version09}) only";
            return null;
        }
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(page.Slice(10));
        if ((flags & PageMeta) == 0)
        {
            problem = $"page at offset {offset} is not a meta page (flags 0x{flags:x})";
            return null;
        }
        var meta = page.Slice(PageHeaderSize);
        int pageSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(meta.Slice(24));
        if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) != 0)
        {
            problem = $"meta page at offset {offset} has an impossible page size {pageSize}";
            return null;
        }
        problem = null;
        return new MetaRecord(
            Page: offset == 0 ? 0 : 1,
            PageSize: pageSize,
            LastPage: BinaryPrimitives.ReadUInt64LittleEndian(meta.Slice(120)),
            TxnId: BinaryPrimitives.ReadUInt64LittleEndian(meta.Slice(128)),
            MainDb: meta.Slice(72, DbRecordSize).ToArray());
    }

    private static string Diagnose(ReadOnlySpan<byte> page)
    {
        // LMDB 1.0 pages carry a txnid in a 24-byte header, so its meta record starts 8 bytes later.
        if (BinaryPrimitives.ReadUInt32LittleEndian(page.Slice(24)) == Magic)
        {
            uint version = BinaryPrimitives.ReadUInt32LittleEndian(page.Slice(28));
            return $"this is an LMDB 1.0 data file (data format {version}), such as Relay itself writes; this reader reads LMDB 0.9 files only. Open it with Relay's event store instead";
        }
        if (BinaryPrimitives.ReadUInt32BigEndian(page.Slice(PageHeaderSize)) == Magic)
            return "this LMDB file was written on a big-endian machine and cannot be read here";
        return "not an LMDB data file (no LMDB magic number in its first meta page)";
    }

    /// <summary>Names of the named databases, in the file's (byte) order.</summary>
    public IReadOnlyList<string> DatabaseNames
    {
        get
        {
            var names = new List<string>();
            var cursor = Main.CreateCursor();
            while (cursor.MoveNext())
            {
                if ((cursor.NodeFlags & (NodeSubData | NodeDupData)) == NodeSubData)
                    names.Add(Encoding.UTF8.GetString(cursor.Key));
            }
            return names;
        }
    }

    public bool TryOpenDatabase(string name, out LmdbTree tree)
    {
        var wanted = Encoding.UTF8.GetBytes(name);
        var cursor = Main.CreateCursor();
        while (cursor.MoveNext())
        {
            if ((cursor.NodeFlags & (NodeSubData | NodeDupData)) != NodeSubData || !cursor.Key.SequenceEqual(wanted)) continue;
            if (cursor.Value.Length != DbRecordSize)
                throw new LmdbFormatException($"{_path}: the record of database '{name}' is {cursor.Value.Length} bytes, expected {DbRecordSize}");
            tree = new LmdbTree(this, name, cursor.Value.ToArray());
            return true;
        }
        tree = null!;
        return false;
    }

    /// <exception cref="LmdbFormatException">No such database: the message lists the ones there are.</exception>
    public LmdbTree OpenDatabase(string name)
    {
        if (TryOpenDatabase(name, out var tree)) return tree;
        throw new LmdbFormatException($"{_path} has no database named '{name}'; it has: {string.Join(", ", DatabaseNames)}");
    }

    /// <summary>The whole page <paramref name="pgno"/>, checked to lie inside the snapshot and the file.</summary>
    internal ReadOnlySpan<byte> Page(ulong pgno)
    {
        if (pgno < 2 || pgno > LastPage)
            throw new LmdbFormatException($"{_path}: a tree points at page {pgno}, outside the snapshot's pages 2..{LastPage}; the file is damaged");
        return Bytes((long)pgno * PageSize, PageSize);
    }

    /// <summary>Bytes of the mapping; valid until the file is disposed.</summary>
    internal ReadOnlySpan<byte> Bytes(long offset, long length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (offset < 0 || length < 0 || offset > _length - length || length > int.MaxValue)
            throw new LmdbFormatException($"{_path}: {length} bytes at offset {offset} lie beyond the end of the {_length}-byte file; it is truncated or damaged");
        return new ReadOnlySpan<byte>(_base + offset, (int)length);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}

/// <summary>The file cannot be read as an LMDB 0.9 database: wrong format, truncated or damaged.</summary>
public sealed class LmdbFormatException : Exception
{
    public LmdbFormatException(string message) : base(message) { }
}
