using System.Buffers.Binary;
using System.Text;
using LightningDB;
using Relay.Native.Events;
using Relay.Native.Storage;

namespace Relay.Tests.Storage;

public sealed class EventStoreTests : IDisposable
{
    private readonly TempStore _db = new();
    private readonly Random _random = new(1234);
    private readonly byte[] _alice;
    private readonly byte[] _bob;

    public EventStoreTests()
    {
        _alice = TestEvent.Key(_random);
        _bob = TestEvent.Key(_random);
    }

    public void Dispose() => _db.Dispose();

    private TestEvent Note(byte[] author, long createdAt, params (char, string)[] tags) =>
        TestEvent.Create(_random, author, createdAt, 1, 0, tags);

    private TestEvent Deletion(byte[] author, long createdAt, params (char, string)[] tags) =>
        TestEvent.Create(_random, author, createdAt, EventKinds.Deletion, 0, tags);

    [Fact]
    public void Stored_event_is_readable_by_levId_and_id()
    {
        var note = Note(_alice, 1000, ('t', "nostr"));
        var result = _db.Write(note);

        Assert.Equal(WriteStatus.Stored, result.Status);
        Assert.Equal("", result.Message);
        Assert.True(result.LevId > 0);
        using var view = _db.Store.BeginRead();
        Assert.True(view.ContainsId(note.Id));
        Assert.True(view.TryGetLevId(note.Id, out ulong levId));
        Assert.Equal(result.LevId, levId);
        Assert.True(view.TryGetPayload(levId, out var json));
        Assert.Equal(note.IdHex, Encoding.ASCII.GetString(json));
        Assert.True(view.TryGetEvent(levId, out var packed));
        Assert.Equal(1000, packed.CreatedAt);
        Assert.Equal(result.LevId, view.LatestLevId);
        Assert.False(view.TryGetPayload(levId + 1, out _));
        Assert.Equal(1, _db.Store.Count);
    }

    [Fact]
    public void Same_id_is_a_duplicate_also_within_one_batch()
    {
        var note = Note(_alice, 1000);
        var results = _db.WriteBatch(new[] { note, note });
        Assert.Equal(WriteStatus.Stored, results[0].Status);
        Assert.Equal(WriteStatus.Duplicate, results[1].Status);
        Assert.Equal("duplicate: already have this event", results[1].Message);

        Assert.Equal(WriteStatus.Duplicate, _db.Write(note).Status);
        Assert.Equal(1, _db.Store.Count);
    }

    [Fact]
    public void Ephemeral_event_is_not_stored()
    {
        var ephemeral = TestEvent.Create(_random, _alice, 1000, 20001);
        var result = _db.Write(ephemeral);
        Assert.Equal(WriteStatus.Ephemeral, result.Status);
        Assert.True(result.Accepted);
        Assert.False(_db.IsStored(ephemeral));
        Assert.Equal(0, _db.Store.Count);
    }

    [Fact]
    public void Replaceable_event_with_older_created_at_is_rejected()
    {
        var newer = TestEvent.Create(_random, _alice, 2000, 0);
        var older = TestEvent.Create(_random, _alice, 1000, 0);
        Assert.Equal(WriteStatus.Stored, _db.Write(newer).Status);

        var result = _db.Write(older);
        Assert.Equal(WriteStatus.Superseded, result.Status);
        Assert.Equal("duplicate: have a newer version of this replaceable event", result.Message);
        Assert.False(_db.IsStored(older));
        Assert.True(_db.IsStored(newer));
    }

    [Fact]
    public void Newer_replaceable_event_replaces_the_stored_version_everywhere()
    {
        var older = TestEvent.Create(_random, _alice, 1000, 10002, 0, ('r', "wss://a"));
        var newer = TestEvent.Create(_random, _alice, 2000, 10002, 0, ('r', "wss://b"));
        var otherAuthor = TestEvent.Create(_random, _bob, 500, 10002);
        var otherKind = TestEvent.Create(_random, _alice, 500, 3);
        _db.WriteBatch(new[] { older, otherAuthor, otherKind });

        Assert.Equal(WriteStatus.Stored, _db.Write(newer).Status);

        Assert.False(_db.IsStored(older));
        Assert.True(_db.IsStored(newer));
        Assert.True(_db.IsStored(otherAuthor));
        Assert.True(_db.IsStored(otherKind));
        Assert.Equal(3, _db.Store.Count);
        AssertIndexEntryCounts(events: 3, tags: 1);
    }

    [Fact]
    public void Replaceable_events_with_equal_created_at_keep_the_lowest_id()
    {
        var template = TestEvent.Create(_random, _alice, 1000, 0);
        var low = template.WithId(0x10);
        var high = template.WithId(0xF0);

        Assert.Equal(WriteStatus.Stored, _db.Write(high).Status);
        Assert.Equal(WriteStatus.Stored, _db.Write(low).Status);
        Assert.False(_db.IsStored(high));

        var higher = template.WithId(0xF1);
        Assert.Equal(WriteStatus.Superseded, _db.Write(higher).Status);
        Assert.True(_db.IsStored(low));
    }

    [Fact]
    public void Addressable_events_are_replaced_per_d_tag_and_a_missing_d_equals_an_empty_one()
    {
        var a1 = TestEvent.Create(_random, _alice, 1000, 30023, 0, ('d', "post-a"));
        var b1 = TestEvent.Create(_random, _alice, 1000, 30023, 0, ('d', "post-b"));
        var noD = TestEvent.Create(_random, _alice, 1000, 30023);
        var a2 = TestEvent.Create(_random, _alice, 1500, 30023, 0, ('d', "post-a"));
        var emptyD = TestEvent.Create(_random, _alice, 1500, 30023, 0, ('d', ""));
        var longD1 = TestEvent.Create(_random, _alice, 1000, 30023, 0, ('d', new string('x', 300)));
        var longD2 = TestEvent.Create(_random, _alice, 1000, 30023, 0, ('d', new string('x', 299) + "y"));

        var results = _db.WriteBatch(new[] { a1, b1, noD, a2, emptyD, longD1, longD2 });
        Assert.All(results, r => Assert.Equal(WriteStatus.Stored, r.Status));

        Assert.False(_db.IsStored(a1));
        Assert.False(_db.IsStored(noD));
        Assert.True(_db.IsStored(b1));
        Assert.True(_db.IsStored(a2));
        Assert.True(_db.IsStored(emptyD));
        Assert.True(_db.IsStored(longD1));
        Assert.True(_db.IsStored(longD2));
    }

    [Fact]
    public void Deletion_by_e_tag_removes_the_authors_event_and_blocks_its_republication()
    {
        var note = Note(_alice, 1000, ('t', "x"));
        _db.Write(note);
        var deletion = Deletion(_alice, 1100, ('e', note.IdHex), ('k', "1"));

        Assert.Equal(WriteStatus.Stored, _db.Write(deletion).Status);
        Assert.False(_db.IsStored(note));
        Assert.True(_db.IsStored(deletion));

        var again = _db.Write(note);
        Assert.Equal(WriteStatus.Deleted, again.Status);
        Assert.Equal("blocked: this event was deleted by its author", again.Message);
        AssertIndexEntryCounts(events: 1, tags: 2);
    }

    [Fact]
    public void Deletion_arriving_before_its_target_blocks_the_target()
    {
        var note = Note(_alice, 1000);
        var deletion = Deletion(_alice, 1100, ('e', note.IdHex));
        var results = _db.WriteBatch(new[] { deletion, note });
        Assert.Equal(WriteStatus.Stored, results[0].Status);
        Assert.Equal(WriteStatus.Deleted, results[1].Status);
        Assert.False(_db.IsStored(note));
    }

    [Fact]
    public void Deletion_of_another_authors_event_has_no_effect()
    {
        var bobsNote = Note(_bob, 1000);
        _db.Write(bobsNote);
        _db.Write(Deletion(_alice, 1100, ('e', bobsNote.IdHex)));

        Assert.True(_db.IsStored(bobsNote));
        Assert.Equal(WriteStatus.Duplicate, _db.Write(bobsNote).Status);
    }

    [Fact]
    public void Deleting_a_deletion_has_no_effect()
    {
        var note = Note(_alice, 1000);
        var first = Deletion(_alice, 1100, ('e', note.IdHex));
        var second = Deletion(_alice, 1200, ('e', first.IdHex));
        _db.WriteBatch(new[] { note, second });

        Assert.Equal(WriteStatus.Stored, _db.Write(first).Status);
        Assert.True(_db.IsStored(first));
        Assert.True(_db.IsStored(second));
        Assert.False(_db.IsStored(note));
    }

    [Fact]
    public void Deletion_by_a_tag_removes_versions_up_to_its_created_at_and_blocks_older_ones()
    {
        var address = $"30023:{Convert.ToHexStringLower(_alice)}:post";
        var v1 = TestEvent.Create(_random, _alice, 1000, 30023, 0, ('d', "post"));
        var otherD = TestEvent.Create(_random, _alice, 1000, 30023, 0, ('d', "other"));
        _db.WriteBatch(new[] { v1, otherD });

        _db.Write(Deletion(_alice, 1500, ('a', address)));
        Assert.False(_db.IsStored(v1));
        Assert.True(_db.IsStored(otherD));

        var old = TestEvent.Create(_random, _alice, 1500, 30023, 0, ('d', "post"));
        Assert.Equal(WriteStatus.Deleted, _db.Write(old).Status);
        var fresh = TestEvent.Create(_random, _alice, 1501, 30023, 0, ('d', "post"));
        Assert.Equal(WriteStatus.Stored, _db.Write(fresh).Status);

        // A later deletion older than the stored version leaves it alone and does not lower the bar.
        _db.Write(Deletion(_alice, 1200, ('a', address)));
        Assert.True(_db.IsStored(fresh));
        var between = TestEvent.Create(_random, _alice, 1300, 30023, 0, ('d', "post"));
        Assert.Equal(WriteStatus.Deleted, _db.Write(between).Status);
    }

    [Fact]
    public void Deletion_by_a_tag_works_for_replaceable_kinds()
    {
        var profile = TestEvent.Create(_random, _alice, 1000, 0);
        _db.Write(profile);
        _db.Write(Deletion(_alice, 1200, ('a', $"0:{Convert.ToHexStringLower(_alice)}:")));

        Assert.False(_db.IsStored(profile));
        Assert.Equal(WriteStatus.Deleted, _db.Write(TestEvent.Create(_random, _alice, 1100, 0)).Status);
        Assert.Equal(WriteStatus.Stored, _db.Write(TestEvent.Create(_random, _alice, 1300, 0)).Status);
    }

    [Fact]
    public void Deletion_by_a_tag_of_another_authors_address_has_no_effect()
    {
        var bobs = TestEvent.Create(_random, _bob, 1000, 30023, 0, ('d', "post"));
        _db.Write(bobs);
        _db.Write(Deletion(_alice, 1200, ('a', $"30023:{Convert.ToHexStringLower(_bob)}:post")));

        Assert.True(_db.IsStored(bobs));
        Assert.Equal(WriteStatus.Stored, _db.Write(TestEvent.Create(_random, _bob, 1100, 30023, 0, ('d', "post"))).Status);
    }

    [Fact]
    public void Event_already_expired_at_write_is_invalid()
    {
        var expired = TestEvent.Create(_random, _alice, 1000, 1, expiration: 1500);
        var result = _db.Write(expired, now: 1500);
        Assert.Equal(WriteStatus.Invalid, result.Status);
        Assert.Equal("invalid: event expired", result.Message);
        Assert.False(_db.IsStored(expired));
    }

    [Fact]
    public void Purge_removes_expired_events_from_every_index()
    {
        var soon = TestEvent.Create(_random, _alice, 1000, 1, expiration: 2000, ('t', "a"));
        var later = TestEvent.Create(_random, _alice, 1000, 1, expiration: 3000, ('t', "a"));
        var never = TestEvent.Create(_random, _alice, 1000, 1, 0, ('t', "a"));
        _db.WriteBatch(new[] { soon, later, never });

        Assert.Equal(0, _db.Store.PurgeExpired(1999));
        Assert.Equal(1, _db.Store.PurgeExpired(2000));
        Assert.False(_db.IsStored(soon));
        Assert.True(_db.IsStored(later));
        AssertIndexEntryCounts(events: 2, tags: 2, expirations: 1);

        Assert.Equal(1, _db.Store.PurgeExpired(5000));
        Assert.True(_db.IsStored(never));
        AssertIndexEntryCounts(events: 1, tags: 1, expirations: 0);
    }

    [Fact]
    public void Invalid_records_are_refused_without_failing_the_batch()
    {
        var good = Note(_alice, 1000);
        var negative = Note(_alice, -5);
        var items = new[]
        {
            new WriteItem(new byte[10], "x"u8.ToArray()),
            new WriteItem(negative.Pack(), negative.Json),
            new WriteItem(good.Pack(), good.Json),
        };
        var results = new WriteResult[3];
        _db.Store.WriteBatch(items, results, durable: true, now: 100);
        Assert.Equal(WriteStatus.Invalid, results[0].Status);
        Assert.Equal(WriteStatus.Invalid, results[1].Status);
        Assert.Equal(WriteStatus.Stored, results[2].Status);
    }

    [Fact]
    public void Store_refuses_a_database_with_another_schema_version()
    {
        _db.Write(Note(_alice, 1000));
        _db.Store.Dispose();
        using (var env = new LightningEnvironment(_db.Directory, new EnvironmentConfiguration { MapSize = 1L << 30, MaxDatabases = 16 }))
        {
            env.Open();
            using var txn = env.BeginTransaction();
            using var meta = txn.OpenDatabase("meta");
            var version = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(version, 99);
            txn.Put(meta, "schema"u8, version, PutOptions.None).ThrowOnError();
            txn.Commit().ThrowOnError();
        }

        var error = Assert.Throws<StoreSchemaException>(() => TempStore.Open(_db.Directory));
        Assert.Contains("schema version 99", error.Message);
        Assert.Contains($"schema versions 1 to {EventStore.SchemaVersion}", error.Message);
    }

    [Fact]
    public void Store_of_an_older_schema_opens_and_is_marked_current_so_older_relays_refuse_it()
    {
        _db.Write(Note(_alice, 1000));
        _db.Store.Dispose();
        using (var env = new LightningEnvironment(_db.Directory, new EnvironmentConfiguration { MapSize = 1L << 30, MaxDatabases = 32 }))
        {
            env.Open();
            using var txn = env.BeginTransaction();
            using var meta = txn.OpenDatabase("meta");
            var version = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(version, 1);
            txn.Put(meta, "schema"u8, version, PutOptions.None).ThrowOnError();
            txn.Commit().ThrowOnError();
        }
        _db.Reopen();
        Assert.Equal(1, _db.Store.Count);
        Assert.Equal(EventStore.SchemaVersion, _db.Store.StoredSchemaVersion);
    }

    [Fact]
    public void Reopened_store_keeps_events_and_never_reuses_a_levId()
    {
        var first = Note(_alice, 1000);
        var second = Note(_alice, 1001);
        _db.Write(first);
        ulong secondLevId = _db.Write(second).LevId;
        _db.Write(Deletion(_alice, 1100, ('e', second.IdHex)));
        ulong deletionLevId = secondLevId + 1;
        _db.Store.Delete(deletionLevId);

        _db.Reopen();

        Assert.True(_db.IsStored(first));
        var third = _db.Write(Note(_alice, 1200));
        Assert.Equal(deletionLevId + 1, third.LevId);
    }

    [Fact]
    public void Non_durable_batch_is_visible_to_readers_before_sync()
    {
        var note = Note(_alice, 1000);
        _db.WriteBatch(new[] { note }, durable: false);
        Assert.True(_db.IsStored(note));
        _db.Store.Sync();
        _db.Reopen();
        Assert.True(_db.IsStored(note));
    }

    [Fact]
    public void A_read_view_is_a_snapshot()
    {
        var before = Note(_alice, 1000);
        _db.Write(before);
        using var view = _db.Store.BeginRead();
        var after = Note(_alice, 1001);
        _db.Write(after);
        Assert.True(view.ContainsId(before.Id));
        Assert.False(view.ContainsId(after.Id));
    }

    [Fact]
    public void Steady_state_writes_allocate_nothing_per_event()
    {
        const int batchSize = 200;
        var items = new WriteItem[batchSize];
        var results = new WriteResult[batchSize];
        var pubKeys = Enumerable.Range(0, 4).Select(_ => TestEvent.Key(_random)).ToArray();
        void Fill(int round)
        {
            for (int i = 0; i < batchSize; i++)
            {
                var ev = TestEvent.Create(_random, pubKeys[i % 4], 1000 + round * batchSize + i, i % 3 == 0 ? 10002 : 1, 0,
                    ('t', "tag" + (i % 5)), ('p', Convert.ToHexStringLower(pubKeys[(i + 1) % 4])));
                items[i] = new WriteItem(ev.Pack(), ev.Json);
            }
        }
        Fill(0);
        _db.Store.WriteBatch(items, results, durable: false, now: 100);
        Fill(1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        _db.Store.WriteBatch(items, results, durable: false, now: 100);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.All(results, r => Assert.Equal(WriteStatus.Stored, r.Status));
        // One transaction object per batch; anything per event would be >= 200 x 24 bytes.
        Assert.True(allocated < 1024, $"allocated {allocated} bytes for a batch of {batchSize}");
    }

    private void AssertIndexEntryCounts(long events, long tags, long? expirations = null)
    {
        var dbs = _db.Store.Databases;
        using var view = _db.Store.BeginRead();
        var txn = view.Transaction;
        Assert.Equal(events, txn.GetEntriesCount(dbs.Events));
        Assert.Equal(events, txn.GetEntriesCount(dbs.Payloads));
        Assert.Equal(events, txn.GetEntriesCount(dbs.Id));
        Assert.Equal(events, txn.GetEntriesCount(dbs.CreatedAt));
        Assert.Equal(events, txn.GetEntriesCount(dbs.Author));
        Assert.Equal(events, txn.GetEntriesCount(dbs.Kind));
        Assert.Equal(events, txn.GetEntriesCount(dbs.AuthorKind));
        Assert.Equal(tags, txn.GetEntriesCount(dbs.Tag));
        if (expirations is long expected) Assert.Equal(expected, txn.GetEntriesCount(dbs.Expiration));
    }
}
