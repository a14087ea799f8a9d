using System.Buffers.Binary;
using LightningDB;
using Relay.Native.Storage;

namespace Relay.Native.Negentropy;

/// <summary>
/// A B+tree of (created_at, id) kept in LMDB, in which every internal entry carries the item count
/// and the id sum of its subtree. Finding a bound's position, the item at a position, and the sum of
/// any position range ([b, e) = prefix(e) - prefix(b)) each read one node per level, never scan.
/// <para><b>Layout</b> (database <c>neg_tree</c>, all trees side by side):</para>
/// <code>
/// key   treeId u64 BE ‖ nodeId u64 BE                    (nodeId 0 = the tree's header)
/// header (24 B)  root u64 LE | nextNodeId u64 LE | height u16 LE | leafCapacity u16 LE |
///                internalCapacity u16 LE | reserved u16
/// node (4080 B, fixed)
///   0  kind u8 (1 leaf, 2 internal) | 1 reserved | 2 entry count u16 LE | 4 reserved u32
///   8  entries:
///      leaf      40 B: created_at u64 BE ‖ id 32                       (the item's sort key)
///      internal  88 B: fence key 40 ‖ child nodeId u64 LE ‖ subtree count u64 LE ‖ subtree id sum 32 (256-bit LE)
/// </code>
/// Keys are big-endian timestamp then id, so bytewise order is item order. A node is exactly 4080
/// bytes, the payload of one 4 KiB LMDB overflow page: a node costs one page read, and rewriting a
/// node already dirty in the transaction overwrites it in place. That gives 101 items per leaf and
/// a fan-out of 46, so a million items are 4 levels deep.
/// <para>
/// A fence is a lower bound of its child's keys and above every key of the child before it; the
/// first entry's fence is never consulted (everything below the second fence goes to the first
/// child), so deleting a child's smallest key never has to touch the parents' fences.
/// </para>
/// <para>
/// Writes go through a per-transaction cache of dirty node copies, written back by
/// <see cref="Flush"/> before the writer commits: a batch of appends rewrites the right edge of the
/// tree once, not once per event. Splits at the right edge of a level keep the left node full and
/// start the new one with the single new item, so append-heavy trees (created_at ≈ now) stay
/// densely packed. Underflowing nodes (below a quarter full) merge with or borrow from a sibling
/// under the same parent.
/// </para>
/// </summary>
public sealed class NegentropyTree : INegentropyStorage
{
    internal const int NodeSize = 4080;
    internal const int HeaderSize = 8;
    internal const int KeySize = NegItem.KeySize;
    internal const int InternalEntrySize = KeySize + 8 + 8 + IdSum.Size;
    internal const int DefaultLeafCapacity = (NodeSize - HeaderSize) / KeySize;
    internal const int DefaultInternalCapacity = (NodeSize - HeaderSize) / InternalEntrySize;
    internal const int TreeKeySize = 16;
    private const int MetaSize = 24;
    private const byte LeafKind = 1;
    private const byte InternalKind = 2;
    private const int MaxHeight = 40;
    private const int InitialSpareNodes = 8;
    // A batch of scattered inserts (a sync or import of old events) dirties a leaf per event; keep
    // enough copies for a 256-event batch of those, but not what a 10k-event import batch needed.
    private const int MaxSpareNodes = 512;

    private readonly LightningDatabase _db;
    private readonly ulong _treeId;
    private LightningTransaction _txn;

    private ulong _root;
    private ulong _nextNodeId;
    private int _height;
    private int _leafCapacity;
    private int _internalCapacity;
    private bool _metaDirty;
    private bool _exists;
    private long _cachedCount = -1;
    // The last prefix sum computed, reused while nothing changes.
    private long _prefixPosition = -1;
    private IdSum _prefixSum;

    // Write mode only.
    private readonly bool _writable;
    private readonly Dictionary<ulong, byte[]>? _dirty;
    private readonly List<ulong>? _freed;
    private readonly Stack<byte[]>? _spare;
    private ulong[] _flushOrder = [];
    private byte[] _splitScratch = [];

    private NegentropyTree(LightningTransaction txn, LightningDatabase db, ulong treeId, bool writable)
    {
        _txn = txn;
        _db = db;
        _treeId = treeId;
        _writable = writable;
        if (writable)
        {
            _dirty = new Dictionary<ulong, byte[]>(32);
            _freed = new List<ulong>();
            // Enough node copies for a batch of appends (right-edge leaf and its ancestors, a few
            // new leaves), so the writer's steady state allocates nothing.
            _spare = new Stack<byte[]>(MaxSpareNodes);
            for (int i = 0; i < InitialSpareNodes; i++) _spare.Push(new byte[NodeSize]);
        }
        LoadMeta();
    }

    /// <summary>The tree as of <paramref name="view"/>'s snapshot; valid while the view is.</summary>
    public static NegentropyTree Open(ReadView view, ulong treeId)
    {
        ArgumentNullException.ThrowIfNull(view);
        return new NegentropyTree(view.Transaction, view.Databases.NegTree, treeId, writable: false);
    }

    internal static NegentropyTree OpenRead(LightningTransaction txn, LightningDatabase db, ulong treeId) => new(txn, db, treeId, writable: false);

    /// <summary>For inserting and removing inside <paramref name="txn"/>; <see cref="Flush"/> before it commits.</summary>
    internal static NegentropyTree OpenWrite(LightningTransaction txn, LightningDatabase db, ulong treeId) => new(txn, db, treeId, writable: true);

    /// <summary>Writes the header of a new, empty tree. Small capacities are for tests that want many splits and merges.</summary>
    internal static void Create(LightningTransaction txn, LightningDatabase db, ulong treeId, int leafCapacity = DefaultLeafCapacity, int internalCapacity = DefaultInternalCapacity)
    {
        if (leafCapacity < 3 || leafCapacity > DefaultLeafCapacity) throw new ArgumentOutOfRangeException(nameof(leafCapacity));
        if (internalCapacity < 3 || internalCapacity > DefaultInternalCapacity) throw new ArgumentOutOfRangeException(nameof(internalCapacity));
        Span<byte> key = stackalloc byte[TreeKeySize];
        WriteTreeKey(key, treeId, 0);
        Span<byte> meta = stackalloc byte[MetaSize];
        WriteMeta(meta, 0, 1, 0, leafCapacity, internalCapacity);
        txn.Put(db, key, meta, PutOptions.None).ThrowOnError();
    }

    /// <summary>Deletes the header and every node of a tree.</summary>
    internal static void Drop(LightningTransaction txn, LightningDatabase db, ulong treeId)
    {
        Span<byte> key = stackalloc byte[TreeKeySize];
        WriteTreeKey(key, treeId, 0);
        using var cursor = txn.CreateCursor(db);
        while (true)
        {
            // Re-seek after each delete rather than trust where a deleting cursor is left.
            var rc = cursor.SetRange(key);
            if (rc == MDBResultCode.NotFound) break;
            rc.ThrowOnError();
            var (grc, found, _) = cursor.GetCurrent();
            grc.ThrowOnError();
            if (BinaryPrimitives.ReadUInt64BigEndian(found.AsSpan()) != treeId) break;
            cursor.Delete().ThrowOnError();
        }
    }

    public ulong TreeId => _treeId;

    /// <summary>False when no tree with this id is stored (it reads as empty).</summary>
    public bool Exists => _exists;

    /// <summary>Levels, 0 when empty.</summary>
    public int Height => _height;

    internal static void WriteTreeKey(Span<byte> destination, ulong treeId, ulong nodeId)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, treeId);
        BinaryPrimitives.WriteUInt64BigEndian(destination.Slice(8), nodeId);
    }

    private static void WriteMeta(Span<byte> meta, ulong root, ulong nextNodeId, int height, int leafCapacity, int internalCapacity)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(meta, root);
        BinaryPrimitives.WriteUInt64LittleEndian(meta.Slice(8), nextNodeId);
        BinaryPrimitives.WriteUInt16LittleEndian(meta.Slice(16), (ushort)height);
        BinaryPrimitives.WriteUInt16LittleEndian(meta.Slice(18), (ushort)leafCapacity);
        BinaryPrimitives.WriteUInt16LittleEndian(meta.Slice(20), (ushort)internalCapacity);
        BinaryPrimitives.WriteUInt16LittleEndian(meta.Slice(22), 0);
    }

    private void LoadMeta()
    {
        Span<byte> key = stackalloc byte[TreeKeySize];
        WriteTreeKey(key, _treeId, 0);
        var (rc, _, value) = _txn.Get(_db, key);
        if (rc == MDBResultCode.NotFound)
        {
            _root = 0;
            _nextNodeId = 1;
            _height = 0;
            _leafCapacity = DefaultLeafCapacity;
            _internalCapacity = DefaultInternalCapacity;
            // A tree written into without a header gets one at the next flush.
            _metaDirty = _writable;
            _exists = false;
            return;
        }
        rc.ThrowOnError();
        var meta = value.AsSpan();
        if (meta.Length != MetaSize) throw Corrupt("header size " + meta.Length);
        _root = BinaryPrimitives.ReadUInt64LittleEndian(meta);
        _nextNodeId = BinaryPrimitives.ReadUInt64LittleEndian(meta.Slice(8));
        _height = BinaryPrimitives.ReadUInt16LittleEndian(meta.Slice(16));
        _leafCapacity = BinaryPrimitives.ReadUInt16LittleEndian(meta.Slice(18));
        _internalCapacity = BinaryPrimitives.ReadUInt16LittleEndian(meta.Slice(20));
        if (_leafCapacity < 3 || _leafCapacity > DefaultLeafCapacity || _internalCapacity < 3 || _internalCapacity > DefaultInternalCapacity
            || _height > MaxHeight || (_root == 0) != (_height == 0))
            throw Corrupt("bad header");
        _metaDirty = false;
        _exists = true;
    }

    /// <summary>Points a write-mode tree at the next transaction, dropping anything not flushed (an aborted batch).</summary>
    internal void Rebind(LightningTransaction txn)
    {
        DiscardPending();
        _txn = txn;
        _cachedCount = -1;
        _prefixPosition = -1;
        LoadMeta();
    }

    // ---- reading ----

    public long Count
    {
        get
        {
            if (_cachedCount >= 0) return _cachedCount;
            long count = 0;
            if (_root != 0)
            {
                var root = Node(_root);
                int n = EntryCount(root);
                if (IsLeaf(root)) count = n;
                else
                {
                    for (int i = 0; i < n; i++) count += (long)ChildCount(root, i);
                }
            }
            if (!_writable) _cachedCount = count;
            return count;
        }
    }

    public IdSum SumIds(long begin, long end)
    {
        NegentropyStorageExtensions.CheckRange(begin, end, Count);
        if (begin == end) return IdSum.Zero;
        // Buckets are fingerprinted left to right, so one bucket's end is the next one's begin.
        var before = begin == 0 ? IdSum.Zero : begin == _prefixPosition ? _prefixSum : PrefixSum(begin);
        var sum = PrefixSum(end);
        _prefixPosition = end;
        _prefixSum = sum;
        sum.Subtract(before);
        return sum;
    }

    /// <summary>Sum of the ids at positions [0, position).</summary>
    private IdSum PrefixSum(long position)
    {
        var sum = IdSum.Zero;
        ulong node = _root;
        long remaining = position;
        for (int level = 0; level < _height - 1; level++)
        {
            var n = Node(node);
            int count = EntryCount(n);
            int i = 0;
            for (; i < count - 1; i++)
            {
                long c = (long)ChildCount(n, i);
                if (remaining < c) break;
                sum.Add(ChildSum(n, i));
                remaining -= c;
            }
            if (remaining == 0) return sum;
            node = Child(n, i);
        }
        var leaf = Node(node);
        int items = EntryCount(leaf);
        if (remaining > items) throw Corrupt("position past the end of a leaf");
        for (int i = 0; i < remaining; i++) sum.Add(LeafKey(leaf, i).Slice(8));
        return sum;
    }

    public long FindLowerBound(long begin, long end, in NegBound bound)
    {
        NegentropyStorageExtensions.CheckRange(begin, end, Count);
        if (begin == end) return begin;
        Span<byte> key = stackalloc byte[KeySize];
        bound.WriteKey(key);
        long position = LowerBound(key);
        return Math.Clamp(position, begin, end);
    }

    /// <summary>Number of items whose key is below <paramref name="key"/>.</summary>
    private long LowerBound(ReadOnlySpan<byte> key)
    {
        if (_root == 0) return 0;
        long before = 0;
        ulong node = _root;
        for (int level = 0; level < _height - 1; level++)
        {
            var n = Node(node);
            int i = ChildIndex(n, EntryCount(n), key);
            for (int j = 0; j < i; j++) before += (long)ChildCount(n, j);
            node = Child(n, i);
        }
        var leaf = Node(node);
        return before + LeafLowerBound(leaf, EntryCount(leaf), key);
    }

    public int ReadItems(long start, Span<NegItem> destination)
    {
        long total = Count;
        if (start < 0 || start > total) throw new ArgumentOutOfRangeException(nameof(start));
        if (start == total || destination.IsEmpty) return 0;
        ulong node = _root;
        long remaining = start;
        for (int level = 0; level < _height - 1; level++)
        {
            var n = Node(node);
            int count = EntryCount(n);
            int i = 0;
            for (; i < count - 1; i++)
            {
                long c = (long)ChildCount(n, i);
                if (remaining < c) break;
                remaining -= c;
            }
            node = Child(n, i);
        }
        var leaf = Node(node);
        int items = EntryCount(leaf);
        int offset = (int)remaining;
        if (offset >= items) throw Corrupt("position past the end of a leaf");
        int copied = Math.Min(destination.Length, items - offset);
        for (int i = 0; i < copied; i++) destination[i] = NegItem.FromKey(LeafKey(leaf, offset + i));
        return copied;
    }

    // ---- writing ----

    /// <summary>Adds an item; false when it is already there.</summary>
    internal bool Insert(in NegItem item)
    {
        CheckWritable();
        _cachedCount = -1;
        _prefixPosition = -1;
        Span<byte> key = stackalloc byte[KeySize];
        item.WriteKey(key);

        if (_root == 0)
        {
            ulong id = Allocate(LeafKind);
            InsertEntry(Mutable(id), 0, 0, key, KeySize);
            _root = id;
            _height = 1;
            _metaDirty = true;
            return true;
        }

        Span<PathStep> path = stackalloc PathStep[MaxHeight];
        ulong leafId = Descend(key, path);
        var leaf = Node(leafId);
        int leafCount = EntryCount(leaf);
        int position = LeafLowerBound(leaf, leafCount, key);
        if (position < leafCount && LeafKey(leaf, position).SequenceEqual(key)) return false;

        int leafLevel = _height - 1;
        var leafNode = Mutable(leafId);
        if (leafCount < _leafCapacity)
        {
            InsertEntry(leafNode, leafCount, position, key, KeySize);
            for (int level = leafLevel - 1; level >= 0; level--)
                AdjustChild(Mutable(path[level].NodeId), path[level].Index, +1, item.Id.Span);
            return true;
        }

        // The leaf is full: split it, then carry the new right node up as a new parent entry.
        bool pack = position == leafCount && (leafLevel == 0 || path[leafLevel - 1].LastSoFar);
        ulong rightId = SplitInto(leafNode, leafCount, position, key, KeySize, pack);
        Span<byte> entry = stackalloc byte[InternalEntrySize];
        ulong leftCount = (ulong)EntryCount(leafNode);
        var leftSum = SumLeaf(leafNode);
        MakeEntry(entry, Mutable(rightId), rightId, isLeaf: true);

        for (int level = leafLevel - 1; level >= 0; level--)
        {
            var parent = Mutable(path[level].NodeId);
            int index = path[level].Index;
            if (rightId == 0)
            {
                AdjustChild(parent, index, +1, item.Id.Span);
                continue;
            }
            SetChildAggregate(parent, index, leftCount, leftSum);
            int parentCount = EntryCount(parent);
            if (parentCount < _internalCapacity)
            {
                InsertEntry(parent, parentCount, index + 1, entry, InternalEntrySize);
                rightId = 0;
                continue;
            }
            bool packHere = index + 1 == parentCount && (level == 0 || path[level - 1].LastSoFar);
            rightId = SplitInto(parent, parentCount, index + 1, entry, InternalEntrySize, packHere);
            (leftCount, leftSum) = SumInternal(parent);
            MakeEntry(entry, Mutable(rightId), rightId, isLeaf: false);
        }

        if (rightId != 0)
        {
            // The root split: a new root above the two halves.
            ulong oldRoot = _root;
            var oldRootNode = Node(oldRoot);
            ulong newRoot = Allocate(InternalKind);
            var root = Mutable(newRoot);
            Span<byte> left = stackalloc byte[InternalEntrySize];
            FirstKey(oldRootNode).CopyTo(left);
            BinaryPrimitives.WriteUInt64LittleEndian(left.Slice(KeySize), oldRoot);
            BinaryPrimitives.WriteUInt64LittleEndian(left.Slice(KeySize + 8), leftCount);
            leftSum.Write(left.Slice(KeySize + 16));
            InsertEntry(root, 0, 0, left, InternalEntrySize);
            InsertEntry(root, 1, 1, entry, InternalEntrySize);
            _root = newRoot;
            _height++;
            if (_height > MaxHeight) throw Corrupt("tree too high");
            _metaDirty = true;
        }
        return true;
    }

    /// <summary>Removes an item; false when it is not there.</summary>
    internal bool Remove(in NegItem item)
    {
        CheckWritable();
        if (_root == 0) return false;
        _cachedCount = -1;
        _prefixPosition = -1;
        Span<byte> key = stackalloc byte[KeySize];
        item.WriteKey(key);
        Span<PathStep> path = stackalloc PathStep[MaxHeight];
        ulong leafId = Descend(key, path);
        var leaf = Node(leafId);
        int leafCount = EntryCount(leaf);
        int position = LeafLowerBound(leaf, leafCount, key);
        if (position == leafCount || !LeafKey(leaf, position).SequenceEqual(key)) return false;

        RemoveEntry(Mutable(leafId), leafCount, position, KeySize);
        int leafLevel = _height - 1;
        for (int level = leafLevel - 1; level >= 0; level--)
            AdjustChild(Mutable(path[level].NodeId), path[level].Index, -1, item.Id.Span);

        // Bottom-up: a child below its minimum merges with or borrows from a sibling.
        ulong childId = leafId;
        bool childIsLeaf = true;
        for (int level = leafLevel - 1; level >= 0; level--)
        {
            int n = EntryCount(Node(childId));
            int capacity = childIsLeaf ? _leafCapacity : _internalCapacity;
            if (n >= MinEntries(capacity)) break;
            var parent = Mutable(path[level].NodeId);
            int parentCount = EntryCount(parent);
            int index = path[level].Index;
            if (parentCount >= 2)
            {
                int leftIndex = index > 0 ? index - 1 : 0;
                if (!Rebalance(parent, parentCount, leftIndex, childIsLeaf, capacity)) break;
            }
            else
            {
                // An only child (possible at the right edge after packed splits): nothing to merge
                // with here; an empty one goes, and the parent's own underflow is handled above.
                if (n != 0) break;
                Free(childId);
                RemoveEntry(parent, parentCount, index, InternalEntrySize);
            }
            childId = path[level].NodeId;
            childIsLeaf = false;
        }

        // Shrink from the top: an internal root with one child hands over to it.
        while (_root != 0)
        {
            var root = Node(_root);
            int n = EntryCount(root);
            if (n > 1 || (IsLeaf(root) && n == 1)) break;
            ulong old = _root;
            if (n == 0)
            {
                _root = 0;
                _height = 0;
            }
            else
            {
                _root = Child(root, 0);
                _height--;
            }
            Free(old);
            _metaDirty = true;
        }
        return true;
    }

    /// <summary>
    /// Merges the children at <paramref name="leftIndex"/> and the next one when they fit in one node
    /// (true: the parent lost an entry), else evens them out (false: nothing changes above).
    /// </summary>
    private bool Rebalance(Span<byte> parent, int parentCount, int leftIndex, bool isLeaf, int capacity)
    {
        int rightIndex = leftIndex + 1;
        ulong leftId = Child(parent, leftIndex), rightId = Child(parent, rightIndex);
        var left = Mutable(leftId);
        var right = Mutable(rightId);
        int entrySize = isLeaf ? KeySize : InternalEntrySize;
        int leftCount = EntryCount(left), rightCount = EntryCount(right);
        int total = leftCount + rightCount;

        if (total <= MergeLimit(capacity))
        {
            Entries(right, 0, rightCount, entrySize).CopyTo(left.Slice(HeaderSize + leftCount * entrySize));
            SetEntryCount(left, total);
            var sum = IdSum.Read(ChildSum(parent, leftIndex));
            sum.Add(ChildSum(parent, rightIndex));
            SetChildAggregate(parent, leftIndex, ChildCount(parent, leftIndex) + ChildCount(parent, rightIndex), sum);
            RemoveEntry(parent, parentCount, rightIndex, InternalEntrySize);
            Free(rightId);
            return true;
        }

        int targetLeft = total / 2;
        if (leftCount < targetLeft)
        {
            int move = targetLeft - leftCount;
            Entries(right, 0, move, entrySize).CopyTo(left.Slice(HeaderSize + leftCount * entrySize));
            Entries(right, move, rightCount - move, entrySize).CopyTo(right.Slice(HeaderSize));
        }
        else
        {
            int move = leftCount - targetLeft;
            Entries(right, 0, rightCount, entrySize).CopyTo(right.Slice(HeaderSize + move * entrySize));
            Entries(left, targetLeft, move, entrySize).CopyTo(right.Slice(HeaderSize));
        }
        SetEntryCount(left, targetLeft);
        SetEntryCount(right, total - targetLeft);
        if (isLeaf)
        {
            SetChildAggregate(parent, leftIndex, (ulong)targetLeft, SumLeaf(left));
            SetChildAggregate(parent, rightIndex, (ulong)(total - targetLeft), SumLeaf(right));
        }
        else
        {
            var (lc, ls) = SumInternal(left);
            SetChildAggregate(parent, leftIndex, lc, ls);
            var (rc, rs) = SumInternal(right);
            SetChildAggregate(parent, rightIndex, rc, rs);
        }
        FirstKey(right).CopyTo(Entry(parent, rightIndex, InternalEntrySize));
        return false;
    }

    private static int MinEntries(int capacity) => Math.Max(1, capacity / 4);
    private static int MergeLimit(int capacity) => Math.Max(2 * MinEntries(capacity) - 1, capacity * 2 / 3);

    /// <summary>Writes the dirty nodes, deletes the freed ones and saves the header.</summary>
    internal void Flush()
    {
        CheckWritable();
        Span<byte> key = stackalloc byte[TreeKeySize];
        int dirty = _dirty!.Count;
        if (dirty > 0)
        {
            if (_flushOrder.Length < dirty) _flushOrder = new ulong[Math.Max(dirty, _flushOrder.Length * 2)];
            _dirty.Keys.CopyTo(_flushOrder, 0);
            // In key order, so LMDB touches its pages in one sweep.
            Array.Sort(_flushOrder, 0, dirty);
            for (int i = 0; i < dirty; i++)
            {
                ulong nodeId = _flushOrder[i];
                var buffer = _dirty[nodeId];
                WriteTreeKey(key, _treeId, nodeId);
                _txn.Put(_db, key, buffer, PutOptions.None).ThrowOnError();
                Return(buffer);
            }
            _dirty.Clear();
        }
        foreach (ulong nodeId in _freed!)
        {
            WriteTreeKey(key, _treeId, nodeId);
            var rc = _txn.Delete(_db, key);
            if (rc != MDBResultCode.NotFound) rc.ThrowOnError();
        }
        _freed.Clear();
        if (_metaDirty)
        {
            Span<byte> meta = stackalloc byte[MetaSize];
            WriteMeta(meta, _root, _nextNodeId, _height, _leafCapacity, _internalCapacity);
            WriteTreeKey(key, _treeId, 0);
            _txn.Put(_db, key, meta, PutOptions.None).ThrowOnError();
            _metaDirty = false;
        }
    }

    internal bool HasPendingWrites => _writable && (_dirty!.Count > 0 || _freed!.Count > 0 || _metaDirty);

    private void DiscardPending()
    {
        if (!_writable) return;
        foreach (var buffer in _dirty!.Values) Return(buffer);
        _dirty.Clear();
        _freed!.Clear();
        _metaDirty = false;
    }

    private void CheckWritable()
    {
        if (!_writable) throw new InvalidOperationException("this tree was opened for reading");
    }

    // ---- node access ----

    private struct PathStep
    {
        public ulong NodeId;
        public int Index;
        /// <summary>This step and every one above it took the last child: the path runs along the right edge.</summary>
        public bool LastSoFar;
    }

    /// <summary>Walks from the root to the leaf that holds (or would hold) <paramref name="key"/>.</summary>
    private ulong Descend(ReadOnlySpan<byte> key, Span<PathStep> path)
    {
        ulong node = _root;
        bool last = true;
        for (int level = 0; level < _height - 1; level++)
        {
            var n = Node(node);
            if (IsLeaf(n)) throw Corrupt("leaf above the bottom level");
            int count = EntryCount(n);
            if (count == 0) throw Corrupt("empty internal node");
            int i = ChildIndex(n, count, key);
            last &= i == count - 1;
            path[level] = new PathStep { NodeId = node, Index = i, LastSoFar = last };
            node = Child(n, i);
        }
        if (!IsLeaf(Node(node))) throw Corrupt("internal node at the bottom level");
        return node;
    }

    /// <summary>Nodes fetched so far (cache hits included): tests check that queries stay logarithmic.</summary>
    internal long NodeReads { get; private set; }

    private ReadOnlySpan<byte> Node(ulong nodeId)
    {
        NodeReads++;
        if (_dirty is not null && _dirty.TryGetValue(nodeId, out var buffer)) return buffer;
        Span<byte> key = stackalloc byte[TreeKeySize];
        WriteTreeKey(key, _treeId, nodeId);
        var (rc, _, value) = _txn.Get(_db, key);
        if (rc == MDBResultCode.NotFound) throw Corrupt("missing node " + nodeId);
        rc.ThrowOnError();
        var span = value.AsSpan();
        if (span.Length != NodeSize) throw Corrupt("node " + nodeId + " has " + span.Length + " bytes");
        return span;
    }

    /// <summary>A private copy of the node that <see cref="Flush"/> will write back.</summary>
    private Span<byte> Mutable(ulong nodeId)
    {
        if (_dirty!.TryGetValue(nodeId, out var buffer)) return buffer;
        var stored = Node(nodeId);
        buffer = Rent();
        stored.CopyTo(buffer);
        _dirty[nodeId] = buffer;
        return buffer;
    }

    private ulong Allocate(byte kind)
    {
        ulong id = _nextNodeId++;
        _metaDirty = true;
        var buffer = Rent();
        buffer.AsSpan(0, HeaderSize).Clear();
        buffer[0] = kind;
        _dirty![id] = buffer;
        return id;
    }

    private void Free(ulong nodeId)
    {
        if (_dirty!.Remove(nodeId, out var buffer)) Return(buffer);
        _freed!.Add(nodeId);
    }

    private byte[] Rent() => _spare!.Count > 0 ? _spare.Pop() : new byte[NodeSize];

    private void Return(byte[] buffer)
    {
        if (_spare!.Count < MaxSpareNodes) _spare.Push(buffer);
    }

    private static bool IsLeaf(ReadOnlySpan<byte> node) => node[0] == LeafKind;
    private static int EntryCount(ReadOnlySpan<byte> node) => BinaryPrimitives.ReadUInt16LittleEndian(node.Slice(2));
    private static void SetEntryCount(Span<byte> node, int count) => BinaryPrimitives.WriteUInt16LittleEndian(node.Slice(2), (ushort)count);

    private static ReadOnlySpan<byte> LeafKey(ReadOnlySpan<byte> node, int index) => node.Slice(HeaderSize + index * KeySize, KeySize);
    private static ReadOnlySpan<byte> Fence(ReadOnlySpan<byte> node, int index) => node.Slice(HeaderSize + index * InternalEntrySize, KeySize);
    private static ulong Child(ReadOnlySpan<byte> node, int index) =>
        BinaryPrimitives.ReadUInt64LittleEndian(node.Slice(HeaderSize + index * InternalEntrySize + KeySize));
    private static ulong ChildCount(ReadOnlySpan<byte> node, int index) =>
        BinaryPrimitives.ReadUInt64LittleEndian(node.Slice(HeaderSize + index * InternalEntrySize + KeySize + 8));
    private static ReadOnlySpan<byte> ChildSum(ReadOnlySpan<byte> node, int index) =>
        node.Slice(HeaderSize + index * InternalEntrySize + KeySize + 16, IdSum.Size);
    private static Span<byte> Entry(Span<byte> node, int index, int entrySize) => node.Slice(HeaderSize + index * entrySize, entrySize);
    private static ReadOnlySpan<byte> Entries(ReadOnlySpan<byte> node, int start, int count, int entrySize) =>
        node.Slice(HeaderSize + start * entrySize, count * entrySize);

    /// <summary>The smallest key under a node: its first item, or its first fence.</summary>
    private static ReadOnlySpan<byte> FirstKey(ReadOnlySpan<byte> node) => node.Slice(HeaderSize, KeySize);

    private static void SetChildAggregate(Span<byte> node, int index, ulong count, in IdSum sum)
    {
        var entry = node.Slice(HeaderSize + index * InternalEntrySize);
        BinaryPrimitives.WriteUInt64LittleEndian(entry.Slice(KeySize + 8), count);
        sum.Write(entry.Slice(KeySize + 16));
    }

    private static void AdjustChild(Span<byte> node, int index, int delta, ReadOnlySpan<byte> id)
    {
        var entry = node.Slice(HeaderSize + index * InternalEntrySize);
        var countSpan = entry.Slice(KeySize + 8, 8);
        BinaryPrimitives.WriteUInt64LittleEndian(countSpan, BinaryPrimitives.ReadUInt64LittleEndian(countSpan) + (ulong)(long)delta);
        var sumSpan = entry.Slice(KeySize + 16, IdSum.Size);
        var sum = IdSum.Read(sumSpan);
        if (delta > 0) sum.Add(id); else sum.Subtract(id);
        sum.Write(sumSpan);
    }

    /// <summary>A parent entry for <paramref name="node"/>: its first key as fence, its id, count and sum.</summary>
    private static void MakeEntry(Span<byte> entry, ReadOnlySpan<byte> node, ulong nodeId, bool isLeaf)
    {
        FirstKey(node).CopyTo(entry);
        BinaryPrimitives.WriteUInt64LittleEndian(entry.Slice(KeySize), nodeId);
        ulong count;
        IdSum sum;
        if (isLeaf)
        {
            count = (ulong)EntryCount(node);
            sum = SumLeaf(node);
        }
        else
        {
            (count, sum) = SumInternal(node);
        }
        BinaryPrimitives.WriteUInt64LittleEndian(entry.Slice(KeySize + 8), count);
        sum.Write(entry.Slice(KeySize + 16));
    }

    private static IdSum SumLeaf(ReadOnlySpan<byte> node)
    {
        var sum = IdSum.Zero;
        int n = EntryCount(node);
        for (int i = 0; i < n; i++) sum.Add(LeafKey(node, i).Slice(8));
        return sum;
    }

    private static (ulong Count, IdSum Sum) SumInternal(ReadOnlySpan<byte> node)
    {
        ulong count = 0;
        var sum = IdSum.Zero;
        int n = EntryCount(node);
        for (int i = 0; i < n; i++)
        {
            count += ChildCount(node, i);
            sum.Add(ChildSum(node, i));
        }
        return (count, sum);
    }

    /// <summary>The child whose fence is the last one at or below <paramref name="key"/> (the first child takes everything below).</summary>
    private static int ChildIndex(ReadOnlySpan<byte> node, int count, ReadOnlySpan<byte> key)
    {
        int lo = 1, hi = count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (Fence(node, mid).SequenceCompareTo(key) <= 0) lo = mid + 1;
            else hi = mid;
        }
        return lo - 1;
    }

    private static int LeafLowerBound(ReadOnlySpan<byte> node, int count, ReadOnlySpan<byte> key)
    {
        int lo = 0, hi = count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (LeafKey(node, mid).SequenceCompareTo(key) < 0) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private static void InsertEntry(Span<byte> node, int count, int position, ReadOnlySpan<byte> entry, int entrySize)
    {
        int at = HeaderSize + position * entrySize;
        node.Slice(at, (count - position) * entrySize).CopyTo(node.Slice(at + entrySize));
        entry.Slice(0, entrySize).CopyTo(node.Slice(at));
        SetEntryCount(node, count + 1);
    }

    private static void RemoveEntry(Span<byte> node, int count, int position, int entrySize)
    {
        int at = HeaderSize + position * entrySize;
        node.Slice(at + entrySize, (count - position - 1) * entrySize).CopyTo(node.Slice(at));
        SetEntryCount(node, count - 1);
    }

    /// <summary>
    /// Splits a full node while inserting <paramref name="entry"/> at <paramref name="position"/>:
    /// evenly, or (<paramref name="pack"/>) leaving the left node full and the new entry alone on the
    /// right. Returns the new right node.
    /// </summary>
    private ulong SplitInto(Span<byte> left, int count, int position, ReadOnlySpan<byte> entry, int entrySize, bool pack)
    {
        ulong rightId = Allocate(left[0]);
        var right = Mutable(rightId);
        if (pack)
        {
            InsertEntry(right, 0, 0, entry, entrySize);
            return rightId;
        }

        // Lay out all count + 1 entries in order, then deal them to the two halves.
        int total = count + 1;
        if (_splitScratch.Length < total * entrySize) _splitScratch = new byte[NodeSize + InternalEntrySize];
        var all = _splitScratch.AsSpan(0, total * entrySize);
        Entries(left, 0, position, entrySize).CopyTo(all);
        entry.Slice(0, entrySize).CopyTo(all.Slice(position * entrySize));
        Entries(left, position, count - position, entrySize).CopyTo(all.Slice((position + 1) * entrySize));

        int leftCount = (total + 1) / 2;
        all.Slice(0, leftCount * entrySize).CopyTo(left.Slice(HeaderSize));
        all.Slice(leftCount * entrySize).CopyTo(right.Slice(HeaderSize));
        SetEntryCount(left, leftCount);
        SetEntryCount(right, total - leftCount);
        return rightId;
    }

    private static InvalidDataException Corrupt(string what) => new("negentropy tree: " + what);

    // ---- checking (tests, `negentropy list --check`) ----

    /// <summary>
    /// Walks the whole tree and checks every invariant: key order, fences, stored counts and sums,
    /// uniform depth, and that no node is stored that the tree does not reach. Returns the item count.
    /// </summary>
    internal long Validate()
    {
        if (_writable && HasPendingWrites) throw new InvalidOperationException("flush before validating");
        long reachable = 0;
        long items = 0;
        if (_root != 0)
        {
            Span<byte> low = stackalloc byte[KeySize];
            low.Clear();
            items = ValidateNode(_root, 0, ref reachable, out _, hasLow: false, low);
        }
        long stored = 0;
        Span<byte> key = stackalloc byte[TreeKeySize];
        WriteTreeKey(key, _treeId, 1);
        using var cursor = _txn.CreateCursor(_db);
        var rc = cursor.SetRange(key);
        while (rc == MDBResultCode.Success)
        {
            var (grc, found, _) = cursor.GetCurrent();
            grc.ThrowOnError();
            if (BinaryPrimitives.ReadUInt64BigEndian(found.AsSpan()) != _treeId) break;
            stored++;
            (rc, _, _) = cursor.Next();
        }
        if (stored != reachable) throw Corrupt($"{stored} nodes stored but {reachable} reachable");
        return items;
    }

    private long ValidateNode(ulong nodeId, int level, ref long reachable, out IdSum sum, bool hasLow, ReadOnlySpan<byte> low)
    {
        reachable++;
        var node = Node(nodeId).ToArray();
        int n = EntryCount(node);
        bool leaf = IsLeaf(node);
        if (leaf != (level == _height - 1)) throw Corrupt($"node {nodeId} at level {level} has the wrong kind");
        if (n == 0) throw Corrupt($"node {nodeId} is empty");
        if (n > (leaf ? _leafCapacity : _internalCapacity)) throw Corrupt($"node {nodeId} over capacity");
        sum = IdSum.Zero;
        if (leaf)
        {
            for (int i = 0; i < n; i++)
            {
                var k = LeafKey(node, i);
                if (i > 0 && LeafKey(node, i - 1).SequenceCompareTo(k) >= 0) throw Corrupt($"leaf {nodeId} out of order");
                if (hasLow && k.SequenceCompareTo(low) < 0) throw Corrupt($"leaf {nodeId} has a key below its fence");
                sum.Add(k.Slice(8));
            }
            return n;
        }
        long total = 0;
        for (int i = 0; i < n; i++)
        {
            if (i > 0 && Fence(node, i - 1).SequenceCompareTo(Fence(node, i)) >= 0 && i - 1 > 0) throw Corrupt($"node {nodeId} fences out of order");
            bool childHasLow = i > 0 || hasLow;
            var childLow = i > 0 ? Fence(node, i) : low;
            long count = ValidateNode(Child(node, i), level + 1, ref reachable, out var childSum, childHasLow, childLow);
            if ((ulong)count != ChildCount(node, i)) throw Corrupt($"node {nodeId} entry {i} count {ChildCount(node, i)} != {count}");
            if (!IdSum.Read(ChildSum(node, i)).Equals(childSum)) throw Corrupt($"node {nodeId} entry {i} sum mismatch");
            if (i + 1 < n && Fence(node, i + 1).SequenceCompareTo(LastKeyOf(Child(node, i), level + 1)) <= 0)
                throw Corrupt($"node {nodeId} fence {i + 1} not above child {i}'s keys");
            total += count;
            sum.Add(childSum);
        }
        return total;
    }

    private byte[] LastKeyOf(ulong nodeId, int level)
    {
        var node = Node(nodeId);
        int n = EntryCount(node);
        if (level == _height - 1) return LeafKey(node, n - 1).ToArray();
        return LastKeyOf(Child(node, n - 1), level + 1);
    }
}
