using LightningDB;
using Relay.Native.Events;

namespace Relay.Native.Storage;

/// <summary>
/// A read snapshot (one LMDB read transaction). Spans it hands out point into the database map
/// and stay valid until the view is disposed. Not thread-safe: one thread uses it at a time.
/// </summary>
public sealed class ReadView : IDisposable
{
    private readonly LightningTransaction _txn;

    internal ReadView(LightningTransaction txn, StoreDatabases dbs, ulong latestLevId)
    {
        _txn = txn;
        Databases = dbs;
        LatestLevId = latestLevId;
    }

    /// <summary>The last levId handed out when the snapshot was taken: later events come live.</summary>
    public ulong LatestLevId { get; private set; }

    /// <summary>
    /// Releases the snapshot but keeps the transaction for <see cref="Renew"/>: a thread that reads in
    /// short bursts (an ingester's duplicate probe) reuses one view instead of allocating one per burst.
    /// </summary>
    public void Reset() => _txn.Reset();

    /// <summary>Takes a fresh snapshot after <see cref="Reset"/>.</summary>
    public void Renew()
    {
        _txn.Renew().ThrowOnError();
        LatestLevId = EventStore.ReadLatestLevId(_txn, Databases);
    }

    internal StoreDatabases Databases { get; }
    internal LightningTransaction Transaction => _txn;

    public bool TryGetPayload(ulong levId, out ReadOnlySpan<byte> json) => TryGet(Databases.Payloads, levId, out json);

    public bool TryGetEvent(ulong levId, out PackedEvent ev)
    {
        if (TryGet(Databases.Events, levId, out var raw))
        {
            ev = new PackedEvent(raw);
            return true;
        }
        ev = default;
        return false;
    }

    public bool ContainsId(ReadOnlySpan<byte> id32) => _txn.ContainsKey(Databases.Id, id32);

    public bool TryGetLevId(ReadOnlySpan<byte> id32, out ulong levId)
    {
        var (rc, _, value) = _txn.Get(Databases.Id, id32);
        if (rc == MDBResultCode.Success)
        {
            levId = IndexKeys.ReadLevId(value.AsSpan());
            return true;
        }
        rc.ThrowOnReadError();
        levId = 0;
        return false;
    }

    /// <summary>Stored events with <paramref name="since"/> &lt;= created_at &lt;= <paramref name="until"/>, in created_at order (see <see cref="CreatedAtScan"/>).</summary>
    public CreatedAtScan ScanCreatedAt(ulong since, ulong until, bool newestFirst) =>
        new(_txn.CreateCursor(Databases.CreatedAt), since, until, newestFirst);

    internal LightningCursor CreateCursor(LightningDatabase db) => _txn.CreateCursor(db);

    private bool TryGet(LightningDatabase db, ulong levId, out ReadOnlySpan<byte> value)
    {
        Span<byte> key = stackalloc byte[IndexKeys.LevIdSize];
        IndexKeys.WriteLevId(key, levId);
        var (rc, _, data) = _txn.Get(db, key);
        if (rc == MDBResultCode.Success)
        {
            value = data.AsSpan();
            return true;
        }
        rc.ThrowOnReadError();
        value = default;
        return false;
    }

    public void Dispose() => _txn.Dispose();
}
