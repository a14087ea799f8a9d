using System.Buffers.Binary;
using LightningDB;
using Relay.Native.Events;
using Relay.Native.Negentropy;
using Relay.Native.Protocol;
using Relay.Native.Query;
using Relay.Native.Storage;
using Relay.Tests.Storage;

namespace Relay.Tests.Negentropy;

/// <summary>The tree registry and the writer's hook, through real store writes.</summary>
public sealed class NegentropyTreesTests : IDisposable
{
    private readonly TempStore _db = new();
    private readonly Random _random = new(77);
    private readonly byte[][] _authors;

    public NegentropyTreesTests()
    {
        _authors = Enumerable.Range(0, 5).Select(_ => TestEvent.Key(_random)).ToArray();
    }

    public void Dispose() => _db.Dispose();

    private NegentropyTrees Trees => new(_db.Store);

    private TestEvent Event(int kind, long createdAt, long expiration = 0, params (char, string)[] tags) =>
        TestEvent.Create(_random, _authors[_random.Next(_authors.Length)], createdAt, kind, expiration, tags);

    /// <summary>What the tree holds, read back in order.</summary>
    internal static List<NegItem> TreeItems(EventStore store, ulong treeId, bool validate = true)
    {
        using var view = store.BeginRead();
        var tree = NegentropyTree.Open(view, treeId);
        if (validate) Assert.Equal(tree.Count, tree.Validate());
        var items = new List<NegItem>();
        var buffer = new NegItem[64];
        while (items.Count < tree.Count) items.AddRange(buffer.Take(tree.ReadItems(items.Count, buffer)));
        return items;
    }

    /// <summary>What the tree should hold: every stored event the filter matches, sorted.</summary>
    internal static List<NegItem> Expected(EventStore store, Filter filter)
    {
        using var view = store.BeginRead();
        var items = new List<NegItem>();
        using var cursor = view.CreateCursor(view.Databases.Events);
        var (rc, _, value) = cursor.First();
        while (rc == MDBResultCode.Success)
        {
            var ev = new PackedEvent(value.AsSpan());
            if (filter.Matches(ev)) items.Add(new NegItem((ulong)ev.CreatedAt, ev.Id));
            (rc, _, value) = cursor.Next();
        }
        items.Sort();
        return items;
    }

    private static Filter ParseFilter(string json)
    {
        Assert.True(FilterParser.TryParse(System.Text.Encoding.UTF8.GetBytes(json), FilterLimits.Default, out var filters, out var error), error);
        return Assert.Single(filters);
    }

    private void AssertTreeInStep(ulong treeId, string filterJson) =>
        Assert.Equal(Expected(_db.Store, ParseFilter(filterJson)), TreeItems(_db.Store, treeId));

    [Fact]
    public void New_store_has_a_built_default_tree_over_every_event()
    {
        var info = Assert.Single(Trees.List());
        Assert.Equal(1UL, info.Id);
        Assert.Equal("{}", info.FilterJson);
        Assert.True(info.IsBuilt);
        Assert.Equal(0, info.Count);
        Assert.Equal(NegentropyVector.Empty.Fingerprint(0, 0), info.Fingerprint);
    }

    [Fact]
    public void Stored_replaced_deleted_expired_and_admin_deleted_events_follow_into_the_default_tree()
    {
        var notes = Enumerable.Range(0, 40).Select(i => Event(1, 1000 + i)).ToList();
        _db.WriteBatch(notes);
        AssertTreeInStep(1, "{}");

        // Replaceable: the newer kind 0 replaces the older in the same batch and across batches.
        var author = _authors[0];
        var meta1 = TestEvent.Create(_random, author, 2000, 0, 0);
        var meta2 = TestEvent.Create(_random, author, 2001, 0, 0);
        var meta3 = TestEvent.Create(_random, author, 2002, 0, 0);
        _db.WriteBatch([meta1, meta2]);
        _db.Write(meta3);
        Assert.False(_db.IsStored(meta2));
        AssertTreeInStep(1, "{}");

        // NIP-09: a kind 5 removes its author's note and is itself stored.
        var target = notes.First(n => n.PubKey.SequenceEqual(notes[3].PubKey));
        var deletion = TestEvent.Create(_random, target.PubKey, 3000, EventKinds.Deletion, 0, ('e', target.IdHex));
        _db.Write(deletion);
        Assert.False(_db.IsStored(target));
        AssertTreeInStep(1, "{}");

        // NIP-40: an expiring event is stored, then purged.
        var expiring = Event(1, 4000, expiration: 5000);
        _db.Write(expiring);
        Assert.Contains(new NegItem(4000, expiring.Id), TreeItems(_db.Store, 1));
        Assert.Equal(1, _db.Store.PurgeExpired(6000));
        AssertTreeInStep(1, "{}");
        Assert.DoesNotContain(new NegItem(4000, expiring.Id), TreeItems(_db.Store, 1));

        // Admin delete.
        using (var view = _db.Store.BeginRead()) Assert.True(view.TryGetLevId(notes[10].Id, out ulong levId) && _db.Store.Delete(levId));
        AssertTreeInStep(1, "{}");

        // Ephemeral events are never stored, so never in a tree.
        var ephemeral = Event(20001, 5000);
        Assert.Equal(WriteStatus.Ephemeral, _db.Write(ephemeral).Status);
        AssertTreeInStep(1, "{}");
        Assert.Equal(Expected(_db.Store, new Filter()).Count, Trees.List()[0].Count);
    }

    [Fact]
    public void Added_tree_takes_new_events_at_once_and_older_ones_when_built()
    {
        _db.WriteBatch(Enumerable.Range(0, 300).Select(i => Event(i % 3 == 0 ? 7 : 1, 1000 + i)).ToList());
        var trees = Trees;
        ulong id = trees.Add("  {\"kinds\":[1]} ");
        Assert.Equal(2UL, id);
        Assert.False(trees.Find(id)!.IsBuilt);
        Assert.Empty(TreeItems(_db.Store, id));

        var later = Enumerable.Range(0, 50).Select(i => Event(i % 2 == 0 ? 7 : 1, 5000 + i)).ToList();
        _db.WriteBatch(later);
        var fromWriter = TreeItems(_db.Store, id);
        Assert.Equal(later.Where(e => e.Kind == 1).Select(e => new NegItem((ulong)e.CreatedAt, e.Id)).OrderBy(x => x), fromWriter);

        Assert.Equal(225, trees.Build(id, batchSize: 64));
        Assert.True(trees.Find(id)!.IsBuilt);
        AssertTreeInStep(id, "{\"kinds\":[1]}");
        var info = trees.List().Single(t => t.Id == id);
        Assert.Equal("{\"kinds\":[1]}", info.FilterJson);
        Assert.Equal(225, info.Count);
        Assert.Equal(NegTestKit.Vector(Expected(_db.Store, ParseFilter("{\"kinds\":[1]}"))).Fingerprint(0, 225), info.Fingerprint);

        // Building again changes nothing.
        Assert.Equal(225, trees.Build(id));
        AssertTreeInStep(id, "{\"kinds\":[1]}");
    }

    [Theory]
    [InlineData("{\"since\":5}", "since, until or limit")]
    [InlineData("{\"kinds\":[1],\"limit\":5}", "since, until or limit")]
    [InlineData("{\"kinds\":[1]},{\"kinds\":[2]}", "exactly one filter")]
    [InlineData("{\"kinds\":[]}", "matches nothing")]
    [InlineData("not json", "invalid")]
    [InlineData("{\"search\":\"x\"}", "unsupported")]
    [InlineData("{}", "duplicate: tree 1")]
    [InlineData("{\"kinds\":[7,1,7]}", "duplicate: tree 2")]
    public void Add_refuses_bad_and_duplicate_filters(string filter, string reason)
    {
        var trees = Trees;
        Assert.Equal(2UL, trees.Add("{\"kinds\":[1,7]}"));
        var error = Assert.Throws<NegentropyTreeException>(() => trees.Add(filter));
        Assert.Contains(reason, error.Message);
        Assert.Equal(2, trees.List().Count);
    }

    [Fact]
    public void Removed_tree_is_gone_and_no_longer_maintained()
    {
        var trees = Trees;
        ulong id = trees.Add("{\"kinds\":[1]}");
        _db.WriteBatch(Enumerable.Range(0, 200).Select(i => Event(1, 1000 + i)).ToList());
        Assert.Equal(200, TreeItems(_db.Store, id).Count);
        Assert.True(trees.Remove(id));
        Assert.False(trees.Remove(id));
        Assert.DoesNotContain(trees.List(), t => t.Id == id);
        _db.WriteBatch(Enumerable.Range(0, 20).Select(i => Event(1, 3000 + i)).ToList());
        using var view = _db.Store.BeginRead();
        Assert.False(NegentropyTree.Open(view, id).Exists);
        Assert.Equal(0, NegentropyTreeTests.CountNodes(view, id));
        // Ids are not reused.
        Assert.Equal(id + 1, trees.Add("{\"kinds\":[1]}"));
    }

    [Fact]
    public void Neg_open_filters_find_the_built_tree_with_the_same_selection()
    {
        var trees = Trees;
        using (var view = _db.Store.BeginRead())
        {
            Assert.True(trees.TryFindBuiltTree(view, ParseFilter("{}"), out ulong id));
            Assert.Equal(1UL, id);
            Assert.True(trees.TryFindBuiltTree(view, ParseFilter("{\"since\":100,\"until\":200}"), out id));
            Assert.Equal(1UL, id);
            Assert.False(trees.TryFindBuiltTree(view, ParseFilter("{\"limit\":10}"), out _));
            Assert.False(trees.TryFindBuiltTree(view, ParseFilter("{\"kinds\":[1]}"), out _));
        }
        ulong kinds = trees.Add("{\"kinds\":[1,7],\"#t\":[\"a\",\"b\"]}");
        using (var view = _db.Store.BeginRead())
            Assert.False(trees.TryFindBuiltTree(view, ParseFilter("{\"kinds\":[7,1],\"#t\":[\"b\",\"a\"]}"), out _));
        trees.Build(kinds);
        using (var view = _db.Store.BeginRead())
        {
            Assert.True(trees.TryFindBuiltTree(view, ParseFilter("{\"#t\":[\"b\",\"a\"],\"kinds\":[7,1],\"since\":5}"), out ulong id));
            Assert.Equal(kinds, id);
            Assert.False(trees.TryFindBuiltTree(view, ParseFilter("{\"kinds\":[7,1],\"#t\":[\"b\"]}"), out _));
            Assert.False(trees.TryFindBuiltTree(view, ParseFilter("{\"kinds\":[7,1],\"#t\":[\"b\",\"a\"],\"#x\":[\"y\"]}"), out _));
        }
    }

    [Fact]
    public void Store_that_predates_trees_gets_an_unbuilt_default_tree_on_open()
    {
        var events = Enumerable.Range(0, 120).Select(i => Event(1, 1000 + i)).ToList();
        _db.WriteBatch(events);
        // Back to how a database written before this feature looks: no registry, no tree.
        using (var txn = _db.Store.Environment.BeginTransaction())
        {
            txn.TruncateDatabase(_db.Store.Databases.NegFilters).ThrowOnError();
            txn.TruncateDatabase(_db.Store.Databases.NegTree).ThrowOnError();
            txn.Commit().ThrowOnError();
        }
        _db.Reopen();

        var info = Assert.Single(Trees.List());
        Assert.Equal(1UL, info.Id);
        Assert.False(info.IsBuilt);
        Assert.Equal(0, info.Count);
        _db.Write(Event(1, 9000));
        Assert.Single(TreeItems(_db.Store, 1));
        Assert.Equal(121, Trees.Build(1, batchSize: 50));
        AssertTreeInStep(1, "{}");
    }

    [Fact]
    public void Keeping_three_trees_adds_no_allocation_per_event_to_steady_writes()
    {
        var trees = Trees;
        trees.Build(trees.Add("{\"kinds\":[1]}"));
        trees.Build(trees.Add("{\"#t\":[\"x\"]}"));
        const int batchSize = 200;
        var items = new WriteItem[batchSize];
        var results = new WriteResult[batchSize];
        void Fill(int round)
        {
            for (int i = 0; i < batchSize; i++)
            {
                var ev = Event(i % 2 == 0 ? 1 : 7, 1000 + round * batchSize + i, 0, ('t', i % 3 == 0 ? "x" : "y"));
                items[i] = new WriteItem(ev.Pack(), ev.Json);
            }
        }
        for (int round = 0; round < 3; round++)
        {
            Fill(round);
            _db.Store.WriteBatch(items, results, durable: false, now: 100);
        }
        Fill(3);
        long before = GC.GetAllocatedBytesForCurrentThread();
        _db.Store.WriteBatch(items, results, durable: false, now: 100);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.All(results, r => Assert.Equal(WriteStatus.Stored, r.Status));
        // The store's own per-batch objects only; anything per event would be >= 200 x 24 bytes.
        Assert.True(allocated < 1024, $"allocated {allocated} bytes for a batch of {batchSize}");
        Assert.Equal(4 * batchSize, TreeItems(_db.Store, 1).Count);
    }

    [Fact]
    public void Random_writes_deletions_and_purges_keep_several_trees_in_step()
    {
        var trees = Trees;
        // Small nodes, so a few hundred events already split and merge at every level.
        var definitions = new (string Json, ulong Id)[]
        {
            ("{}", 1),
            ("{\"kinds\":[1]}", trees.AddWithShape("{\"kinds\":[1]}", 3, 3)),
            ("{\"kinds\":[0,1,5]}", trees.AddWithShape("{\"kinds\":[0,1,5]}", 4, 3)),
            ("{\"#t\":[\"x\"]}", trees.AddWithShape("{\"#t\":[\"x\"]}", 5, 4)),
        };
        foreach (var (_, id) in definitions) trees.Build(id);

        var random = new Random(5);
        var stored = new List<TestEvent>();
        long now = 1000;
        for (int batch = 0; batch < 30; batch++)
        {
            var events = new List<TestEvent>();
            for (int i = random.Next(5, 40); i > 0; i--)
            {
                now += random.Next(0, 3);
                int choice = random.Next(10);
                var author = _authors[random.Next(_authors.Length)];
                if (choice < 5)
                {
                    var tags = random.Next(3) == 0 ? new[] { ('t', "x") } : [];
                    events.Add(TestEvent.Create(random, author, now - random.Next(500), random.Next(2) == 0 ? 1 : 7, random.Next(6) == 0 ? now + random.Next(50) : 0, tags));
                }
                else if (choice < 7)
                {
                    events.Add(TestEvent.Create(random, author, now - random.Next(5), 0, 0));
                }
                else if (stored.Count > 0)
                {
                    var target = stored[random.Next(stored.Count)];
                    events.Add(TestEvent.Create(random, target.PubKey, now, EventKinds.Deletion, 0, ('e', target.IdHex)));
                }
            }
            _db.WriteBatch(events, now: now - 1000);
            stored.AddRange(events);
            if (batch % 5 == 4) _db.Store.PurgeExpired(now);
            if (batch % 7 == 6)
            {
                using var view = _db.Store.BeginRead();
                var victim = stored[random.Next(stored.Count)];
                if (view.TryGetLevId(victim.Id, out ulong levId)) _db.Store.Delete(levId);
            }
            foreach (var (json, id) in definitions) AssertTreeInStep(id, json);
        }
        Assert.True(TreeItems(_db.Store, 1).Count > 200);
    }

    [Fact]
    public async Task Build_while_the_writer_keeps_writing_ends_in_step()
    {
        var random = new Random(6);
        _db.WriteBatch(Enumerable.Range(0, 3000).Select(i => TestEvent.Create(random, _authors[i % 5], 1000 + i, i % 2, 0)).ToList());
        var trees = Trees;
        ulong id = trees.Add("{\"kinds\":[1]}");

        var writer = Task.Run(() =>
        {
            var local = new Random(7);
            var written = new List<TestEvent>();
            for (int batch = 0; batch < 40; batch++)
            {
                var events = new List<TestEvent>();
                for (int i = 0; i < 30; i++) events.Add(TestEvent.Create(local, _authors[local.Next(5)], local.Next(1000, 6000), 1, 0));
                if (written.Count > 0)
                {
                    var target = written[local.Next(written.Count)];
                    events.Add(TestEvent.Create(local, target.PubKey, 7000, EventKinds.Deletion, 0, ('e', target.IdHex)));
                }
                _db.WriteBatch(events);
                written.AddRange(events);
            }
        });
        trees.Build(id, batchSize: 100);
        await writer;
        AssertTreeInStep(id, "{\"kinds\":[1]}");
        AssertTreeInStep(1, "{}");
    }
}
