using System.Buffers.Binary;
using LightningDB;

namespace Relay.Native.Storage.Payloads;

/// <summary>
/// The <c>payload_dicts</c> database (dictId u32 BE -> zstd dictionary) and a cache of the
/// dictionaries already digested. A dictionary is never changed or removed once a payload may
/// name it, and ids only grow, so a cached entry never goes stale, even when another process
/// (a CLI command) adds dictionaries to the database this one serves.
/// </summary>
internal sealed class PayloadDictionaries
{
    private readonly LightningDatabase _db;
    private readonly Lock _lock = new();
    // Copy-on-write: readers look up without locking; a miss (once per dictionary) takes the lock.
    private volatile Dictionary<uint, ZstdDictionary> _cache = new();

    public PayloadDictionaries(LightningDatabase db) => _db = db;

    /// <summary>Looks the dictionary up in the cache, else in <paramref name="txn"/>'s snapshot.</summary>
    public ZstdDictionary Get(LightningTransaction txn, uint dictId)
    {
        if (_cache.TryGetValue(dictId, out var cached)) return cached;
        lock (_lock)
        {
            if (_cache.TryGetValue(dictId, out cached)) return cached;
            var content = Read(txn, dictId)
                ?? throw new PayloadFormatException($"a payload names zstd dictionary {dictId}, which is not in the database");
            var dictionary = new ZstdDictionary(dictId, content);
            _cache = new Dictionary<uint, ZstdDictionary>(_cache) { [dictId] = dictionary };
            return dictionary;
        }
    }

    public byte[]? Read(LightningTransaction txn, uint dictId)
    {
        Span<byte> key = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(key, dictId);
        var (rc, _, value) = txn.Get(_db, key);
        if (rc == MDBResultCode.NotFound) return null;
        rc.ThrowOnError();
        return value.AsSpan().ToArray();
    }

    /// <summary>Stores a new dictionary under the next free id (ids start at 1) and returns the id.</summary>
    public uint Add(LightningTransaction txn, ReadOnlySpan<byte> content)
    {
        uint next = 1;
        using (var cursor = txn.CreateCursor(_db))
        {
            var (rc, key, _) = cursor.Last();
            if (rc == MDBResultCode.Success) next = BinaryPrimitives.ReadUInt32BigEndian(key.AsSpan()) + 1;
        }
        Span<byte> id = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(id, next);
        txn.Put(_db, id, content, PutOptions.NoOverwrite).ThrowOnError();
        return next;
    }

    /// <summary>Every stored dictionary: id and size in bytes, in id order.</summary>
    public List<(uint Id, int Size)> List(LightningTransaction txn)
    {
        var list = new List<(uint, int)>();
        using var cursor = txn.CreateCursor(_db);
        var (rc, key, value) = cursor.First();
        while (rc == MDBResultCode.Success)
        {
            list.Add((BinaryPrimitives.ReadUInt32BigEndian(key.AsSpan()), value.AsSpan().Length));
            (rc, key, value) = cursor.Next();
        }
        return list;
    }
}
