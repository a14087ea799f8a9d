using LightningDB;

namespace Relay.Native.Storage;

/// <summary>
/// The named databases of the environment. Key layouts are in <see cref="IndexKeys"/>; every
/// index database is key-only (empty values).
/// <code>
/// events       levId                                   -> packed event
/// payloads     levId                                   -> event JSON
/// id           id                                      -> levId
/// created_at   created_at ‖ levId                      -> -
/// author       pubkey ‖ created_at ‖ levId             -> -
/// kind         kind u16 ‖ created_at ‖ levId           -> -
/// author_kind  pubkey ‖ kind u16 ‖ created_at ‖ levId  -> -
/// tag          letter ‖ value ‖ created_at ‖ levId     -> -
/// replaceable  pubkey ‖ kind u16 (‖ d)                 -> levId of the current version
/// expiration   expiration ‖ levId                      -> -
/// deleted      deleter ‖ 0 ‖ id | deleter ‖ 1 ‖ kind ‖ d -> deletion created_at
/// meta         "schema" -> u32, "levid" -> last levId handed out
/// payloads_zstd levId                                  -> compressed event JSON (Payloads/StoredPayload.cs)
/// payload_dicts dictId u32                             -> zstd dictionary
/// neg_tree     treeId ‖ nodeId                         -> negentropy B-tree node (Negentropy/NegentropyTree.cs)
/// neg_filters  treeId                                  -> tree definition (Negentropy/NegentropyTrees.cs)
/// </code>
/// An event's JSON is in exactly one of payloads and payloads_zstd. The writer only ever puts raw
/// JSON into payloads; the offline compression pass moves values to payloads_zstd, appending in
/// levId order so that its pages are full (values shrunk in place would leave payloads' pages
/// mostly empty: LMDB merges pages only below a quarter full).
/// Kinds are u16 in keys, not u32: NIP-01 kinds are 0..65535 and the packed record already
/// limits them to that.
/// </summary>
internal sealed class StoreDatabases
{
    public const int Count = 16;

    public required LightningDatabase Events { get; init; }
    public required LightningDatabase Payloads { get; init; }
    public required LightningDatabase Id { get; init; }
    public required LightningDatabase CreatedAt { get; init; }
    public required LightningDatabase Author { get; init; }
    public required LightningDatabase Kind { get; init; }
    public required LightningDatabase AuthorKind { get; init; }
    public required LightningDatabase Tag { get; init; }
    public required LightningDatabase Replaceable { get; init; }
    public required LightningDatabase Expiration { get; init; }
    public required LightningDatabase Deleted { get; init; }
    public required LightningDatabase Meta { get; init; }
    public required LightningDatabase CompressedPayloads { get; init; }
    public required LightningDatabase PayloadDictionaries { get; init; }
    public required LightningDatabase NegTree { get; init; }
    public required LightningDatabase NegFilters { get; init; }

    public static StoreDatabases Open(LightningTransaction txn)
    {
        var create = new DatabaseConfiguration { Flags = DatabaseOpenFlags.Create };
        LightningDatabase Db(string name) => txn.OpenDatabase(name, create, closeOnDispose: true);
        return new StoreDatabases
        {
            Events = Db("events"),
            Payloads = Db("payloads"),
            Id = Db("id"),
            CreatedAt = Db("created_at"),
            Author = Db("author"),
            Kind = Db("kind"),
            AuthorKind = Db("author_kind"),
            Tag = Db("tag"),
            Replaceable = Db("replaceable"),
            Expiration = Db("expiration"),
            Deleted = Db("deleted"),
            Meta = Db("meta"),
            // Created on first open by this version; older databases gain them without a migration.
            CompressedPayloads = Db("payloads_zstd"),
            PayloadDictionaries = Db("payload_dicts"),
            NegTree = Db("neg_tree"),
            NegFilters = Db("neg_filters"),
        };
    }

    public void Dispose()
    {
        foreach (var db in new[] { Events, Payloads, Id, CreatedAt, Author, Kind, AuthorKind, Tag, Replaceable, Expiration, Deleted, Meta, CompressedPayloads, PayloadDictionaries, NegTree, NegFilters })
            db.Dispose();
    }
}
