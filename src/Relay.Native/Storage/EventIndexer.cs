using LightningDB;
using Relay.Native.Events;
using Relay.Native.Negentropy;

namespace Relay.Native.Storage;

/// <summary>
/// Puts one event into every database, or takes it out of every one. Both directions derive
/// the keys from the packed record alone, so whatever Add wrote, Remove finds.
/// </summary>
internal sealed class EventIndexer
{
    private readonly StoreDatabases _dbs;
    // Removal reads the record it is about to delete; LMDB invalidates a value's pages on the next
    // write in the same transaction, so the record is copied here first.
    private byte[] _removed = new byte[1024];

    public EventIndexer(StoreDatabases dbs)
    {
        _dbs = dbs;
        Trees = new NegentropyTreeMaintainer(dbs);
    }

    /// <summary>Negentropy trees follow every Add and Remove; flushed by the store before each commit.</summary>
    public NegentropyTreeMaintainer Trees { get; }

    public void Add(LightningTransaction txn, ulong levId, in PackedEvent ev, ReadOnlySpan<byte> json)
    {
        Span<byte> lev = stackalloc byte[IndexKeys.LevIdSize];
        IndexKeys.WriteLevId(lev, levId);
        // levIds only grow, so appending skips LMDB's page search.
        txn.Put(_dbs.Events, lev, ev.Raw, PutOptions.AppendData).ThrowOnError();
        txn.Put(_dbs.Payloads, lev, json, PutOptions.AppendData).ThrowOnError();
        txn.Put(_dbs.Id, ev.Id, lev, PutOptions.NoOverwrite).ThrowOnError();
        ForEachIndexKey(txn, levId, ev, remove: false);
        Trees.OnEventStored(txn, ev, levId);
    }

    /// <summary>Removes the event from all databases; false when it is not stored.</summary>
    public bool Remove(LightningTransaction txn, ulong levId)
    {
        Span<byte> lev = stackalloc byte[IndexKeys.LevIdSize];
        IndexKeys.WriteLevId(lev, levId);
        var (rc, _, value) = txn.Get(_dbs.Events, lev);
        if (rc == MDBResultCode.NotFound) return false;
        rc.ThrowOnError();
        var stored = value.AsSpan();
        if (stored.Length > _removed.Length) _removed = new byte[Math.Max(stored.Length, _removed.Length * 2)];
        stored.CopyTo(_removed);
        var ev = new PackedEvent(_removed.AsSpan(0, stored.Length));

        Delete(txn, _dbs.Events, lev);
        Delete(txn, _dbs.Payloads, lev);
        // Costs nothing while no payload was ever compressed (the database is empty).
        Delete(txn, _dbs.CompressedPayloads, lev);
        Delete(txn, _dbs.Id, ev.Id);
        ForEachIndexKey(txn, levId, ev, remove: true);
        Trees.OnEventRemoved(txn, ev, levId);

        int kind = ev.Kind;
        if (EventKinds.IsReplaceable(kind) || EventKinds.IsAddressable(kind))
        {
            // The pointer may already name a newer version (this one was superseded): leave it.
            Span<byte> key = stackalloc byte[IndexKeys.MaxKeySize];
            int keyLength = IndexKeys.WriteReplaceableKey(key, ev);
            var (prc, _, current) = txn.Get(_dbs.Replaceable, key.Slice(0, keyLength));
            if (prc == MDBResultCode.Success && IndexKeys.ReadLevId(current.AsSpan()) == levId)
                Delete(txn, _dbs.Replaceable, key.Slice(0, keyLength));
        }
        return true;
    }

    private void ForEachIndexKey(LightningTransaction txn, ulong levId, in PackedEvent ev, bool remove)
    {
        Span<byte> key = stackalloc byte[IndexKeys.MaxKeySize];
        ulong createdAt = (ulong)ev.CreatedAt;
        int kind = ev.Kind;

        IndexKeys.WriteTimeSuffix(key, createdAt, levId);
        Apply(txn, _dbs.CreatedAt, key.Slice(0, IndexKeys.TimeSuffixSize), remove);

        ev.PubKey.CopyTo(key);
        IndexKeys.WriteTimeSuffix(key.Slice(32), createdAt, levId);
        Apply(txn, _dbs.Author, key.Slice(0, 32 + IndexKeys.TimeSuffixSize), remove);

        IndexKeys.WriteKind(key, kind);
        IndexKeys.WriteTimeSuffix(key.Slice(IndexKeys.KindSize), createdAt, levId);
        Apply(txn, _dbs.Kind, key.Slice(0, IndexKeys.KindSize + IndexKeys.TimeSuffixSize), remove);

        int prefix = IndexKeys.WriteAuthorKindPrefix(key, ev.PubKey, kind);
        IndexKeys.WriteTimeSuffix(key.Slice(prefix), createdAt, levId);
        Apply(txn, _dbs.AuthorKind, key.Slice(0, prefix + IndexKeys.TimeSuffixSize), remove);

        // An event may repeat a tag; the second put overwrites and the second delete finds nothing.
        foreach (var tag in ev.Tags)
        {
            prefix = IndexKeys.WriteTagPrefix(key, tag.Letter, tag.Value);
            IndexKeys.WriteTimeSuffix(key.Slice(prefix), createdAt, levId);
            Apply(txn, _dbs.Tag, key.Slice(0, prefix + IndexKeys.TimeSuffixSize), remove);
        }

        long expiration = ev.Expiration;
        if (expiration != 0)
        {
            IndexKeys.WriteTimeSuffix(key, (ulong)expiration, levId);
            Apply(txn, _dbs.Expiration, key.Slice(0, IndexKeys.TimeSuffixSize), remove);
        }
    }

    private static void Apply(LightningTransaction txn, LightningDatabase db, ReadOnlySpan<byte> key, bool remove)
    {
        if (remove) Delete(txn, db, key);
        else txn.Put(db, key, ReadOnlySpan<byte>.Empty, PutOptions.None).ThrowOnError();
    }

    public static void Delete(LightningTransaction txn, LightningDatabase db, ReadOnlySpan<byte> key)
    {
        var rc = txn.Delete(db, key);
        if (rc != MDBResultCode.NotFound) rc.ThrowOnError();
    }
}
