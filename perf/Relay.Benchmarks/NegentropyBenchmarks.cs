using System.Buffers.Binary;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Relay.Native.Events;
using Relay.Native.Negentropy;
using Relay.Native.Storage;

namespace Relay.Benchmarks;

/// <summary>
/// What keeping negentropy trees costs the writer: a 256-event group commit (no sync) into a store
/// of 100k events with no tree, the default tree <c>{}</c>, or <c>{}</c> plus two kind trees.
/// Append: created_at grows like live traffic (the trees' right edge). Scattered: every batch
/// lands at the same old timestamps, so it touches ~256 different leaves (the worst case).
/// </summary>
[MemoryDiagnoser]
public class NegentropyWriteBenchmarks
{
    private const int BatchSize = 256;
    private const int Prefill = 100_000;

    [Params(0, 1, 3)]
    public int Trees;

    [Params("append", "scattered")]
    public string Pattern = "append";

    private string _directory = "";
    private EventStore _store = null!;
    private WriteItem[] _batch = [];
    private readonly WriteResult[] _results = new WriteResult[BatchSize];
    private long _generation;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "relay-bench-neg-" + Guid.NewGuid().ToString("N"));
        _store = EventStore.Open(new StoreOptions { Path = _directory, MapSize = 16L << 30 });
        var trees = new NegentropyTrees(_store);
        if (Trees == 0) trees.Remove(NegentropyTrees.DefaultTreeId);
        if (Trees >= 3)
        {
            trees.Build(trees.Add("{\"kinds\":[1]}"));
            trees.Build(trees.Add("{\"kinds\":[7]}"));
        }
        var sample = new StorageSampleEvents(seed: 2);
        var results = new WriteResult[BatchSize];
        for (int start = 0; start < Prefill; start += BatchSize)
        {
            var prefill = Enumerable.Range(start, BatchSize).Select(sample.Next).ToArray();
            _store.WriteBatch(prefill, results, durable: false);
        }
        _batch = Enumerable.Range(Prefill, BatchSize).Select(sample.Next).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public ulong Write_batch_of_256_no_sync()
    {
        long generation = ++_generation;
        foreach (var item in _batch)
        {
            var packed = MemoryMarshal.AsMemory(item.Packed).Span;
            // A fresh id each time (else: duplicate); for appends also a fresh, later created_at.
            BinaryPrimitives.WriteInt64LittleEndian(packed, generation);
            if (Pattern == "append")
                BinaryPrimitives.WriteInt64LittleEndian(packed.Slice(64), BinaryPrimitives.ReadInt64LittleEndian(packed.Slice(64)) + BatchSize * 3);
        }
        _store.WriteBatch(_batch, _results, durable: false);
        if (_results[0].Status != WriteStatus.Stored) throw new InvalidOperationException($"batch not stored: {_results[0].Status}");
        return _results[BatchSize - 1].LevId;
    }
}

/// <summary>
/// The relay answering NIP-77: the reply to a client's initial message from the 100k-event default
/// tree (16 bucket fingerprints, O(log n) node reads each) and from the same set as a vector; and a
/// whole sync in which the client lacks 1% and has 1% the relay lacks.
/// </summary>
[MemoryDiagnoser]
public class NegentropyReconcileBenchmarks
{
    private const int Size = 100_000;

    private string _directory = "";
    private EventStore _store = null!;
    private NegentropyVector _relaySet = null!;
    private NegentropyVector _clientSet = null!;
    private byte[] _initial = [];
    private readonly NegentropyResponder _responder = new();

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "relay-bench-negr-" + Guid.NewGuid().ToString("N"));
        _store = EventStore.Open(new StoreOptions { Path = _directory, MapSize = 16L << 30 });
        var sample = new StorageSampleEvents(seed: 3);
        var results = new WriteResult[1000];
        var relayItems = new List<NegItem>(Size);
        for (int start = 0; start < Size; start += 1000)
        {
            var batch = Enumerable.Range(start, 1000).Select(sample.Next).ToArray();
            _store.WriteBatch(batch, results, durable: false);
            foreach (var item in batch)
            {
                var ev = new PackedEvent(item.Packed.Span);
                relayItems.Add(new NegItem((ulong)ev.CreatedAt, ev.Id));
            }
        }
        _relaySet = NegentropyVector.FromUnsorted(relayItems);
        var random = new Random(4);
        var clientItems = relayItems.Where((_, i) => i % 100 != 0).ToList();
        for (int i = 0; i < Size / 100; i++)
        {
            var id = new byte[32];
            random.NextBytes(id);
            clientItems.Add(new NegItem(relayItems[random.Next(Size)].Timestamp, id));
        }
        _clientSet = NegentropyVector.FromUnsorted(clientItems);
        _initial = new NegentropyClient(_clientSet).Initiate().ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public int Reply_to_initial_message_from_tree()
    {
        using var view = _store.BeginRead();
        _responder.Respond(NegentropyTree.Open(view, NegentropyTrees.DefaultTreeId), _initial);
        return _responder.Reply.Length;
    }

    [Benchmark]
    public int Reply_to_initial_message_from_vector()
    {
        _responder.Respond(_relaySet, _initial);
        return _responder.Reply.Length;
    }

    [Benchmark]
    public int Whole_sync_1pct_each_way_from_tree()
    {
        var client = new NegentropyClient(_clientSet);
        var have = new List<Bytes32>();
        var need = new List<Bytes32>();
        ReadOnlySpan<byte> message = client.Initiate();
        int rounds = 0;
        while (true)
        {
            rounds++;
            using (var view = _store.BeginRead())
                _responder.Respond(NegentropyTree.Open(view, NegentropyTrees.DefaultTreeId), message);
            client.Reconcile(_responder.Reply, have, need);
            if (client.IsComplete) break;
            message = client.NextMessage;
        }
        if (have.Count != Size / 100 || need.Count != Size / 100) throw new InvalidOperationException($"have {have.Count} need {need.Count}");
        return rounds;
    }
}

/// <summary>
/// <see cref="NegentropyWriteBenchmarks"/> as CPU time instead of wall time: on a shared, loaded
/// machine wall-clock means swing by more than the trees cost, while the writer thread's own CPU
/// time (CLOCK_THREAD_CPUTIME_ID) does not. The configurations' batches are interleaved so that
/// whatever disturbs one disturbs all. Run: <c>dotnet run -c Release --project perf/Relay.Benchmarks -- negentropy-writer-cpu</c>.
/// </summary>
internal static partial class NegentropyWriterCpu
{
    private const int BatchSize = 256, Prefill = 100_000, Rounds = 300, WarmupRounds = 20;

    public static void Run()
    {
        int[] treeCounts = [0, 1, 3];
        foreach (string pattern in new[] { "append", "scattered" })
        {
            var stores = new List<(int Trees, EventStore Store, WriteItem[] Batch, string Dir)>();
            foreach (int trees in treeCounts)
            {
                string dir = Path.Combine(Path.GetTempPath(), "relay-neg-cpu-" + Guid.NewGuid().ToString("N"));
                var store = EventStore.Open(new StoreOptions { Path = dir, MapSize = 16L << 30 });
                var registry = new NegentropyTrees(store);
                if (trees == 0) registry.Remove(NegentropyTrees.DefaultTreeId);
                if (trees >= 3)
                {
                    registry.Build(registry.Add("{\"kinds\":[1]}"));
                    registry.Build(registry.Add("{\"kinds\":[7]}"));
                }
                var sample = new StorageSampleEvents(seed: 2);
                var prefillResults = new WriteResult[BatchSize];
                for (int start = 0; start < Prefill; start += BatchSize)
                    store.WriteBatch(Enumerable.Range(start, BatchSize).Select(sample.Next).ToArray(), prefillResults, durable: false);
                stores.Add((trees, store, Enumerable.Range(Prefill, BatchSize).Select(sample.Next).ToArray(), dir));
            }

            var cpu = new double[stores.Count];
            var results = new WriteResult[BatchSize];
            for (int round = 1; round <= Rounds; round++)
            {
                for (int s = 0; s < stores.Count; s++)
                {
                    var (_, store, batch, _) = stores[s];
                    foreach (var item in batch)
                    {
                        var packed = MemoryMarshal.AsMemory(item.Packed).Span;
                        BinaryPrimitives.WriteInt64LittleEndian(packed, round);
                        if (pattern == "append")
                            BinaryPrimitives.WriteInt64LittleEndian(packed.Slice(64), BinaryPrimitives.ReadInt64LittleEndian(packed.Slice(64)) + BatchSize * 3);
                    }
                    double before = ThreadCpuSeconds();
                    store.WriteBatch(batch, results, durable: false);
                    double after = ThreadCpuSeconds();
                    if (results[0].Status != WriteStatus.Stored) throw new InvalidOperationException($"batch not stored: {results[0].Status}");
                    if (round > WarmupRounds) cpu[s] += after - before;
                }
            }
            for (int s = 0; s < stores.Count; s++)
            {
                Console.WriteLine($"{pattern,-9} trees={stores[s].Trees}: {cpu[s] / ((Rounds - WarmupRounds) * BatchSize) * 1e6:F2} us writer CPU per event");
                stores[s].Store.Dispose();
                Directory.Delete(stores[s].Dir, recursive: true);
            }
        }
    }

    private static double ThreadCpuSeconds()
    {
        const int ClockThreadCpuTimeId = 3;
        if (ClockGetTime(ClockThreadCpuTimeId, out var ts) != 0) throw new InvalidOperationException("clock_gettime failed");
        return ts.Seconds + ts.Nanoseconds * 1e-9;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec ts);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
