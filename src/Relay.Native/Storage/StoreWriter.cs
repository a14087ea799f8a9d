using System.Buffers.Binary;
using LightningDB;
using Relay.Native.Events;

namespace Relay.Native.Storage;

/// <summary>
/// The write rules, applied to one event inside the writer's transaction: duplicates, NIP-01
/// supersession of replaceable/addressable events, NIP-09 deletions, NIP-40 expiration.
/// Because every rule reads the same transaction it writes, an event earlier in a batch is seen
/// by the later ones exactly as if it had been committed alone.
/// </summary>
internal sealed class StoreWriter
{
    private readonly StoreDatabases _dbs;
    private readonly EventIndexer _indexer;

    public StoreWriter(StoreDatabases dbs)
    {
        _dbs = dbs;
        _indexer = new EventIndexer(dbs);
    }

    public WriteResult Apply(LightningTransaction txn, in WriteItem item, long now, ref ulong lastLevId)
    {
        var packed = item.Packed.Span;
        if (packed.Length < PackedEvent.HeaderSize) return Reject(WriteStatus.Invalid, WriteMessages.Malformed);
        var ev = new PackedEvent(packed);
        // created_at is a u64 in every index key; upstream rejects negatives, this is the backstop.
        if (ev.CreatedAt < 0) return Reject(WriteStatus.Invalid, WriteMessages.NegativeCreatedAt);
        if (ev.IsExpiredAt(now)) return Reject(WriteStatus.Invalid, WriteMessages.Expired);

        int kind = ev.Kind;
        if (EventKinds.IsEphemeral(kind)) return new WriteResult(WriteStatus.Ephemeral, 0, WriteMessages.Ephemeral);
        if (txn.ContainsKey(_dbs.Id, ev.Id)) return Reject(WriteStatus.Duplicate, WriteMessages.Duplicate);

        Span<byte> key = stackalloc byte[IndexKeys.MaxKeySize];
        // A deletion cannot be deleted (NIP-09: "has no effect"), so a kind 5 is never blocked.
        if (kind != EventKinds.Deletion)
        {
            int length = IndexKeys.WriteDeletedIdKey(key, ev.PubKey, ev.Id);
            if (txn.ContainsKey(_dbs.Deleted, key.Slice(0, length))) return Reject(WriteStatus.Deleted, WriteMessages.Deleted);
        }

        bool replaceable = EventKinds.IsReplaceable(kind) || EventKinds.IsAddressable(kind);
        Span<byte> replaceableKey = stackalloc byte[IndexKeys.MaxKeySize];
        int replaceableLength = 0;
        if (replaceable)
        {
            replaceableLength = IndexKeys.WriteReplaceableKey(replaceableKey, ev);
            var address = replaceableKey.Slice(0, replaceableLength);
            if (IsAddressDeletedAt(txn, address, ev.CreatedAt, key)) return Reject(WriteStatus.Deleted, WriteMessages.Deleted);

            var (rc, _, current) = txn.Get(_dbs.Replaceable, address);
            if (rc == MDBResultCode.Success)
            {
                ulong currentLevId = IndexKeys.ReadLevId(current.AsSpan());
                if (IsStoredVersionNewer(txn, currentLevId, ev)) return Reject(WriteStatus.Superseded, WriteMessages.Superseded);
                _indexer.Remove(txn, currentLevId);
            }
            else if (rc != MDBResultCode.NotFound) rc.ThrowOnError();
        }

        ulong levId = ++lastLevId;
        _indexer.Add(txn, levId, ev, item.Json.Span);
        if (replaceable)
        {
            Span<byte> lev = stackalloc byte[IndexKeys.LevIdSize];
            IndexKeys.WriteLevId(lev, levId);
            txn.Put(_dbs.Replaceable, replaceableKey.Slice(0, replaceableLength), lev, PutOptions.None).ThrowOnError();
        }
        if (kind == EventKinds.Deletion) ApplyDeletion(txn, ev);
        return new WriteResult(WriteStatus.Stored, levId, WriteMessages.Stored);
    }

    public bool Remove(LightningTransaction txn, ulong levId) => _indexer.Remove(txn, levId);

    /// <summary>Writes state cached during the transaction (negentropy tree nodes); call right before Commit.</summary>
    public void BeforeCommit(LightningTransaction txn) => _indexer.Trees.Flush(txn);

    /// <summary>
    /// NIP-01: the newest created_at wins; on a tie the lowest id wins. An equal id cannot reach
    /// here (it is a duplicate).
    /// </summary>
    private bool IsStoredVersionNewer(LightningTransaction txn, ulong storedLevId, in PackedEvent incoming)
    {
        Span<byte> lev = stackalloc byte[IndexKeys.LevIdSize];
        IndexKeys.WriteLevId(lev, storedLevId);
        var (rc, _, value) = txn.Get(_dbs.Events, lev);
        if (rc == MDBResultCode.NotFound) return false;
        rc.ThrowOnError();
        var stored = new PackedEvent(value.AsSpan());
        long storedAt = stored.CreatedAt, incomingAt = incoming.CreatedAt;
        if (storedAt != incomingAt) return storedAt > incomingAt;
        return stored.Id.SequenceCompareTo(incoming.Id) < 0;
    }

    private bool IsAddressDeletedAt(LightningTransaction txn, ReadOnlySpan<byte> replaceableKey, long createdAt, Span<byte> scratch)
    {
        int length = IndexKeys.WriteDeletedAddressKey(scratch, replaceableKey);
        var (rc, _, value) = txn.Get(_dbs.Deleted, scratch.Slice(0, length));
        if (rc == MDBResultCode.NotFound) return false;
        rc.ThrowOnError();
        return createdAt <= BinaryPrimitives.ReadInt64BigEndian(value.AsSpan());
    }

    /// <summary>
    /// NIP-09. Only the deleter's own events are touched; the request is remembered so that the
    /// target (or an old enough version of the address) cannot be stored afterwards, even if it
    /// arrives later than the deletion.
    /// </summary>
    private void ApplyDeletion(LightningTransaction txn, in PackedEvent deletion)
    {
        Span<byte> key = stackalloc byte[IndexKeys.MaxKeySize];
        Span<byte> replaceableKey = stackalloc byte[IndexKeys.MaxKeySize];
        Span<byte> target = stackalloc byte[32];
        Span<byte> deletedAt = stackalloc byte[8];
        long createdAt = deletion.CreatedAt;
        BinaryPrimitives.WriteInt64BigEndian(deletedAt, createdAt);
        var deleter = deletion.PubKey;

        foreach (var tag in deletion.Tags)
        {
            if (tag.Letter == (byte)'e')
            {
                if (tag.Value.Length != 64 || !Hex.TryDecodeLower(tag.Value, target)) continue;
                int length = IndexKeys.WriteDeletedIdKey(key, deleter, target);
                txn.Put(_dbs.Deleted, key.Slice(0, length), deletedAt, PutOptions.None).ThrowOnError();
                if (TryGetLevId(txn, target, out ulong levId) && IsDeletableBy(txn, levId, deleter, long.MaxValue))
                    _indexer.Remove(txn, levId);
            }
            else if (tag.Letter == (byte)'a')
            {
                if (!IndexKeys.TryParseAddress(tag.Value, out int kind, target, out var d)) continue;
                if (!target.SequenceEqual(deleter)) continue;
                // Only replaceable and addressable kinds have addresses; "kind:pubkey:" is the
                // address of a replaceable event, a d part there names nothing.
                if (!EventKinds.IsAddressable(kind) && !(EventKinds.IsReplaceable(kind) && d.IsEmpty)) continue;

                int replaceableLength = IndexKeys.WriteReplaceableKey(replaceableKey, deleter, kind, d);
                var address = replaceableKey.Slice(0, replaceableLength);
                int length = IndexKeys.WriteDeletedAddressKey(key, address);
                // Keep the newest deletion of an address: an older one must not unblock anything.
                var (rc, _, existing) = txn.Get(_dbs.Deleted, key.Slice(0, length));
                if (rc == MDBResultCode.NotFound || BinaryPrimitives.ReadInt64BigEndian(existing.AsSpan()) < createdAt)
                    txn.Put(_dbs.Deleted, key.Slice(0, length), deletedAt, PutOptions.None).ThrowOnError();

                // Only the current version is stored (older ones were superseded), so it is the only candidate.
                var (prc, _, current) = txn.Get(_dbs.Replaceable, address);
                if (prc == MDBResultCode.Success)
                {
                    ulong levId = IndexKeys.ReadLevId(current.AsSpan());
                    if (IsDeletableBy(txn, levId, deleter, createdAt)) _indexer.Remove(txn, levId);
                }
            }
        }
    }

    private bool TryGetLevId(LightningTransaction txn, ReadOnlySpan<byte> id, out ulong levId)
    {
        var (rc, _, value) = txn.Get(_dbs.Id, id);
        levId = rc == MDBResultCode.Success ? IndexKeys.ReadLevId(value.AsSpan()) : 0;
        return rc == MDBResultCode.Success;
    }

    private bool IsDeletableBy(LightningTransaction txn, ulong levId, ReadOnlySpan<byte> deleter, long notAfter)
    {
        Span<byte> lev = stackalloc byte[IndexKeys.LevIdSize];
        IndexKeys.WriteLevId(lev, levId);
        var (rc, _, value) = txn.Get(_dbs.Events, lev);
        if (rc != MDBResultCode.Success) return false;
        var target = new PackedEvent(value.AsSpan());
        return target.Kind != EventKinds.Deletion
            && target.PubKey.SequenceEqual(deleter)
            && target.CreatedAt <= notAfter;
    }

    /// <summary>Removes events whose expiration is at or before <paramref name="now"/>; returns how many.</summary>
    public int PurgeExpired(LightningTransaction txn, long now, int max)
    {
        if (now <= 0) return 0;
        // Collect first, delete after: removing entries under an open cursor would move it.
        var expired = new List<ulong>();
        using (var cursor = txn.CreateCursor(_dbs.Expiration))
        {
            var (rc, key, _) = cursor.First();
            while (rc == MDBResultCode.Success && expired.Count < max)
            {
                var k = key.AsSpan();
                if (BinaryPrimitives.ReadUInt64BigEndian(k) > (ulong)now) break;
                expired.Add(BinaryPrimitives.ReadUInt64BigEndian(k.Slice(8)));
                (rc, key, _) = cursor.Next();
            }
        }
        int removed = 0;
        foreach (ulong levId in expired)
        {
            if (_indexer.Remove(txn, levId)) removed++;
        }
        return removed;
    }

    private static WriteResult Reject(WriteStatus status, string message) => new(status, 0, message);
}
