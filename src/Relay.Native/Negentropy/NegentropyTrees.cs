using LightningDB;
using Relay.Native.Events;
using Relay.Native.Query;
using Relay.Native.Storage;

namespace Relay.Native.Negentropy;

/// <summary>What <c>negentropy list</c> shows for one tree.</summary>
public sealed record NegentropyTreeInfo(ulong Id, string FilterJson, bool IsBuilt, long Count, Fingerprint Fingerprint);

/// <summary>A tree operation that cannot be done (bad filter, duplicate, unknown id); the message says why.</summary>
public sealed class NegentropyTreeException : Exception
{
    public NegentropyTreeException(string message) : base(message) { }
}

/// <summary>
/// The registry of pre-built negentropy trees (strfry's <c>negentropy list|add|build</c>), over one
/// <see cref="EventStore"/>. A tree is defined by a filter without since/until; tree 1 is <c>{}</c>
/// (every event). The store's writer keeps every registered tree in step with the events; a built
/// tree then serves any NEG-OPEN whose filter is the tree's plus an optional since/until, without
/// scanning. Thread-safe: each operation runs in its own LMDB transaction, and LMDB serializes
/// them with the writer's.
/// </summary>
public sealed class NegentropyTrees
{
    private readonly EventStore _store;
    // Built trees as of a registry version, for NEG-OPEN lookups; replaced whole, never mutated.
    private volatile LookupCache? _lookup;

    private sealed record LookupCache(ulong Version, NegentropyTreeDefinition[] Built);

    public NegentropyTrees(EventStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
    }

    public const ulong DefaultTreeId = TreeDefinitions.DefaultTreeId;

    /// <summary>Every tree with its size and whole-tree fingerprint.</summary>
    public IReadOnlyList<NegentropyTreeInfo> List()
    {
        using var view = _store.BeginRead();
        var result = new List<NegentropyTreeInfo>();
        foreach (var definition in TreeDefinitions.LoadAll(view.Transaction, view.Databases))
        {
            var tree = NegentropyTree.Open(view, definition.Id);
            long count = tree.Count;
            result.Add(new NegentropyTreeInfo(definition.Id, definition.FilterJson, definition.IsBuilt, count, tree.Fingerprint(0, count)));
        }
        return result;
    }

    public NegentropyTreeDefinition? Find(ulong treeId)
    {
        using var view = _store.BeginRead();
        return TreeDefinitions.Find(view.Transaction, view.Databases, treeId);
    }

    /// <summary>
    /// Registers a tree for <paramref name="filterJson"/> (one filter, no since/until/limit) and
    /// returns its id. From now on the writer maintains it; <see cref="Build"/> takes in the events
    /// already stored.
    /// </summary>
    public ulong Add(string filterJson)
    {
        ArgumentNullException.ThrowIfNull(filterJson);
        string json = filterJson.Trim();
        if (!TreeFilters.TryParse(json, out var filter, out string error)) throw new NegentropyTreeException(error);
        var dbs = _store.Databases;
        using var txn = _store.Environment.BeginTransaction();
        foreach (var existing in TreeDefinitions.LoadAll(txn, dbs))
        {
            if (TreeFilters.SameSelection(existing.Filter, filter))
                throw new NegentropyTreeException($"duplicate: tree {existing.Id} already has this filter ({existing.FilterJson})");
        }
        var (version, treeId) = TreeDefinitions.ReadHeader(txn, dbs);
        TreeDefinitions.Put(txn, dbs, treeId, json, built: false);
        NegentropyTree.Create(txn, dbs.NegTree, treeId);
        TreeDefinitions.WriteHeader(txn, dbs, version + 1, treeId + 1);
        txn.Commit().ThrowOnError();
        return treeId;
    }

    /// <summary>Test hook: a tree with small nodes, to exercise splits and merges with few events.</summary>
    internal ulong AddWithShape(string filterJson, int leafCapacity, int internalCapacity)
    {
        ulong treeId = Add(filterJson);
        var dbs = _store.Databases;
        using var txn = _store.Environment.BeginTransaction();
        NegentropyTree.Create(txn, dbs.NegTree, treeId, leafCapacity, internalCapacity);
        txn.Commit().ThrowOnError();
        return treeId;
    }

    /// <summary>
    /// Takes the events already stored into the tree, oldest first, in write transactions of
    /// <paramref name="batchSize"/> scanned events each (so the relay's writer is never held up for
    /// long), then marks the tree built. Safe while the relay writes: each batch reads and inserts in
    /// one transaction, and the writer maintains the tree for everything else. Returns the tree's size.
    /// </summary>
    public long Build(ulong treeId, int batchSize = 10_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var dbs = _store.Databases;
        Span<byte> resume = stackalloc byte[IndexKeys.TimeSuffixSize];
        resume.Clear();
        Span<byte> lev = stackalloc byte[IndexKeys.LevIdSize];
        while (true)
        {
            using var txn = _store.Environment.BeginTransaction();
            var definition = TreeDefinitions.Find(txn, dbs, treeId) ?? throw new NegentropyTreeException($"no tree {treeId}");
            var tree = NegentropyTree.OpenWrite(txn, dbs.NegTree, treeId);
            int scanned = 0;
            bool more = false;
            using (var cursor = txn.CreateCursor(dbs.CreatedAt))
            {
                var rc = cursor.SetRange(resume);
                while (rc == MDBResultCode.Success)
                {
                    var (grc, key, _) = cursor.GetCurrent();
                    grc.ThrowOnError();
                    var k = key.AsSpan();
                    if (scanned == batchSize)
                    {
                        k.CopyTo(resume);
                        more = true;
                        break;
                    }
                    scanned++;
                    k.Slice(8, IndexKeys.LevIdSize).CopyTo(lev);
                    var (erc, _, packed) = txn.Get(dbs.Events, lev);
                    if (erc == MDBResultCode.Success)
                    {
                        var ev = new PackedEvent(packed.AsSpan());
                        if (definition.Filter.Matches(ev)) tree.Insert(new NegItem((ulong)ev.CreatedAt, ev.Id));
                    }
                    (rc, _, _) = cursor.Next();
                }
                if (rc != MDBResultCode.Success && rc != MDBResultCode.NotFound) rc.ThrowOnError();
            }
            tree.Flush();
            if (!more)
            {
                if (!definition.IsBuilt)
                {
                    TreeDefinitions.Put(txn, dbs, treeId, definition.FilterJson, built: true);
                    TreeDefinitions.Touch(txn, dbs);
                }
                long count = tree.Count;
                txn.Commit().ThrowOnError();
                return count;
            }
            txn.Commit().ThrowOnError();
        }
    }

    /// <summary>Forgets a tree and deletes its nodes; false when there is no such tree.</summary>
    public bool Remove(ulong treeId)
    {
        var dbs = _store.Databases;
        using var txn = _store.Environment.BeginTransaction();
        if (!TreeDefinitions.Delete(txn, dbs, treeId)) return false;
        NegentropyTree.Drop(txn, dbs.NegTree, treeId);
        TreeDefinitions.Touch(txn, dbs);
        txn.Commit().ThrowOnError();
        return true;
    }

    /// <summary>
    /// The built tree that serves <paramref name="filter"/> (a NEG-OPEN filter): same selection once
    /// since/until are set aside. A filter with a limit never uses a tree (the limit changes the set).
    /// </summary>
    public bool TryFindBuiltTree(ReadView view, Filter filter, out ulong treeId)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(filter);
        treeId = 0;
        if (filter.Limit >= 0) return false;
        var (version, _) = TreeDefinitions.ReadHeader(view.Transaction, view.Databases);
        var cache = _lookup;
        if (cache is null || cache.Version != version)
        {
            var built = new List<NegentropyTreeDefinition>();
            foreach (var definition in TreeDefinitions.LoadAll(view.Transaction, view.Databases))
            {
                if (definition.IsBuilt) built.Add(definition);
            }
            cache = new LookupCache(version, built.ToArray());
            _lookup = cache;
        }
        foreach (var definition in cache.Built)
        {
            if (TreeFilters.SameSelection(definition.Filter, filter))
            {
                treeId = definition.Id;
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// A tree restricted to since ≤ created_at ≤ until, as of <paramref name="view"/>; valid while the
    /// view is. This is the storage of a tree-backed NEG-OPEN.
    /// </summary>
    public static INegentropyStorage OpenStorage(ReadView view, ulong treeId, long since, long until)
    {
        var tree = NegentropyTree.Open(view, treeId);
        if (since <= 0 && until == long.MaxValue) return tree;
        if (until < since) return NegentropyVector.Empty;
        return new NegentropySubRange(tree, (ulong)Math.Max(0, since), (ulong)until);
    }
}
