using System.Diagnostics;
using HdrHistogram;

namespace Relay.Load.Reporting;

/// <summary>Latency percentiles in microseconds (HdrHistogram, 3 significant digits), safe to record from any thread.</summary>
public sealed class LatencyRecorder
{
    private const long HighestMicros = 120_000_000; // 2 minutes: longer than any per-message timeout
    private readonly LongHistogram _histogram = new(1, HighestMicros, 3);
    private readonly Lock _lock = new();
    private long _min = long.MaxValue;

    public void RecordSince(long startTimestamp) => RecordMicros(MicrosSince(startTimestamp));

    public void RecordMicros(long micros)
    {
        micros = Math.Clamp(micros, 1, HighestMicros);
        lock (_lock)
        {
            _histogram.RecordValue(micros);
            if (micros < _min) _min = micros;
        }
    }

    public static long MicrosSince(long startTimestamp) =>
        (long)((Stopwatch.GetTimestamp() - startTimestamp) * 1_000_000.0 / Stopwatch.Frequency);

    public LatencySummary Summarize()
    {
        lock (_lock)
        {
            long count = _histogram.TotalCount;
            if (count == 0) return new LatencySummary(0, 0, 0, 0, 0, 0, 0, 0, 0);
            return new LatencySummary(count,
                _min / 1000.0,
                _histogram.GetMean() / 1000.0,
                _histogram.GetValueAtPercentile(50) / 1000.0,
                _histogram.GetValueAtPercentile(75) / 1000.0,
                _histogram.GetValueAtPercentile(95) / 1000.0,
                _histogram.GetValueAtPercentile(99) / 1000.0,
                _histogram.GetValueAtPercentile(99.9) / 1000.0,
                _histogram.GetMaxValue() / 1000.0);
        }
    }
}

/// <summary>Latency statistics in milliseconds.</summary>
public sealed record LatencySummary(long Count, double MinMs, double MeanMs, double P50Ms, double P75Ms, double P95Ms, double P99Ms, double P999Ms, double MaxMs);
