using System.Text;
using LightningDB;
using Relay.Native.Query;
using Relay.Native.Storage;
using Relay.Native.Storage.Payloads;
using Relay.Tests.Query;

namespace Relay.Tests.Storage.Payloads;

public sealed class PayloadCompressionTests : IDisposable
{
    private readonly TempStore _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public void Every_compressed_payload_reads_back_byte_identical_and_smaller()
    {
        var events = NoteCorpus.Write(_db, count: 600, seed: 1);
        var compression = new PayloadCompression(_db.Store);

        var trained = compression.Train(new TrainOptions { DictionarySize = 8 * 1024 });
        Assert.Equal(1u, trained.DictId);
        Assert.Equal(600, events.Count);
        Assert.Equal(600, trained.Samples);
        var result = compression.Compress(new CompressOptions { DictId = trained.DictId, BatchSize = 64 });

        Assert.Equal(600, result.Matched);
        Assert.Equal(600, result.Rewritten);
        Assert.True(result.StoredBytesAfter * 2 < result.StoredBytesBefore, $"{result.StoredBytesBefore} -> {result.StoredBytesAfter}");
        using var view = _db.Store.BeginRead();
        foreach (var (levId, json, _) in events)
        {
            Assert.True(view.TryGetStoredPayload(levId, out var stored));
            Assert.Equal(StoredPayload.CompressedMarker, stored[0]);
            Assert.True(view.TryGetPayload(levId, out var read));
            Assert.True(read.SequenceEqual(json), $"levId {levId} differs");
        }
    }

    [Fact]
    public void A_mixed_raw_and_compressed_database_answers_queries_with_the_same_bytes()
    {
        var events = NoteCorpus.Write(_db, count: 800, seed: 2);
        var filters = NoteCorpus.QueryFilters(events.Count);
        var before = RunAll(filters);

        var compression = new PayloadCompression(_db.Store);
        uint textDict = compression.Train(new TrainOptions { DictionarySize = 8 * 1024, Filter = Filters.Build(kinds: new[] { 1 }) }).DictId;
        uint reactionDict = compression.Train(new TrainOptions { DictionarySize = 4 * 1024, Filter = Filters.Build(kinds: new[] { 7 }) }).DictId;
        // Three forms side by side: kind 1 with one dictionary, kind 7 with another, kind 0 without,
        // and everything after the first 500 levIds left raw.
        compression.Compress(new CompressOptions { DictId = textDict, Filter = Filters.Build(kinds: new[] { 1 }, until: long.MaxValue), Limit = 250 });
        compression.Compress(new CompressOptions { DictId = reactionDict, Filter = Filters.Build(kinds: new[] { 7 }), Limit = 120 });
        compression.Compress(new CompressOptions { DictId = StoredPayload.NoDictionary, Filter = Filters.Build(kinds: new[] { 0 }), Limit = 40 });
        var stats = compression.Stats();
        Assert.True(stats.RawEvents > 0 && stats.CompressedEvents > 0, $"raw {stats.RawEvents}, compressed {stats.CompressedEvents}");

        var after = RunAll(filters);
        Assert.Equal(before.Count, after.Count);
        for (int i = 0; i < before.Count; i++) Assert.Equal(before[i], after[i]);
        Assert.Contains(before, r => r.Length > 0);
    }

    [Fact]
    public void Stats_count_raw_and_compressed_payloads_and_their_sizes_per_dictionary()
    {
        var events = NoteCorpus.Write(_db, count: 400, seed: 3);
        var compression = new PayloadCompression(_db.Store);
        uint dictId = compression.Train(new TrainOptions { DictionarySize = 8 * 1024 }).DictId;
        var first = compression.Compress(new CompressOptions { DictId = dictId, Limit = 150 });
        var second = compression.Compress(new CompressOptions { DictId = StoredPayload.NoDictionary, Filter = Filters.Build(kinds: new[] { 1 }), Limit = 300 });

        long originalTotal = events.Sum(e => (long)e.Json.Length);
        var stats = compression.Stats();
        Assert.Equal(400, stats.Events);
        Assert.Equal(originalTotal, stats.OriginalBytes);
        Assert.Equal(stats.Events, stats.RawEvents + stats.CompressedEvents);

        using var view = _db.Store.BeginRead();
        long storedTotal = 0, compressedCount = 0;
        var perDict = new Dictionary<uint, (long Events, long Original, long Stored)>();
        foreach (var (levId, json, _) in events)
        {
            Assert.True(view.TryGetStoredPayload(levId, out var stored));
            storedTotal += stored.Length;
            if (!StoredPayload.IsCompressed(stored)) continue;
            compressedCount++;
            uint id = StoredPayload.ReadDictionaryId(stored);
            perDict.TryGetValue(id, out var u);
            perDict[id] = (u.Events + 1, u.Original + json.Length, u.Stored + stored.Length);
        }
        Assert.Equal(storedTotal, stats.StoredBytes);
        Assert.Equal(compressedCount, stats.CompressedEvents);
        // The first 150 events took the dictionary; later kind-1 events were compressed without one,
        // and the second pass re-encoded the dictionary-compressed kind-1 events among the first 150.
        Assert.Equal(150, first.Rewritten);
        Assert.True(second.Rewritten > 0);
        foreach (var usage in stats.ByDictionary)
        {
            var expected = perDict.GetValueOrDefault(usage.DictId);
            Assert.Equal(expected.Events, usage.Events);
            Assert.Equal(expected.Original, usage.OriginalBytes);
            Assert.Equal(expected.Stored, usage.StoredBytes);
        }
        Assert.Equal(perDict.Keys.Order(), stats.ByDictionary.Where(u => u.Events > 0).Select(u => u.DictId));
        Assert.Equal(new[] { dictId }, stats.Dictionaries.Select(d => d.DictId));

        var kindOne = compression.Stats(Filters.Build(kinds: new[] { 1 }));
        Assert.Equal(events.Count(e => e.Kind == 1), kindOne.Events);
    }

    [Fact]
    public void Compressed_payloads_fill_their_pages_so_the_database_shrinks()
    {
        NoteCorpus.Write(_db, count: 3000, seed: 10);
        var compression = new PayloadCompression(_db.Store);
        var raw = compression.Stats();
        uint dictId = compression.Train(new TrainOptions { DictionarySize = 16 * 1024 }).DictId;
        compression.Compress(new CompressOptions { DictId = dictId, BatchSize = 500 });
        var compressed = compression.Stats();

        // Values shrunk in place would leave the pages they were on two-thirds empty; moved and
        // appended, the pages shrink about as much as the values.
        double values = compressed.StoredBytes / (double)raw.StoredBytes;
        double pages = compressed.PayloadDatabaseBytes / (double)raw.PayloadDatabaseBytes;
        Assert.True(pages < values + 0.15, $"values {values:P0} of raw, pages {pages:P0}");
    }

    [Fact]
    public void Deleting_or_superseding_an_event_removes_its_compressed_payload()
    {
        var events = NoteCorpus.Write(_db, count: 200, seed: 11);
        var compression = new PayloadCompression(_db.Store);
        compression.Compress(new CompressOptions { DictId = StoredPayload.NoDictionary });
        var profile = events.First(e => e.Kind == 0);
        var note = events.First(e => e.Kind == 1);

        Assert.True(_db.Store.Delete(note.LevId));
        // A newer profile of the same author replaces the compressed one.
        using (var view = _db.Store.BeginRead())
        {
            Assert.True(view.TryGetEvent(profile.LevId, out var old));
            var random = new Random(12);
            var newer = TestEvent.Create(random, old.PubKey.ToArray(), old.CreatedAt + 1, 0);
            var results = new WriteResult[1];
            _db.Store.WriteBatch(new[] { new WriteItem(newer.Pack(), "{\"newer\":true}"u8.ToArray()) }, results, durable: false, TestEvent.Now);
            Assert.Equal(WriteStatus.Stored, results[0].Status);
        }

        using var after = _db.Store.BeginRead();
        Assert.False(after.TryGetPayload(note.LevId, out _));
        Assert.False(after.TryGetPayload(profile.LevId, out _));
        Assert.Equal(events.Count - 2, compression.Stats().CompressedEvents);
        Assert.Equal(events.Count - 2, after.Transaction.GetEntriesCount(after.Databases.CompressedPayloads));
        Assert.Equal(1, after.Transaction.GetEntriesCount(after.Databases.Payloads));
    }

    [Fact]
    public void Decompress_restores_the_exact_raw_values()
    {
        var events = NoteCorpus.Write(_db, count: 300, seed: 4);
        var compression = new PayloadCompression(_db.Store);
        uint dictId = compression.Train(new TrainOptions { DictionarySize = 8 * 1024 }).DictId;
        compression.Compress(new CompressOptions { DictId = dictId });
        Assert.Equal(300, compression.Stats().CompressedEvents);

        var undone = compression.Decompress(new DecompressOptions { BatchSize = 7 });

        Assert.Equal(300, undone.Rewritten);
        Assert.Equal(0, compression.Stats().CompressedEvents);
        using var view = _db.Store.BeginRead();
        foreach (var (levId, json, _) in events)
        {
            Assert.True(view.TryGetStoredPayload(levId, out var stored));
            Assert.True(stored.SequenceEqual(json));
        }
    }

    [Fact]
    public void Reading_compressed_payloads_allocates_nothing_once_warm()
    {
        var events = NoteCorpus.Write(_db, count: 300, seed: 13);
        var compression = new PayloadCompression(_db.Store);
        uint dictId = compression.Train(new TrainOptions { DictionarySize = 8 * 1024 }).DictId;
        compression.Compress(new CompressOptions { DictId = dictId });
        using var view = _db.Store.BeginRead();
        long total = 0;
        foreach (var e in events) total += view.TryGetPayload(e.LevId, out var json) ? json.Length : 0;

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 3; round++)
        {
            foreach (var e in events) total += view.TryGetPayload(e.LevId, out var json) ? json.Length : 0;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(total > 0);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Payloads_that_would_not_shrink_stay_raw()
    {
        var random = new Random(5);
        var pubKey = TestEvent.Key(random);
        var items = Enumerable.Range(0, 20)
            .Select(i => new WriteItem(TestEvent.Create(random, pubKey, 1000 + i, 1).Pack(), Encoding.ASCII.GetBytes($"{{\"n\":{i}}}")))
            .ToArray();
        _db.Store.WriteBatch(items, new WriteResult[items.Length], durable: false, TestEvent.Now);

        var result = new PayloadCompression(_db.Store).Compress(new CompressOptions { DictId = StoredPayload.NoDictionary });

        // A few bytes of JSON: a zstd frame plus the 5-byte header is always longer.
        Assert.Equal(20, result.Matched);
        Assert.Equal(20, result.KeptRaw);
        Assert.Equal(0, result.Rewritten);
        Assert.Equal(result.StoredBytesBefore, result.StoredBytesAfter);
    }

    [Fact]
    public void Compressed_payloads_survive_a_reopen_and_are_read_on_many_threads_at_once()
    {
        var events = NoteCorpus.Write(_db, count: 400, seed: 6);
        var compression = new PayloadCompression(_db.Store);
        uint a = compression.Train(new TrainOptions { DictionarySize = 8 * 1024, Filter = Filters.Build(kinds: new[] { 1 }) }).DictId;
        uint b = compression.Train(new TrainOptions { DictionarySize = 4 * 1024, Filter = Filters.Build(kinds: new[] { 7 }) }).DictId;
        compression.Compress(new CompressOptions { DictId = a, Filter = Filters.Build(kinds: new[] { 1 }) });
        compression.Compress(new CompressOptions { DictId = b, Filter = Filters.Build(kinds: new[] { 7 }) });
        _db.Reopen();

        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            using var view = _db.Store.BeginRead();
            for (int round = 0; round < 3; round++)
            {
                foreach (var (levId, json, _) in events)
                {
                    if (!view.TryGetPayload(levId, out var read) || !read.SequenceEqual(json)) failures.Add($"thread {t} levId {levId}");
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Empty(failures);
    }

    [Fact]
    public void A_payload_naming_a_missing_dictionary_fails_with_a_clear_error()
    {
        var events = NoteCorpus.Write(_db, count: 50, seed: 7);
        var compression = new PayloadCompression(_db.Store);
        compression.Compress(new CompressOptions { DictId = StoredPayload.NoDictionary });
        // Point the first payload at dictionary 99, which does not exist.
        ulong levId = events[0].LevId;
        _db.Store.RunMaintenance(txn =>
        {
            var key = new byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(key, levId);
            var (_, _, value) = txn.Get(_db.Store.Databases.CompressedPayloads, key);
            var bytes = value.AsSpan().ToArray();
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(1), 99);
            txn.Put(_db.Store.Databases.CompressedPayloads, key, bytes, PutOptions.None).ThrowOnError();
            return true;
        });

        using var view = _db.Store.BeginRead();
        var error = Assert.Throws<PayloadFormatException>(() => view.TryGetPayload(levId, out _));
        Assert.Contains("dictionary 99", error.Message);
        Assert.True(view.TryGetPayload(events[1].LevId, out var other) && other.SequenceEqual(events[1].Json));
    }

    [Fact]
    public void Training_on_too_little_material_is_refused()
    {
        NoteCorpus.Write(_db, count: 5, seed: 8);
        var error = Assert.Throws<InvalidOperationException>(() => new PayloadCompression(_db.Store).Train(new TrainOptions()));
        Assert.Contains("not enough material", error.Message);
        Assert.Empty(new PayloadCompression(_db.Store).ListDictionaries());
    }

    [Fact]
    public void Compressing_with_an_unknown_dictionary_is_refused()
    {
        NoteCorpus.Write(_db, count: 5, seed: 9);
        var error = Assert.Throws<ArgumentException>(() => new PayloadCompression(_db.Store).Compress(new CompressOptions { DictId = 3 }));
        Assert.Contains("no dictionary 3", error.Message);
    }

    private List<string> RunAll(IReadOnlyList<Filter> filters)
    {
        using var view = _db.Store.BeginRead();
        var results = new List<string>();
        foreach (var filter in filters)
        {
            var sink = new CollectingSink();
            QueryEngine.Run(view, new[] { filter }, 500, TestEvent.Now, sink);
            results.Add(string.Join("\n", sink.LevIds.Zip(sink.Ids, (l, j) => $"{l} {j}")));
        }
        return results;
    }
}

/// <summary>Events with realistic JSON payloads (notes, reactions, profiles) for compression tests.</summary>
internal static class NoteCorpus
{
    private static readonly string[] Words =
        "the a nostr relay zap sats bitcoin good morning gm pv note today just think about people here what is this love coffee week time world build".Split(' ');

    public sealed record Stored(ulong LevId, byte[] Json, int Kind);

    public static List<Stored> Write(TempStore db, int count, int seed)
    {
        var random = new Random(seed);
        var authors = Enumerable.Range(0, 20).Select(_ => TestEvent.Key(random)).ToArray();
        var written = new List<Stored>();
        var batch = new List<(TestEvent Event, byte[] Json)>();
        for (int i = 0; i < count; i++)
        {
            int kind = (i % 10) switch { 0 => 0, < 4 => 7, _ => 1 };
            // Profiles get their own author each, so none replaces another and every event stays stored.
            var author = kind == 0 ? TestEvent.Key(random) : authors[random.Next(authors.Length)];
            var target = TestEvent.Key(random);
            var ev = kind == 7
                ? TestEvent.Create(random, author, 1_700_000_000 + i, kind, 0, ('e', Convert.ToHexStringLower(target)), ('p', Convert.ToHexStringLower(author)))
                : TestEvent.Create(random, author, 1_700_000_000 + i, kind, 0);
            batch.Add((ev, Encoding.UTF8.GetBytes(Json(random, ev, target))));
        }
        var items = batch.Select(b => new WriteItem(b.Event.Pack(), b.Json)).ToArray();
        var results = new WriteResult[items.Length];
        db.Store.WriteBatch(items, results, durable: false, TestEvent.Now);
        for (int i = 0; i < items.Length; i++)
        {
            if (results[i].Status == WriteStatus.Stored) written.Add(new Stored(results[i].LevId, batch[i].Json, batch[i].Event.Kind));
        }
        return written;
    }

    private static string Json(Random random, TestEvent ev, byte[] target)
    {
        string content = ev.Kind switch
        {
            7 => random.Next(3) == 0 ? "🤙" : "+",
            0 => $"{{\\\"name\\\":\\\"{Words[random.Next(Words.Length)]}{random.Next(1000)}\\\",\\\"about\\\":\\\"{Sentence(random, 8)}\\\",\\\"picture\\\":\\\"https://example.com/{random.Next(100000)}.jpg\\\"}}",
            _ => Sentence(random, random.Next(5, 40)),
        };
        string tags = ev.Kind == 7
            ? $"[[\"e\",\"{Convert.ToHexStringLower(target)}\"],[\"p\",\"{ev.PubKeyHex}\"]]"
            : "[]";
        var sig = new byte[64];
        random.NextBytes(sig);
        return $"{{\"content\":\"{content}\",\"created_at\":{ev.CreatedAt},\"id\":\"{ev.IdHex}\",\"kind\":{ev.Kind},\"pubkey\":\"{ev.PubKeyHex}\",\"sig\":\"{Convert.ToHexStringLower(sig)}\",\"tags\":{tags}}}";
    }

    private static string Sentence(Random random, int words) =>
        string.Join(' ', Enumerable.Range(0, words).Select(_ => Words[random.Next(Words.Length)]));

    public static List<Filter> QueryFilters(int count) => new()
    {
        Filters.Build(),
        Filters.Build(kinds: new[] { 1 }, limit: 100),
        Filters.Build(kinds: new[] { 7, 0 }),
        Filters.Build(since: 1_700_000_000 + count / 3, until: 1_700_000_000 + count / 2),
        Filters.Build(tags: new[] { ('e', new[] { "00" }) }),
    };
}
