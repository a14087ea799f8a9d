using System.Buffers.Binary;

namespace Relay.Native.Storage.LmdbFile;

/// <summary>
/// Walks one tree leaf by leaf in key order, and through the duplicates of a key (kept in a
/// sub-page inside the leaf node, or in a sub-tree of their own) in their order. Key and Value
/// point into the mapped file: valid until the file is disposed. Big values are read in place from
/// their overflow pages, which LMDB keeps contiguous.
/// </summary>
public sealed class LmdbCursor
{
    // Trees deeper than this do not occur (fan-out of at least 2 per level and 64-bit page numbers).
    private const int MaxDepth = 64;

    private readonly LmdbTree _tree;
    private readonly LmdbDataFile _file;
    private readonly ulong[] _pages = new ulong[MaxDepth];
    private readonly int[] _indexes = new int[MaxDepth];
    private readonly int[] _counts = new int[MaxDepth];
    private int _top = -1;
    private ulong _pagesVisited;
    private bool _started;
    private bool _finished;

    private long _keyOffset;
    private int _keyLength;
    private long _valueOffset;
    private int _valueLength;

    // Duplicates of the current key: either a sub-page (inside the leaf node) or a sub-tree.
    private LmdbCursor? _dupTree;
    private long _dupPageOffset;
    private int _dupPageLength;
    private int _dupIndex;
    private int _dupCount;

    internal LmdbCursor(LmdbTree tree)
    {
        _tree = tree;
        _file = tree.File;
    }

    public ReadOnlySpan<byte> Key => _file.Bytes(_keyOffset, _keyLength);
    public ReadOnlySpan<byte> Value => _file.Bytes(_valueOffset, _valueLength);

    /// <summary>The leaf node's flags (F_BIGDATA 1, F_SUBDATA 2, F_DUPDATA 4).</summary>
    internal ushort NodeFlags { get; private set; }

    public bool MoveNext()
    {
        if (_finished) return false;
        if (NextDuplicate()) return true;
        while (NextLeafSlot())
        {
            if (ReadLeafNode()) return true;
        }
        _finished = true;
        return false;
    }

    private bool NextDuplicate()
    {
        if (_dupTree is not null)
        {
            if (_dupTree.MoveNext())
            {
                _valueOffset = _dupTree._keyOffset;
                _valueLength = _dupTree._keyLength;
                return true;
            }
            _dupTree = null;
            return false;
        }
        if (_dupIndex + 1 < _dupCount)
        {
            _dupIndex++;
            SetDuplicateFromSubPage();
            return true;
        }
        _dupCount = 0;
        return false;
    }

    /// <summary>Moves to the next leaf slot of the tree; false past the last one.</summary>
    private bool NextLeafSlot()
    {
        if (!_started)
        {
            _started = true;
            if (_tree.Root == LmdbDataFile.InvalidPage) return false;
            Push(_tree.Root);
        }
        else _indexes[_top]++;

        while (true)
        {
            if (_indexes[_top] < _counts[_top])
            {
                if (_top == _tree.Depth - 1) return true;
                Push(BranchChild(_pages[_top], _indexes[_top]));
                continue;
            }
            if (_top == 0) return false;
            _top--;
            _indexes[_top]++;
        }
    }

    private void Push(ulong pgno)
    {
        if (_top + 1 >= Math.Min(_tree.Depth, MaxDepth))
            throw Damaged($"page {pgno} lies deeper than the tree's depth {_tree.Depth}");
        // A damaged branch can point back into the tree; counting pages keeps the walk finite.
        if (++_pagesVisited > Math.Min(_tree.BranchPages + _tree.LeafPages, _file.LastPage))
            throw Damaged($"the walk visits more pages than the tree's {_tree.BranchPages + _tree.LeafPages}");
        var page = _file.Page(pgno);
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(page.Slice(10));
        bool leafLevel = _top + 1 == _tree.Depth - 1;
        ushort expected = leafLevel ? LmdbDataFile.PageLeaf : LmdbDataFile.PageBranch;
        if ((flags & (LmdbDataFile.PageBranch | LmdbDataFile.PageLeaf | LmdbDataFile.PageOverflow | LmdbDataFile.PageMeta)) != expected)
            throw Damaged($"page {pgno} has flags 0x{flags:x}, expected a {(leafLevel ? "leaf" : "branch")} page");
        _top++;
        _pages[_top] = pgno;
        _indexes[_top] = 0;
        _counts[_top] = NodeCount(page, pgno);
    }

    private static int NodeCount(ReadOnlySpan<byte> page, ulong pgno)
    {
        int lower = BinaryPrimitives.ReadUInt16LittleEndian(page.Slice(12));
        int upper = BinaryPrimitives.ReadUInt16LittleEndian(page.Slice(14));
        if (lower < LmdbDataFile.PageHeaderSize || lower > upper || upper > page.Length || (lower & 1) != 0)
            throw new LmdbFormatException($"page {pgno} has impossible free-space bounds {lower}..{upper}; the file is damaged");
        return (lower - LmdbDataFile.PageHeaderSize) >> 1;
    }

    /// <summary>Offset (inside the page) of node <paramref name="index"/>, checked to leave room for its header.</summary>
    private static int NodeOffset(ReadOnlySpan<byte> page, int index, ulong pgno)
    {
        int offset = BinaryPrimitives.ReadUInt16LittleEndian(page.Slice(LmdbDataFile.PageHeaderSize + 2 * index));
        if (offset < LmdbDataFile.PageHeaderSize || offset + 8 > page.Length)
            throw new LmdbFormatException($"page {pgno} points node {index} at offset {offset}, outside the page; the file is damaged");
        return offset;
    }

    private ulong BranchChild(ulong pgno, int index)
    {
        var page = _file.Page(pgno);
        int node = NodeOffset(page, index, pgno);
        // Branch nodes keep the child's page number in the 48 bits of lo, hi and flags.
        return BinaryPrimitives.ReadUInt16LittleEndian(page.Slice(node))
            | (ulong)BinaryPrimitives.ReadUInt16LittleEndian(page.Slice(node + 2)) << 16
            | (ulong)BinaryPrimitives.ReadUInt16LittleEndian(page.Slice(node + 4)) << 32;
    }

    /// <summary>Sets Key and Value from the current leaf node; false if it has no entries to yield.</summary>
    private bool ReadLeafNode()
    {
        ulong pgno = _pages[_top];
        int index = _indexes[_top];
        long pageOffset = (long)pgno * _file.PageSize;
        var page = _file.Page(pgno);
        if ((BinaryPrimitives.ReadUInt16LittleEndian(page.Slice(10)) & LmdbDataFile.PageLeaf2) != 0)
        {
            // The leaves of a fixed-size duplicates tree: bare keys packed after the header.
            int size = _tree.LeafKeySize;
            long at = LmdbDataFile.PageHeaderSize + (long)index * size;
            if (size == 0 || at + size > page.Length) throw Damaged($"fixed-size key {index} runs past the end of page {pgno}");
            NodeFlags = 0;
            _keyOffset = pageOffset + at;
            _keyLength = size;
            _valueOffset = _keyOffset + size;
            _valueLength = 0;
            return true;
        }
        int node = NodeOffset(page, index, pgno);
        int dataSize = BinaryPrimitives.ReadUInt16LittleEndian(page.Slice(node)) | BinaryPrimitives.ReadUInt16LittleEndian(page.Slice(node + 2)) << 16;
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(page.Slice(node + 4));
        int keySize = BinaryPrimitives.ReadUInt16LittleEndian(page.Slice(node + 6));
        NodeFlags = flags;
        _keyOffset = pageOffset + node + 8;
        _keyLength = keySize;
        long dataOffset = _keyOffset + keySize;
        bool bigData = (flags & LmdbDataFile.NodeBigData) != 0;
        if (node + 8 + keySize + (bigData ? 8 : dataSize) > page.Length)
            throw Damaged($"leaf node {index} of page {pgno} runs past the end of its page");

        if (bigData)
        {
            ulong overflow = BinaryPrimitives.ReadUInt64LittleEndian(page.Slice(node + 8 + keySize));
            var first = _file.Page(overflow);
            ushort overflowFlags = BinaryPrimitives.ReadUInt16LittleEndian(first.Slice(10));
            uint pages = BinaryPrimitives.ReadUInt32LittleEndian(first.Slice(12));
            if ((overflowFlags & LmdbDataFile.PageOverflow) == 0)
                throw Damaged($"a big value points at page {overflow}, which is not an overflow page (flags 0x{overflowFlags:x})");
            if ((long)pages * _file.PageSize - LmdbDataFile.PageHeaderSize < dataSize || overflow + pages - 1 > _file.LastPage)
                throw Damaged($"the {dataSize}-byte value on overflow page {overflow} does not fit its {pages} pages");
            _valueOffset = (long)overflow * _file.PageSize + LmdbDataFile.PageHeaderSize;
            _valueLength = dataSize;
            return true;
        }

        if ((flags & LmdbDataFile.NodeDupData) == 0)
        {
            _valueOffset = dataOffset;
            _valueLength = dataSize;
            return true;
        }

        if ((flags & LmdbDataFile.NodeSubData) != 0)
        {
            if (dataSize != LmdbDataFile.DbRecordSize)
                throw Damaged($"the duplicates of a key on page {pgno} have a {dataSize}-byte record, expected {LmdbDataFile.DbRecordSize}");
            var sub = new LmdbTree(_file, _tree.Name, _file.Bytes(dataOffset, dataSize));
            _dupTree = sub.CreateCursor();
            if (!_dupTree.MoveNext())
            {
                _dupTree = null;
                return false;
            }
            _valueOffset = _dupTree._keyOffset;
            _valueLength = _dupTree._keyLength;
            return true;
        }

        // A sub-page: a small leaf page stored as this node's data, offsets relative to its start.
        if (dataSize < LmdbDataFile.PageHeaderSize)
            throw Damaged($"a duplicate sub-page on page {pgno} is only {dataSize} bytes");
        _dupPageOffset = dataOffset;
        _dupPageLength = dataSize;
        _dupIndex = 0;
        _dupCount = NodeCount(_file.Bytes(dataOffset, dataSize), pgno);
        if (_dupCount == 0) return false;
        SetDuplicateFromSubPage();
        return true;
    }

    private void SetDuplicateFromSubPage()
    {
        var sub = _file.Bytes(_dupPageOffset, _dupPageLength);
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(sub.Slice(10));
        if ((flags & LmdbDataFile.PageLeaf2) != 0)
        {
            // Fixed-size duplicates are packed after the header, the size in the header's pad field.
            int size = BinaryPrimitives.ReadUInt16LittleEndian(sub.Slice(8));
            long at = LmdbDataFile.PageHeaderSize + (long)_dupIndex * size;
            if (size == 0 || at + size > _dupPageLength) throw Damaged("a fixed-size duplicate runs past the end of its sub-page");
            _valueOffset = _dupPageOffset + at;
            _valueLength = size;
            return;
        }
        int node = NodeOffset(sub, _dupIndex, _pages[_top]);
        int keySize = BinaryPrimitives.ReadUInt16LittleEndian(sub.Slice(node + 6));
        if (node + 8 + keySize > _dupPageLength) throw Damaged("a duplicate runs past the end of its sub-page");
        // In a duplicates page the value is the node's key; its data part is empty.
        _valueOffset = _dupPageOffset + node + 8;
        _valueLength = keySize;
    }

    private LmdbFormatException Damaged(string what) =>
        new($"{_file.Path}: database '{_tree.Name}': {what}; the file is damaged");
}
