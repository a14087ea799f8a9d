using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using Relay.Native.Storage;

namespace Relay.Benchmarks;

/// <summary>
/// The writer thread's group commit: one <see cref="EventStore.WriteBatch(ReadOnlySpan{WriteItem}, Span{WriteResult}, bool)"/>
/// of 256 realistic events (all indexes, ~500-byte JSON). Reported per event. Not durable is the
/// relay's normal path (sync follows separately); durable shows what an fsync per batch costs on
/// this disk.
/// </summary>
[MemoryDiagnoser]
public class StorageWriteBenchmarks
{
    private const int BatchSize = 256;

    private string _directory = "";
    private EventStore _store = null!;
    private WriteItem[] _batch = [];
    private readonly WriteResult[] _results = new WriteResult[BatchSize];
    private long _generation;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "relay-bench-write-" + Guid.NewGuid().ToString("N"));
        _store = EventStore.Open(new StoreOptions { Path = _directory, MapSize = 16L << 30 });
        var sample = new StorageSampleEvents(seed: 1);
        _batch = Enumerable.Range(0, BatchSize).Select(sample.Next).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public ulong Write_batch_of_256_no_sync() => Write(durable: false);

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public ulong Write_batch_of_256_durable() => Write(durable: true);

    private ulong Write(bool durable)
    {
        // Fresh ids each time (the store would answer "duplicate" otherwise); the JSON keeps the
        // old id, which the store does not look at.
        long generation = ++_generation;
        foreach (var item in _batch)
            BinaryPrimitives.WriteInt64LittleEndian(System.Runtime.InteropServices.MemoryMarshal.AsMemory(item.Packed).Span, generation);
        _store.WriteBatch(_batch, _results, durable);
        if (_results[0].Status != WriteStatus.Stored) throw new InvalidOperationException($"batch not stored: {_results[0].Status}");
        return _results[BatchSize - 1].LevId;
    }
}
