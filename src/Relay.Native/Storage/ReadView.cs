using LightningDB;
using Relay.Native.Events;
using Relay.Native.Storage.Payloads;

namespace Relay.Native.Storage;

/// <summary>
/// A read snapshot (one LMDB read transaction). Spans it hands out point into the database map
/// and stay valid until the view is disposed. Not thread-safe: one thread uses it at a time.
/// </summary>
public sealed class ReadView : IDisposable
{
    private readonly LightningTransaction _txn;
    private readonly PayloadDictionaries _dictionaries;

    internal ReadView(LightningTransaction txn, StoreDatabases dbs, PayloadDictionaries dictionaries, ulong latestLevId)
    {
        _txn = txn;
        Databases = dbs;
        _dictionaries = dictionaries;
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

    /// <summary>
    /// The event JSON exactly as received, whether it is stored raw or zstd-compressed. Span
    /// lifetime: a raw payload points into the map and lives as long as the view; a compressed one
    /// is decompressed into a buffer owned by the calling thread and lives only until that thread's
    /// next TryGetPayload (on any view). Copy it out before reading another payload.
    /// </summary>
    /// <exception cref="PayloadFormatException">The stored value is compressed but cannot be decoded.</exception>
    public bool TryGetPayload(ulong levId, out ReadOnlySpan<byte> json)
    {
        if (!TryGetStoredPayload(levId, out var stored))
        {
            json = default;
            return false;
        }
        json = StoredPayload.IsCompressed(stored) ? Decompress(stored) : stored;
        return true;
    }

    private ReadOnlySpan<byte> Decompress(ReadOnlySpan<byte> stored)
    {
        uint dictId = StoredPayload.ReadDictionaryId(stored);
        var dictionary = dictId == StoredPayload.NoDictionary ? null : _dictionaries.Get(_txn, dictId);
        return PayloadDecoder.ForThisThread.Decode(StoredPayload.Frame(stored), dictionary);
    }

    /// <summary>The payload as stored (raw JSON or the compressed form); valid as long as the view.</summary>
    internal bool TryGetStoredPayload(ulong levId, out ReadOnlySpan<byte> stored) =>
        TryGet(Databases.Payloads, levId, out stored) || TryGet(Databases.CompressedPayloads, levId, out stored);

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
