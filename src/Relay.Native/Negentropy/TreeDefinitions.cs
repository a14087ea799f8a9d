using System.Buffers.Binary;
using System.Text;
using LightningDB;
using Relay.Native.Query;
using Relay.Native.Storage;

namespace Relay.Native.Negentropy;

/// <summary>One registered tree: its id, the filter that selects its events, and whether it has been filled.</summary>
public sealed class NegentropyTreeDefinition
{
    internal NegentropyTreeDefinition(ulong id, string filterJson, Filter filter, bool isBuilt)
    {
        Id = id;
        FilterJson = filterJson;
        Filter = filter;
        IsBuilt = isBuilt;
    }

    public ulong Id { get; }
    public string FilterJson { get; }
    public Filter Filter { get; }
    /// <summary>
    /// False from <c>add</c> until <c>build</c> has taken in the events stored before the tree existed;
    /// the writer keeps even an unbuilt tree up to date, but a session must not rely on it yet.
    /// </summary>
    public bool IsBuilt { get; }
}

/// <summary>
/// The <c>neg_filters</c> database:
/// <code>
/// key 0 (u64 BE)       -> version u64 LE ‖ next tree id u64 LE   (version grows with every change)
/// key treeId (u64 BE)  -> state u8 (0 unbuilt, 1 built) ‖ filter JSON (UTF-8)
/// </code>
/// Readers compare the version with what they cached: one small read per write batch or NEG-OPEN
/// notices a tree added, built or removed, even by another process sharing the database.
/// </summary>
internal static class TreeDefinitions
{
    public const ulong DefaultTreeId = 1;
    public const string DefaultFilter = "{}";
    private const int HeaderSize = 16;
    private const byte Unbuilt = 0;
    private const byte Built = 1;

    /// <summary>
    /// Run when the store opens: a database that never had a registry gets tree 1 = <c>{}</c>, like
    /// strfry. It is built at once when there are no events yet; otherwise it waits for <c>build</c>.
    /// </summary>
    public static void EnsureRegistry(LightningTransaction txn, StoreDatabases dbs)
    {
        Span<byte> key = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(key, 0);
        var (rc, _, _) = txn.Get(dbs.NegFilters, key);
        if (rc == MDBResultCode.Success) return;
        rc.ThrowOnReadError();
        bool empty = txn.GetEntriesCount(dbs.Events) == 0;
        WriteHeader(txn, dbs, version: 1, nextTreeId: DefaultTreeId + 1);
        Put(txn, dbs, DefaultTreeId, DefaultFilter, empty);
        NegentropyTree.Create(txn, dbs.NegTree, DefaultTreeId);
    }

    public static (ulong Version, ulong NextTreeId) ReadHeader(LightningTransaction txn, StoreDatabases dbs)
    {
        Span<byte> key = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(key, 0);
        var (rc, _, value) = txn.Get(dbs.NegFilters, key);
        if (rc == MDBResultCode.NotFound) return (0, DefaultTreeId);
        rc.ThrowOnError();
        var v = value.AsSpan();
        if (v.Length != HeaderSize) throw new InvalidDataException("neg_filters header has " + v.Length + " bytes");
        return (BinaryPrimitives.ReadUInt64LittleEndian(v), BinaryPrimitives.ReadUInt64LittleEndian(v.Slice(8)));
    }

    public static void WriteHeader(LightningTransaction txn, StoreDatabases dbs, ulong version, ulong nextTreeId)
    {
        Span<byte> key = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(key, 0);
        Span<byte> value = stackalloc byte[HeaderSize];
        BinaryPrimitives.WriteUInt64LittleEndian(value, version);
        BinaryPrimitives.WriteUInt64LittleEndian(value.Slice(8), nextTreeId);
        txn.Put(dbs.NegFilters, key, value, PutOptions.None).ThrowOnError();
    }

    /// <summary>Bumps the version so every cache reloads.</summary>
    public static void Touch(LightningTransaction txn, StoreDatabases dbs)
    {
        var (version, next) = ReadHeader(txn, dbs);
        WriteHeader(txn, dbs, version + 1, next);
    }

    public static void Put(LightningTransaction txn, StoreDatabases dbs, ulong treeId, string filterJson, bool built)
    {
        Span<byte> key = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(key, treeId);
        var json = Encoding.UTF8.GetBytes(filterJson);
        var value = new byte[1 + json.Length];
        value[0] = built ? Built : Unbuilt;
        json.CopyTo(value, 1);
        txn.Put(dbs.NegFilters, key, value, PutOptions.None).ThrowOnError();
    }

    public static bool Delete(LightningTransaction txn, StoreDatabases dbs, ulong treeId)
    {
        Span<byte> key = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(key, treeId);
        var rc = txn.Delete(dbs.NegFilters, key);
        if (rc == MDBResultCode.NotFound) return false;
        rc.ThrowOnError();
        return true;
    }

    public static NegentropyTreeDefinition? Find(LightningTransaction txn, StoreDatabases dbs, ulong treeId)
    {
        if (treeId == 0) return null;
        Span<byte> key = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(key, treeId);
        var (rc, _, value) = txn.Get(dbs.NegFilters, key);
        if (rc == MDBResultCode.NotFound) return null;
        rc.ThrowOnError();
        return Decode(treeId, value.AsSpan());
    }

    /// <summary>Every tree, in id order.</summary>
    public static List<NegentropyTreeDefinition> LoadAll(LightningTransaction txn, StoreDatabases dbs)
    {
        var result = new List<NegentropyTreeDefinition>();
        using var cursor = txn.CreateCursor(dbs.NegFilters);
        var (rc, key, value) = cursor.First();
        while (rc == MDBResultCode.Success)
        {
            ulong treeId = BinaryPrimitives.ReadUInt64BigEndian(key.AsSpan());
            if (treeId != 0) result.Add(Decode(treeId, value.AsSpan()));
            (rc, key, value) = cursor.Next();
        }
        if (rc != MDBResultCode.NotFound) rc.ThrowOnError();
        return result;
    }

    private static NegentropyTreeDefinition Decode(ulong treeId, ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty) throw new InvalidDataException($"negentropy tree {treeId} has an empty definition");
        string json = Encoding.UTF8.GetString(value.Slice(1));
        // Stored filters were validated when added; failing now means the parser changed under them.
        if (!TreeFilters.TryParse(json, out var filter, out string error))
            throw new InvalidDataException($"negentropy tree {treeId} has a filter this version cannot use ({error}): {json}");
        return new NegentropyTreeDefinition(treeId, json, filter, value[0] == Built);
    }
}
