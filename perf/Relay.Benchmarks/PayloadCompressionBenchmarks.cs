using System.Buffers.Binary;
using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using LightningDB;
using Relay.Native.Events;
using Relay.Native.Query;
using Relay.Native.Storage;
using Relay.Native.Storage.Payloads;

namespace Relay.Benchmarks;

/// <summary>
/// The same REQs against two copies of one store: payloads raw (as the writer stores them) and
/// every payload zstd-compressed with a dictionary trained on it (what <c>relay dict</c> makes).
/// The events are realistic signed ones from <c>perf/Relay.Load -- generate</c> (varied content, so
/// compression is not flattered by repeated text); the file is named by RELAY_BENCH_EVENTS:
/// <code>
/// dotnet run -c Release --project perf/Relay.Load -- generate --out /tmp/events-100k.bin --count 100000 --seed 42
/// RELAY_BENCH_EVENTS=/tmp/events-100k.bin dotnet run -c Release --project perf/Relay.Benchmarks -- --filter '*PayloadCompressionBenchmarks*' --job short
/// </code>
/// The stores are built once per events file and kept in the temp directory; the setup prints
/// stored bytes per event for both (in the benchmark log).
/// </summary>
[MemoryDiagnoser]
public class PayloadCompressionBenchmarks
{
    private const int MaxLimit = 500;

    private EventStore _store = null!;
    private readonly ByteCountingSink _sink = new();
    private Filter[] _byKind = [];
    private Filter[] _byAuthor = [];
    private Filter[] _byETag = [];
    private Filter[] _byIds = [];
    private long _now;

    [Params("raw", "zstd")]
    public string Payloads { get; set; } = "raw";

    [GlobalSetup]
    public void Setup()
    {
        string events = Environment.GetEnvironmentVariable("RELAY_BENCH_EVENTS")
            ?? throw new InvalidOperationException("set RELAY_BENCH_EVENTS to an events file made by `perf/Relay.Load -- generate`");
        var corpus = Corpus.Load(events);
        string root = Path.Combine(Path.GetTempPath(), $"relay-bench-zstd-{Path.GetFileNameWithoutExtension(events)}-{new FileInfo(events).Length}-schema{EventStore.SchemaVersion}");
        string raw = Path.Combine(root, "raw"), zstd = Path.Combine(root, "zstd");
        if (!File.Exists(Path.Combine(root, "complete")))
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
            Build(raw, corpus);
            Directory.CreateDirectory(zstd);
            File.Copy(Path.Combine(raw, "data.mdb"), Path.Combine(zstd, "data.mdb"));
            Compress(zstd);
            Report("raw", raw);
            Report("zstd", zstd);
            File.WriteAllText(Path.Combine(root, "complete"), "");
        }
        _store = EventStore.Open(new StoreOptions { Path = Payloads == "raw" ? raw : zstd, MapSize = 16L << 30 });
        _now = corpus.GeneratedAt;

        _byKind = [new Filter { Kinds = [1], Limit = 500 }.Normalize()];
        _byAuthor = [new Filter { Authors = [corpus.MostActiveAuthor], Limit = 100 }.Normalize()];
        _byETag = [new Filter { Tags = [new TagCondition((byte)'e', [corpus.MostReferencedEvent])] }.Normalize()];
        _byIds = [new Filter { Ids = Enumerable.Range(0, 20).Select(i => corpus.Ids[i * (corpus.Ids.Count / 20)]).ToArray() }.Normalize()];
        foreach (var (name, filters) in new[] { ("kind 1", _byKind), ("author", _byAuthor), ("#e", _byETag), ("ids", _byIds) })
        {
            Run(filters);
            Console.WriteLine($"// {Payloads} {name}: {_sink.Events} events, {_sink.Bytes} bytes of JSON");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _store.Dispose();

    [Benchmark]
    public long Kind_1_limit_500() => Run(_byKind);

    [Benchmark]
    public long Author_limit_100() => Run(_byAuthor);

    [Benchmark]
    public long E_tag_of_most_referenced() => Run(_byETag);

    [Benchmark]
    public long Ids_20() => Run(_byIds);

    private long Run(Filter[] filters)
    {
        _sink.Reset();
        using var view = _store.BeginRead();
        QueryEngine.Run(view, filters, MaxLimit, _now, _sink);
        return _sink.Bytes;
    }

    private static void Build(string path, Corpus corpus)
    {
        using var store = EventStore.Open(new StoreOptions { Path = path, MapSize = 16L << 30 });
        var results = new WriteResult[1024];
        for (int i = 0; i < corpus.Items.Count; i += results.Length)
        {
            var batch = corpus.Items.GetRange(i, Math.Min(results.Length, corpus.Items.Count - i)).ToArray();
            store.WriteBatch(batch, results, durable: false, corpus.GeneratedAt);
        }
        store.Sync();
    }

    private static void Compress(string path)
    {
        using var store = EventStore.Open(new StoreOptions { Path = path, MapSize = 16L << 30 });
        var compression = new PayloadCompression(store);
        var clock = Stopwatch.StartNew();
        var trained = compression.Train(new TrainOptions { SampleLimit = 20_000, DictionarySize = 100_000 });
        Console.WriteLine($"// trained dictionary {trained.DictId}: {trained.DictionarySize} bytes from {trained.Samples} payloads ({trained.SampleBytes} bytes) in {clock.Elapsed.TotalSeconds:F1} s");
        clock.Restart();
        var result = compression.Compress(new CompressOptions { DictId = trained.DictId, Level = 3 });
        Console.WriteLine($"// compressed {result.Rewritten} of {result.Matched} payloads ({result.KeptRaw} kept raw) in {clock.Elapsed.TotalSeconds:F1} s");
        store.Sync();
    }

    private static void Report(string name, string path)
    {
        PayloadStats stats;
        using (var store = EventStore.Open(new StoreOptions { Path = path, MapSize = 16L << 30 })) stats = new PayloadCompression(store).Stats();
        long file = new FileInfo(Path.Combine(path, "data.mdb")).Length;
        // LMDB never shrinks its file (freed pages are reused by later writes); a compacting copy
        // (what `relay compact` would make) shows the size the freed pages are worth.
        string copy = path + "-compacted";
        Directory.CreateDirectory(copy);
        using (var env = new LightningEnvironment(path, new EnvironmentConfiguration { MaxDatabases = 32, MapSize = 16L << 30 }))
        {
            env.Open(EnvironmentOpenFlags.ReadOnly);
            env.CopyTo(copy, compact: true).ThrowOnError();
        }
        long compacted = new FileInfo(Path.Combine(copy, "data.mdb")).Length;
        Directory.Delete(copy, recursive: true);
        double n = stats.Events;
        Console.WriteLine(
            $"// {name}: {stats.Events} events, JSON {stats.OriginalBytes / n:F0} B/event, stored values {stats.StoredBytes / n:F0} B/event, " +
            $"payload database pages {stats.PayloadDatabaseBytes / n:F0} B/event, data.mdb {file / n:F0} B/event, compacted copy {compacted / n:F0} B/event");
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

    /// <summary>A relay-load events file parsed into write items (normalized JSON + packed record).</summary>
    private sealed class Corpus
    {
        public List<WriteItem> Items { get; } = new();
        public List<Bytes32> Ids { get; } = new();
        public long GeneratedAt { get; private set; }
        public Bytes32 MostActiveAuthor { get; private set; }
        public byte[] MostReferencedEvent { get; private set; } = [];

        public static Corpus Load(string path)
        {
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length < 48 || !bytes.AsSpan(0, 8).SequenceEqual("RLYEVT01"u8)) throw new InvalidDataException($"{path} is not a relay-load events file");
            var corpus = new Corpus { GeneratedAt = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(32)) };
            var authors = new Dictionary<Bytes32, int>();
            var references = new Dictionary<string, int>();
            int position = 48;
            while (position + 4 <= bytes.Length)
            {
                int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(position));
                var json = bytes.AsSpan(position + 4, length);
                position += 4 + length;
                var packed = new byte[EventParser.MaxPackedSize(length)];
                var normalized = new byte[EventParser.MaxJsonSize(length)];
                if (EventParser.Parse(json, EventLimits.Default, corpus.GeneratedAt, packed, out int packedLength, normalized, out int jsonLength, out var header, out var error) != EventParseStatus.Ok)
                    throw new InvalidDataException($"event {corpus.Items.Count} does not parse: {error}");
                corpus.Items.Add(new WriteItem(packed.AsMemory(0, packedLength), normalized.AsMemory(0, jsonLength)));
                corpus.Ids.Add(header.Id);
                authors[header.PubKey] = authors.GetValueOrDefault(header.PubKey) + 1;
                foreach (var tag in new PackedEvent(packed.AsSpan(0, packedLength)).Tags)
                {
                    if (tag.Letter != (byte)'e') continue;
                    string value = System.Text.Encoding.ASCII.GetString(tag.Value);
                    references[value] = references.GetValueOrDefault(value) + 1;
                }
            }
            corpus.MostActiveAuthor = authors.MaxBy(a => a.Value).Key;
            corpus.MostReferencedEvent = System.Text.Encoding.ASCII.GetBytes(references.MaxBy(r => r.Value).Key);
            return corpus;
        }
    }
}
