using System.Diagnostics.Metrics;

namespace Relay.Server.Observability;

/// <summary>
/// A counter with one label drawn from a small fixed set (a message verb), indexed by position, so
/// counting needs no lookup and no label object. Each label's cell has a cache line of its own: the
/// ingesters, the writer, the syncer and the workers count messages at the same time.
/// </summary>
internal sealed class LabelledCounter : Metric
{
    private const int Stride = 8;   // longs per 64-byte cache line
    private readonly long[] _cells;
    private readonly KeyValuePair<string, object?>[][] _tags;

    public LabelledCounter(string name, string help, string label, string[] values, string? unit = null) : base(name, help, unit)
    {
        Label = label;
        Values = values;
        _cells = new long[values.Length * Stride];
        _tags = new KeyValuePair<string, object?>[values.Length][];
        for (int i = 0; i < values.Length; i++) _tags[i] = [new(label, values[i])];
    }

    public string Label { get; }
    public IReadOnlyList<string> Values { get; }

    public void Add(int index) => Interlocked.Increment(ref _cells[index * Stride]);

    public long this[int index] => Volatile.Read(ref _cells[index * Stride]);

    /// <summary>The count for a label value, e.g. "EVENT"; 0 for a value the set does not have.</summary>
    public long this[string value]
    {
        get
        {
            for (int i = 0; i < Values.Count; i++)
                if (Values[i] == value) return this[i];
            return 0;
        }
    }

    internal override void WritePrometheus(PrometheusText text)
    {
        text.Family(Name, Help, "counter");
        // Every label from the start: a series that appears only at its first increment hides that
        // increment from rate().
        for (int i = 0; i < Values.Count; i++) text.Sample(Name, Label, Values[i], this[i]);
    }

    internal override void Publish(Meter meter) => meter.CreateObservableCounter(Name, Observe, Unit, Help);

    private IEnumerable<Measurement<long>> Observe()
    {
        var measurements = new Measurement<long>[Values.Count];
        for (int i = 0; i < measurements.Length; i++) measurements[i] = new Measurement<long>(this[i], _tags[i]);
        return measurements;
    }
}
