using LightningDB;
using Relay.Native.Events;
using Relay.Native.Query;
using Relay.Native.Storage;

namespace Relay.Native.Negentropy;

/// <summary>
/// The writer's hook: every event stored or removed (insert, replacement, NIP-09 deletion, expiry
/// purge, admin delete) goes into or out of each tree whose filter matches it, inside the same
/// write transaction, so a tree never disagrees with the events it was committed with. Changes are
/// cached per transaction and written by <see cref="Flush"/> just before the commit.
/// </summary>
internal sealed class NegentropyTreeMaintainer
{
    private sealed class Slot
    {
        public required Filter Filter { get; init; }
        public required ulong TreeId { get; init; }
        public NegentropyTree? Tree;
        public LightningTransaction? BoundTo;
    }

    private readonly StoreDatabases _dbs;
    private Slot[] _slots = [];
    private ulong _version = ulong.MaxValue;
    // The transaction the cached state belongs to. A different one means the last batch was
    // flushed or rolled back; either way the cache starts over.
    private LightningTransaction? _txn;

    public NegentropyTreeMaintainer(StoreDatabases dbs) => _dbs = dbs;

    public void OnEventStored(LightningTransaction txn, in PackedEvent ev, ulong levId) => Apply(txn, ev, insert: true);

    public void OnEventRemoved(LightningTransaction txn, in PackedEvent ev, ulong levId) => Apply(txn, ev, insert: false);

    private void Apply(LightningTransaction txn, in PackedEvent ev, bool insert)
    {
        if (!ReferenceEquals(txn, _txn)) Begin(txn);
        var slots = _slots;
        if (slots.Length == 0) return;
        var item = new NegItem((ulong)ev.CreatedAt, ev.Id);
        foreach (var slot in slots)
        {
            if (!slot.Filter.Matches(ev)) continue;
            var tree = Bind(slot, txn);
            if (insert) tree.Insert(item);
            else tree.Remove(item);
        }
    }

    /// <summary>Writes what this transaction changed in the trees; call right before committing it.</summary>
    public void Flush(LightningTransaction txn)
    {
        if (!ReferenceEquals(txn, _txn)) return;
        foreach (var slot in _slots)
        {
            if (ReferenceEquals(slot.BoundTo, txn)) slot.Tree!.Flush();
        }
        _txn = null;
    }

    private void Begin(LightningTransaction txn)
    {
        _txn = txn;
        var (version, _) = TreeDefinitions.ReadHeader(txn, _dbs);
        if (version == _version) return;
        // Trees were added, built or removed (here or by another process): reload the definitions.
        var definitions = TreeDefinitions.LoadAll(txn, _dbs);
        var slots = new Slot[definitions.Count];
        for (int i = 0; i < slots.Length; i++) slots[i] = new Slot { Filter = definitions[i].Filter, TreeId = definitions[i].Id };
        _slots = slots;
        _version = version;
    }

    private NegentropyTree Bind(Slot slot, LightningTransaction txn)
    {
        if (ReferenceEquals(slot.BoundTo, txn)) return slot.Tree!;
        if (slot.Tree is null) slot.Tree = NegentropyTree.OpenWrite(txn, _dbs.NegTree, slot.TreeId);
        else slot.Tree.Rebind(txn);
        slot.BoundTo = txn;
        return slot.Tree;
    }
}
