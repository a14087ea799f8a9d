using BenchmarkDotNet.Attributes;
using Relay.Native.Events;
using Relay.Native.Query;
using Relay.Native.Storage;

namespace Relay.Benchmarks;

/// <summary>
/// REQs answered from the indexes of a 100k-event store (1000 authors, mostly notes, replies and
/// reactions threaded on popular posts, 50 hashtags, ~3.5 days of created_at). One operation is
/// one REQ: read view, plan, scan, send every event to a sink that only counts bytes.
/// <para>
/// Every benchmark case runs in its own process and builds the store in its GlobalSetup; to keep
/// that to one build, the store is kept in the temp directory (see <see cref="StoreDirectory"/>)
/// and reused while its layout version matches. Delete the directory to rebuild it.
/// </para>
/// </summary>
[MemoryDiagnoser]
public class QueryBenchmarks
{
    private const int EventCount = 100_000;
    private const int MaxLimit = 500;
    private static readonly string StoreDirectory =
        Path.Combine(Path.GetTempPath(), $"relay-bench-query-{EventCount}-schema{EventStore.SchemaVersion}-v1");

    private EventStore _store = null!;
    private readonly ByteCountingSink _sink = new();
    private Filter[] _byAuthor = [];
    private Filter[] _byKind = [];
    private Filter[] _byETag = [];
    private Filter[] _byIds = [];
    private Filter[] _byAuthorsAndKinds = [];
    private Filter[] _timeWindow = [];
    private Filter[] _rareAuthorAndHashtag = [];
    private long _now;

    [GlobalSetup]
    public void Setup()
    {
        var sample = new StorageSampleEvents(seed: 42);
        var items = Enumerable.Range(0, EventCount).Select(sample.Next).ToArray();
        string marker = Path.Combine(StoreDirectory, "complete");
        if (!File.Exists(marker))
        {
            if (Directory.Exists(StoreDirectory)) Directory.Delete(StoreDirectory, recursive: true);
            using (var store = EventStore.Open(new StoreOptions { Path = StoreDirectory, MapSize = 16L << 30 }))
            {
                var results = new WriteResult[1024];
                for (int i = 0; i < items.Length; i += results.Length)
                    store.WriteBatch(items.AsSpan(i, Math.Min(results.Length, items.Length - i)), results, durable: false);
                store.Sync();
            }
            File.WriteAllText(marker, "");
        }
        _store = EventStore.Open(new StoreOptions { Path = StoreDirectory, MapSize = 16L << 30 });
        if (_store.Count != EventCount) throw new InvalidOperationException($"store at {StoreDirectory} holds {_store.Count} events, expected {EventCount}");
        _now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var author = StorageSampleEvents.Author(17);
        _byAuthor = [new Filter { Authors = [author], Limit = 50 }.Normalize()];
        _byKind = [new Filter { Kinds = [1], Limit = 500 }.Normalize()];
        // The first events are the popular thread roots: ~1% of all events reply to or react to one of them.
        _byETag = [new Filter { Tags = [new TagCondition((byte)'e', [SampleEvents.HexOf(sample.Ids[3])])] }.Normalize()];
        _byIds = [new Filter { Ids = Enumerable.Range(0, 10).Select(i => sample.Ids[i * 9_973]).ToArray() }.Normalize()];
        _byAuthorsAndKinds = [new Filter
        {
            Authors = Enumerable.Range(0, 10).Select(StorageSampleEvents.Author).ToArray(),
            Kinds = [1, 6, 7],
            Limit = 100,
        }.Normalize()];
        long middle = StorageSampleEvents.FirstCreatedAt + EventCount * 3L / 2;
        _timeWindow = [new Filter { Since = middle, Until = middle + 3600, Limit = 500 }.Normalize()];
        // The time-slicing case: the tag run is long, and the author rejects nearly all of it.
        _rareAuthorAndHashtag = [new Filter
        {
            Authors = [author],
            Tags = [new TagCondition((byte)'t', [System.Text.Encoding.UTF8.GetBytes(StorageSampleEvents.Hashtags[0])])],
            Limit = 50,
        }.Normalize()];

        // What each REQ returns, for reading the table (shows up in the benchmark log).
        foreach (var (name, filters) in new[] { ("author", _byAuthor), ("kind", _byKind), ("#e", _byETag), ("ids", _byIds),
                     ("authors x kinds", _byAuthorsAndKinds), ("time window", _timeWindow), ("rare author+#t", _rareAuthorAndHashtag) })
        {
            Run(filters);
            Console.WriteLine($"// {name}: {_sink.Events} events, {_sink.Bytes} bytes of JSON");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _store.Dispose();

    [Benchmark]
    public long Author_limit_50() => Run(_byAuthor);

    [Benchmark]
    public long Kind_limit_500() => Run(_byKind);

    [Benchmark]
    public long E_tag_of_popular_post() => Run(_byETag);

    [Benchmark]
    public long Ids_10() => Run(_byIds);

    [Benchmark]
    public long Authors_10_x_kinds_3_limit_100() => Run(_byAuthorsAndKinds);

    [Benchmark]
    public long Time_window_1h_limit_500() => Run(_timeWindow);

    [Benchmark]
    public long Rare_author_and_hashtag() => Run(_rareAuthorAndHashtag);

    [Benchmark]
    public long Count_kind_1_capped_10k()
    {
        using var view = _store.BeginRead();
        return QueryEngine.Count(view, _byKind, _now, 10_000);
    }

    private long Run(Filter[] filters)
    {
        _sink.Reset();
        using var view = _store.BeginRead();
        QueryEngine.Run(view, filters, MaxLimit, _now, _sink);
        return _sink.Bytes;
    }

    private sealed class ByteCountingSink : IQuerySink
    {
        public long Bytes;
        public int Events;

        public void Reset()
        {
            Bytes = 0;
            Events = 0;
        }

        public bool OnEvent(ulong levId, ReadOnlySpan<byte> json)
        {
            Bytes += json.Length;
            Events++;
            return true;
        }
    }
}
