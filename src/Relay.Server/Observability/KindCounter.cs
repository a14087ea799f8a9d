using System.Diagnostics.Metrics;

namespace Relay.Server.Observability;

/// <summary>
/// nostr_events_total{kind}: one cell per event kind (0-65535, NIP-01's range, which the parser
/// enforces). Cells come in blocks of 256 kinds made on first use, so the few kinds a relay sees cost
/// a few KB rather than 512 KB; after that, counting is one interlocked add with no label object.
/// The label strings are made when an exporter first reads a kind, never on the write path.
/// </summary>
internal sealed class KindCounter(string name, string help, string? unit = null) : Metric(name, help, unit)
{
    private const int BlockBits = 8;
    private const int BlockSize = 1 << BlockBits;
    private const int Blocks = 65536 / BlockSize;
    private readonly Block?[] _blocks = new Block?[Blocks];

    private sealed class Block
    {
        public readonly long[] Counts = new long[BlockSize];
        public readonly string?[] Labels = new string?[BlockSize];
    }

    public void Add(int kind)
    {
        if ((uint)kind > ushort.MaxValue) return;
        var block = Volatile.Read(ref _blocks[kind >> BlockBits]) ?? NewBlock(kind >> BlockBits);
        Interlocked.Increment(ref block.Counts[kind & (BlockSize - 1)]);
    }

    public long this[int kind]
    {
        get
        {
            if ((uint)kind > ushort.MaxValue) return 0;
            var block = Volatile.Read(ref _blocks[kind >> BlockBits]);
            return block is null ? 0 : Volatile.Read(ref block.Counts[kind & (BlockSize - 1)]);
        }
    }

    private Block NewBlock(int index)
    {
        var block = new Block();
        return Interlocked.CompareExchange(ref _blocks[index], block, null) ?? block;
    }

    internal override void WritePrometheus(PrometheusText text)
    {
        text.Family(Name, Help, "counter");
        ForEachSeen((label, count) => text.Sample(Name, "kind", label, count));
    }

    internal override void Publish(Meter meter) => meter.CreateObservableCounter(Name, Observe, Unit, Help);

    private IEnumerable<Measurement<long>> Observe()
    {
        var measurements = new List<Measurement<long>>();
        ForEachSeen((label, count) => measurements.Add(new Measurement<long>(count, new KeyValuePair<string, object?>("kind", label))));
        return measurements;
    }

    /// <summary>Calls <paramref name="visit"/> with the label and count of every kind counted so far, lowest kind first.</summary>
    private void ForEachSeen(Action<string, long> visit)
    {
        for (int b = 0; b < Blocks; b++)
        {
            var block = Volatile.Read(ref _blocks[b]);
            if (block is null) continue;
            for (int i = 0; i < BlockSize; i++)
            {
                long count = Volatile.Read(ref block.Counts[i]);
                if (count == 0) continue;
                // Exporters may run concurrently; two of them making the same string is harmless.
                string label = block.Labels[i] ??= ((b << BlockBits) | i).ToString(System.Globalization.CultureInfo.InvariantCulture);
                visit(label, count);
            }
        }
    }
}
