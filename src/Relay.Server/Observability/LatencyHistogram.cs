using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Relay.Server.Observability;

/// <summary>
/// A latency histogram in seconds with one label (e.g. phase="write"|"fsync"), exported as a
/// Prometheus histogram (<c>_bucket{le}</c>, <c>_sum</c>, <c>_count</c>) and mirrored into a Meter
/// <see cref="Histogram{T}"/> while a listener is attached. Durations are recorded in
/// <see cref="Stopwatch"/> ticks, so the hot path neither converts nor allocates: a few compares to
/// find the bucket and two interlocked adds.
/// </summary>
internal sealed class LatencyHistogram : Metric
{
    /// <summary>Upper bounds in seconds, 1-2.5-5 steps from 5 µs (one signature) to 10 s (a very slow fsync).</summary>
    public static readonly double[] Bounds =
        [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly long[] s_boundTicks = ToTicks(Bounds);
    private static readonly string[] s_le = ToLabels(Bounds);

    private readonly Series[] _series;
    private Histogram<double>? _instrument;

    public LatencyHistogram(string name, string help, string label, string[] values) : base(name, help, "s")
    {
        Label = label;
        _series = new Series[values.Length];
        for (int i = 0; i < values.Length; i++) _series[i] = new Series(this, label, values[i]);
    }

    public string Label { get; }

    public Series this[int index] => _series[index];

    internal override void WritePrometheus(PrometheusText text)
    {
        text.Family(Name, Help, "histogram");
        foreach (var s in _series) s.Write(text, Name, Label);
    }

    internal override void Publish(Meter meter) => _instrument = meter.CreateHistogram<double>(Name, Unit, Help);

    private static long[] ToTicks(double[] seconds)
    {
        var ticks = new long[seconds.Length];
        for (int i = 0; i < seconds.Length; i++) ticks[i] = (long)Math.Round(seconds[i] * Stopwatch.Frequency);
        return ticks;
    }

    private static string[] ToLabels(double[] seconds)
    {
        var labels = new string[seconds.Length + 1];
        for (int i = 0; i < seconds.Length; i++) labels[i] = PrometheusText.Format(seconds[i]);
        labels[^1] = "+Inf";
        return labels;
    }

    /// <summary>The observations of one label value.</summary>
    internal sealed class Series
    {
        private readonly LatencyHistogram _owner;
        // Per bucket, not cumulative: one add per observation; the exporter sums them up.
        private readonly long[] _buckets = new long[Bounds.Length + 1];
        private readonly KeyValuePair<string, object?> _tag;
        private long _sumTicks;

        public Series(LatencyHistogram owner, string label, string value)
        {
            _owner = owner;
            Value = value;
            _tag = new KeyValuePair<string, object?>(label, value);
        }

        public string Value { get; }

        /// <summary>One observation of <paramref name="ticks"/> Stopwatch ticks.</summary>
        public void Record(long ticks)
        {
            Interlocked.Increment(ref _buckets[BucketOf(ticks)]);
            Interlocked.Add(ref _sumTicks, ticks);
            if (_owner._instrument is { Enabled: true } h) h.Record(Seconds(ticks), _tag);
        }

        /// <summary>
        /// <paramref name="count"/> observations that shared <paramref name="totalTicks"/> (events
        /// verified in one batch call): each counts as the mean, and the sum stays exact.
        /// </summary>
        public void RecordEach(long totalTicks, int count)
        {
            if (count <= 0) return;
            long each = totalTicks / count;
            Interlocked.Add(ref _buckets[BucketOf(each)], count);
            Interlocked.Add(ref _sumTicks, totalTicks);
            if (_owner._instrument is { Enabled: true } h)
            {
                double seconds = Seconds(each);
                for (int i = 0; i < count; i++) h.Record(seconds, _tag);
            }
        }

        public long Count
        {
            get
            {
                long n = 0;
                for (int i = 0; i < _buckets.Length; i++) n += Volatile.Read(ref _buckets[i]);
                return n;
            }
        }

        public double SumSeconds => Seconds(Volatile.Read(ref _sumTicks));

        internal void Write(PrometheusText text, string name, string label)
        {
            // Sum first, then buckets: a racing Record can only make the sum lag, never the buckets
            // disagree with each other. +Inf and _count are the same running total, so they match.
            double sum = SumSeconds;
            long cumulative = 0;
            for (int i = 0; i < _buckets.Length; i++)
            {
                cumulative += Volatile.Read(ref _buckets[i]);
                text.Sample(name + "_bucket", label, Value, "le", s_le[i], cumulative);
            }
            text.Sample(name + "_sum", label, Value, sum);
            text.Sample(name + "_count", label, Value, cumulative);
        }

        private static int BucketOf(long ticks)
        {
            var bounds = s_boundTicks;
            int i = 0;
            while (i < bounds.Length && ticks > bounds[i]) i++;
            return i;
        }

        private static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;
    }
}
