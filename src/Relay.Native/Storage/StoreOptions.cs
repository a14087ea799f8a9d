namespace Relay.Native.Storage;

/// <summary>Where and how big the LMDB environment is.</summary>
public sealed class StoreOptions
{
    /// <summary>Directory of the environment (data.mdb, lock.mdb); created when missing.</summary>
    public required string Path { get; init; }

    /// <summary>
    /// Upper bound of the memory map, not a file size: LMDB grows the file as it needs. 10 TiB like
    /// strfry, so an operator never meets MDB_MAP_FULL on a 64-bit host.
    /// </summary>
    public long MapSize { get; init; } = 10995116277760;

    /// <summary>Concurrent read transactions (each ReqWorker/ingester holds at most one).</summary>
    public int MaxReaders { get; init; } = 256;
}
