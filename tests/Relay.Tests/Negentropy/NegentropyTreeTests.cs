using System.Buffers.Binary;
using LightningDB;
using Relay.Native.Negentropy;
using Relay.Tests.Storage;

namespace Relay.Tests.Negentropy;

/// <summary>The LMDB B-tree against the in-memory vector: same items, same fingerprints, same bounds.</summary>
public sealed class NegentropyTreeTests : IDisposable
{
    // Not registered in neg_filters, so the store's writer never touches these trees.
    private const ulong TreeId = 1000;

    private readonly TempStore _db = new();

    public void Dispose() => _db.Dispose();

    private LightningTransaction BeginWrite() => _db.Store.Environment.BeginTransaction();

    private void CreateTree(int leafCapacity, int internalCapacity)
    {
        using var txn = BeginWrite();
        NegentropyTree.Create(txn, _db.Store.Databases.NegTree, TreeId, leafCapacity, internalCapacity);
        txn.Commit().ThrowOnError();
    }

    [Theory]
    [InlineData(3, 3, 1)]
    [InlineData(4, 5, 2)]
    [InlineData(7, 4, 3)]
    [InlineData(101, 46, 4)]
    public void Random_inserts_and_removes_keep_the_tree_equal_to_the_vector(int leafCapacity, int internalCapacity, int seed)
    {
        CreateTree(leafCapacity, internalCapacity);
        var random = new Random(seed);
        var model = new SortedSet<NegItem>();
        var all = new List<NegItem>();
        int batches = leafCapacity > 50 ? 12 : 25;
        for (int batch = 0; batch < batches; batch++)
        {
            using (var txn = BeginWrite())
            {
                var tree = NegentropyTree.OpenWrite(txn, _db.Store.Databases.NegTree, TreeId);
                // Grow for a while, then shrink, so that both splits and merges run at every level.
                bool growing = batch < batches * 2 / 3;
                int operations = leafCapacity > 50 ? 3000 : 150;
                for (int i = 0; i < operations; i++)
                {
                    bool insert = all.Count == 0 || random.Next(100) < (growing ? 75 : 25);
                    if (insert)
                    {
                        // Narrow timestamp range: many ties, so ids decide the order.
                        var item = new NegItem((ulong)random.Next(0, 50), NegTestKit.RandomId(random));
                        Assert.Equal(model.Add(item), tree.Insert(item));
                        all.Add(item);
                    }
                    else
                    {
                        var item = all[random.Next(all.Count)];
                        Assert.Equal(model.Remove(item), tree.Remove(item));
                    }
                    // Re-inserting something present and removing something absent are no-ops.
                    if (i % 50 == 0 && model.Count > 0)
                    {
                        Assert.False(tree.Insert(model.Min));
                        Assert.False(tree.Remove(new NegItem(999, NegTestKit.RandomId(random))));
                    }
                }
                // The writer's view through its dirty-node cache, before anything reaches LMDB.
                if (batch % 6 == 0) AssertSameAs(model, tree, random, exhaustive: false);
                tree.Flush();
                txn.Commit().ThrowOnError();
            }

            using var view = _db.Store.BeginRead();
            var stored = NegentropyTree.Open(view, TreeId);
            Assert.Equal(model.Count, stored.Validate());
            AssertSameAs(model, stored, random, exhaustive: model.Count <= 120);
        }
    }

    private static void AssertSameAs(SortedSet<NegItem> model, NegentropyTree tree, Random random, bool exhaustive)
    {
        var sorted = model.ToArray();
        var vector = NegTestKit.Vector(sorted);
        Assert.Equal(sorted.Length, tree.Count);

        var read = new List<NegItem>();
        var buffer = new NegItem[37];
        while (read.Count < sorted.Length)
        {
            int n = tree.ReadItems(read.Count, buffer);
            Assert.True(n > 0);
            read.AddRange(buffer.Take(n));
        }
        Assert.Equal(sorted, read);
        Assert.Equal(0, tree.ReadItems(sorted.Length, buffer));

        if (exhaustive)
        {
            for (int begin = 0; begin <= sorted.Length; begin++)
            {
                for (int end = begin; end <= sorted.Length; end++)
                    Assert.Equal(vector.SumIds(begin, end), tree.SumIds(begin, end));
            }
        }
        else
        {
            for (int i = 0; i < 1000; i++)
            {
                int a = random.Next(sorted.Length + 1), b = random.Next(sorted.Length + 1);
                Assert.Equal(vector.Fingerprint(Math.Min(a, b), Math.Max(a, b)), tree.Fingerprint(Math.Min(a, b), Math.Max(a, b)));
            }
        }
        for (int i = 0; i < 500; i++)
        {
            var bound = FingerprintAndVectorTests.RandomBound(random, sorted);
            if (random.Next(2) == 0) bound = new NegBound(bound.Timestamp % 60, bound.IdPrefix.Span.Slice(0, bound.PrefixLength));
            int a = random.Next(sorted.Length + 1), b = random.Next(sorted.Length + 1);
            Assert.Equal(vector.FindLowerBound(Math.Min(a, b), Math.Max(a, b), bound), tree.FindLowerBound(Math.Min(a, b), Math.Max(a, b), bound));
        }
    }

    [Fact]
    public void Appends_in_order_pack_the_leaves_full()
    {
        CreateTree(NegentropyTree.DefaultLeafCapacity, NegentropyTree.DefaultInternalCapacity);
        var random = new Random(8);
        var items = Enumerable.Range(0, 20_000).Select(i => new NegItem(1_700_000_000UL + (ulong)i, NegTestKit.RandomId(random))).ToList();
        // In several transactions, like a relay appending new events batch after batch.
        foreach (var chunk in items.Chunk(2500))
        {
            using var txn = BeginWrite();
            var tree = NegentropyTree.OpenWrite(txn, _db.Store.Databases.NegTree, TreeId);
            foreach (var item in chunk) Assert.True(tree.Insert(item));
            tree.Flush();
            txn.Commit().ThrowOnError();
        }
        using var view = _db.Store.BeginRead();
        var stored = NegentropyTree.Open(view, TreeId);
        Assert.Equal(items.Count, stored.Validate());
        int leaves = (items.Count + NegentropyTree.DefaultLeafCapacity - 1) / NegentropyTree.DefaultLeafCapacity;
        // 199 full leaves, 5 internal nodes, 1 root.
        Assert.InRange(CountNodes(view), leaves, leaves + 8);
        Assert.Equal(3, stored.Height);
    }

    [Fact]
    public void Fingerprints_and_bounds_of_a_large_tree_read_one_node_per_level()
    {
        CreateTree(NegentropyTree.DefaultLeafCapacity, NegentropyTree.DefaultInternalCapacity);
        var random = new Random(9);
        var items = new List<NegItem>(200_000);
        for (int i = 0; i < 200_000; i++) items.Add(new NegItem(1_600_000_000UL + (ulong)random.Next(100_000_000), NegTestKit.RandomId(random)));
        using (var txn = BeginWrite())
        {
            var tree = NegentropyTree.OpenWrite(txn, _db.Store.Databases.NegTree, TreeId);
            foreach (var item in items) tree.Insert(item);
            tree.Flush();
            txn.Commit().ThrowOnError();
        }
        using var view = _db.Store.BeginRead();
        var stored = NegentropyTree.Open(view, TreeId);
        Assert.Equal(items.Count, stored.Count);
        // Random inserts leave nodes half to fully packed: ~2,900 leaves under internal nodes of
        // ~30 children is 4 levels (as it stays up to ~3 million items).
        Assert.Equal(4, stored.Height);
        var vector = NegTestKit.Vector(items);
        for (int i = 0; i < 200; i++)
        {
            int a = random.Next(items.Count + 1), b = random.Next(items.Count + 1);
            long before = stored.NodeReads;
            var fingerprint = stored.Fingerprint(Math.Min(a, b), Math.Max(a, b));
            // Two root-to-leaf walks (prefix sums at both ends), never a scan.
            Assert.InRange(stored.NodeReads - before, 0, 2 * stored.Height);
            Assert.Equal(vector.Fingerprint(Math.Min(a, b), Math.Max(a, b)), fingerprint);

            var bound = FingerprintAndVectorTests.RandomBound(random, items);
            before = stored.NodeReads;
            long position = stored.FindLowerBound(0, stored.Count, bound);
            Assert.InRange(stored.NodeReads - before, 1, stored.Height);
            Assert.Equal(vector.FindLowerBound(0, vector.Count, bound), position);
        }
        // And a whole sync against it: to the reconciler the tree is just a storage.
        var client = items.Where((_, i) => i % 100 != 0).Concat(NegTestKit.RandomItems(random, 500)).ToList();
        var result = NegTestKit.Sync(NegTestKit.Vector(client), stored);
        NegTestKit.AssertFoundDifference(client, items, result);
    }

    [Fact]
    public void Unflushed_changes_of_an_aborted_transaction_are_dropped_on_rebind()
    {
        CreateTree(4, 4);
        var random = new Random(10);
        var kept = NegTestKit.RandomItems(random, 50);
        var lost = NegTestKit.RandomItems(random, 50);
        var txn1 = BeginWrite();
        var tree = NegentropyTree.OpenWrite(txn1, _db.Store.Databases.NegTree, TreeId);
        foreach (var item in lost) tree.Insert(item);
        txn1.Dispose();

        using (var txn2 = BeginWrite())
        {
            tree.Rebind(txn2);
            Assert.Equal(0, tree.Count);
            foreach (var item in kept) tree.Insert(item);
            tree.Flush();
            txn2.Commit().ThrowOnError();
        }
        using var view = _db.Store.BeginRead();
        var stored = NegentropyTree.Open(view, TreeId);
        Assert.Equal(kept.Count, stored.Validate());
        AssertSameAs(new SortedSet<NegItem>(kept), stored, random, exhaustive: true);
    }

    [Fact]
    public void Removing_everything_leaves_an_empty_tree_with_no_nodes()
    {
        CreateTree(3, 3);
        var items = NegTestKit.RandomItems(new Random(11), 500);
        using (var txn = BeginWrite())
        {
            var tree = NegentropyTree.OpenWrite(txn, _db.Store.Databases.NegTree, TreeId);
            foreach (var item in items) tree.Insert(item);
            tree.Flush();
            txn.Commit().ThrowOnError();
        }
        using (var txn = BeginWrite())
        {
            var tree = NegentropyTree.OpenWrite(txn, _db.Store.Databases.NegTree, TreeId);
            foreach (var item in items.OrderBy(_ => Guid.NewGuid())) Assert.True(tree.Remove(item));
            Assert.Equal(0, tree.Count);
            Assert.Equal(0, tree.Height);
            tree.Flush();
            txn.Commit().ThrowOnError();
        }
        using var view = _db.Store.BeginRead();
        Assert.Equal(0, NegentropyTree.Open(view, TreeId).Validate());
        Assert.Equal(0, CountNodes(view));
    }

    [Fact]
    public void Drop_deletes_the_header_and_every_node_of_one_tree_only()
    {
        CreateTree(4, 4);
        using (var txn = BeginWrite())
        {
            NegentropyTree.Create(txn, _db.Store.Databases.NegTree, TreeId + 1, 4, 4);
            var a = NegentropyTree.OpenWrite(txn, _db.Store.Databases.NegTree, TreeId);
            var b = NegentropyTree.OpenWrite(txn, _db.Store.Databases.NegTree, TreeId + 1);
            foreach (var item in NegTestKit.RandomItems(new Random(12), 300))
            {
                a.Insert(item);
                b.Insert(item);
            }
            a.Flush();
            b.Flush();
            txn.Commit().ThrowOnError();
        }
        using (var txn = BeginWrite())
        {
            NegentropyTree.Drop(txn, _db.Store.Databases.NegTree, TreeId);
            txn.Commit().ThrowOnError();
        }
        using var view = _db.Store.BeginRead();
        Assert.False(NegentropyTree.Open(view, TreeId).Exists);
        Assert.Equal(0, CountNodes(view));
        Assert.Equal(300, NegentropyTree.Open(view, TreeId + 1).Validate());
    }

    /// <summary>Stored nodes of <see cref="TreeId"/> (the header excluded).</summary>
    private static int CountNodes(Relay.Native.Storage.ReadView view) => CountNodes(view, TreeId);

    internal static int CountNodes(Relay.Native.Storage.ReadView view, ulong treeId)
    {
        using var cursor = view.CreateCursor(view.Databases.NegTree);
        var key = new byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(key, treeId);
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(8), 1);
        int count = 0;
        var rc = cursor.SetRange(key);
        while (rc == MDBResultCode.Success)
        {
            var (_, found, _) = cursor.GetCurrent();
            if (BinaryPrimitives.ReadUInt64BigEndian(found.AsSpan()) != treeId) break;
            count++;
            (rc, _, _) = cursor.Next();
        }
        return count;
    }
}
