using System.Diagnostics.Metrics;

namespace Relay.Server.Observability;

/// <summary>A counter the relay bumps itself; <see cref="Add"/> is one interlocked instruction.</summary>
internal sealed class MetricCounter(string name, string help, string? unit = null) : Metric(name, help, unit)
{
    private long _value;

    public long Value => Volatile.Read(ref _value);

    public void Add(long delta) => Interlocked.Add(ref _value, delta);

    internal override void WritePrometheus(PrometheusText text)
    {
        text.Family(Name, Help, "counter");
        text.Sample(Name, Value);
    }

    internal override void Publish(Meter meter) => meter.CreateObservableCounter(Name, () => Value, Unit, Help);
}

/// <summary>A value that goes up and down, kept by the relay (e.g. authenticated connections).</summary>
internal sealed class MetricGauge(string name, string help, string? unit = null) : Metric(name, help, unit)
{
    private long _value;

    public long Value => Volatile.Read(ref _value);

    public void Add(long delta) => Interlocked.Add(ref _value, delta);

    public void Set(long value) => Volatile.Write(ref _value, value);

    internal override void WritePrometheus(PrometheusText text)
    {
        text.Family(Name, Help, "gauge");
        text.Sample(Name, Value);
    }

    internal override void Publish(Meter meter) => meter.CreateObservableGauge(Name, () => Value, Unit, Help);
}

/// <summary>A counter or gauge read from somewhere else when asked (the GC, the transport, the store).</summary>
internal sealed class ObservedMetric(string name, string help, bool isCounter, Func<long> read, string? unit = null) : Metric(name, help, unit)
{
    public long Value => read();

    internal override void WritePrometheus(PrometheusText text)
    {
        text.Family(Name, Help, isCounter ? "counter" : "gauge");
        text.Sample(Name, read());
    }

    internal override void Publish(Meter meter)
    {
        if (isCounter) meter.CreateObservableCounter(Name, read, Unit, Help);
        else meter.CreateObservableGauge(Name, read, Unit, Help);
    }
}

/// <summary>
/// Count and sum of observations, a Prometheus summary without quantiles (strfry_write_batch_size).
/// The Meter side is a histogram, recorded only while a listener is attached.
/// </summary>
internal sealed class MetricSummary(string name, string help, string? unit = null) : Metric(name, help, unit)
{
    private long _count, _sum;
    private Histogram<long>? _instrument;

    public long Count => Volatile.Read(ref _count);
    public long Sum => Volatile.Read(ref _sum);

    public void Record(long value)
    {
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sum, value);
        if (_instrument is { Enabled: true } h) h.Record(value);
    }

    internal override void WritePrometheus(PrometheusText text)
    {
        text.Family(Name, Help, "summary");
        // Sum before count: a scrape racing a Record then never shows a mean above the real one.
        long sum = Sum;
        text.Sample(Name + "_sum", sum);
        text.Sample(Name + "_count", Count);
    }

    internal override void Publish(Meter meter) => _instrument = meter.CreateHistogram<long>(Name, Unit, Help);
}

/// <summary>A labelled counter read from somewhere else when asked (GC collections per generation).</summary>
internal sealed class ObservedLabelledCounter(string name, string help, string label, string[] values, Func<int, long> read, string? unit = null)
    : Metric(name, help, unit)
{
    internal override void WritePrometheus(PrometheusText text)
    {
        text.Family(Name, Help, "counter");
        for (int i = 0; i < values.Length; i++) text.Sample(Name, label, values[i], read(i));
    }

    internal override void Publish(Meter meter) => meter.CreateObservableCounter(Name, Observe, Unit, Help);

    private IEnumerable<Measurement<long>> Observe()
    {
        var measurements = new Measurement<long>[values.Length];
        for (int i = 0; i < values.Length; i++) measurements[i] = new Measurement<long>(read(i), new KeyValuePair<string, object?>(label, values[i]));
        return measurements;
    }
}
