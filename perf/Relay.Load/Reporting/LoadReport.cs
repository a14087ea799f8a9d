namespace Relay.Load.Reporting;

/// <summary>What one scenario run measured; rendered as a console table, JSON and Markdown.</summary>
public sealed class LoadReport(string scenario, string name, string url)
{
    public string Scenario { get; } = scenario;
    public string Name { get; } = name;
    public string Url { get; } = url;
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;
    public TimeSpan Duration { get; set; }
    /// <summary>CPU this tool used during the run: on a small box the load generator competes with the relay.</summary>
    public TimeSpan ClientCpu { get; set; }
    /// <summary>1-minute load average at the start and the end: a busy machine explains a bad run.</summary>
    public double? LoadAverageAtStart { get; } = ReadLoadAverage();
    public double? LoadAverageAtEnd { get; private set; }
    private readonly TimeSpan _cpuAtStart = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;

    public void Finish(TimeSpan duration)
    {
        Duration = duration;
        ClientCpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - _cpuAtStart;
        LoadAverageAtEnd = ReadLoadAverage();
    }
    public long BytesSent { get; set; }
    public long BytesReceived { get; set; }
    public List<KeyValuePair<string, string>> Parameters { get; } = [];
    /// <summary>Named counts in display order (ok, failed, timeouts, ...).</summary>
    public List<KeyValuePair<string, long>> Counters { get; } = [];
    /// <summary>Named rates per second.</summary>
    public List<KeyValuePair<string, double>> Rates { get; } = [];
    /// <summary>Counts of relay messages by their NIP-01 prefix, per group (e.g. "rejected").</summary>
    public SortedDictionary<string, SortedDictionary<string, long>> Groups { get; } = new(StringComparer.Ordinal);
    public List<KeyValuePair<string, LatencySummary>> Latencies { get; } = [];
    /// <summary>The latencies a comparison between relays looks at (the others are breakdowns, e.g. per query type).</summary>
    public List<string> HeadlineLatencies { get; } = [];
    /// <summary>Tables of values over the run, e.g. the ingest rate per 100k events.</summary>
    public List<ReportSeries> Series { get; } = [];
    public List<string> Notes { get; } = [];

    public void Parameter(string key, object? value) => Parameters.Add(new(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? ""));
    public void Counter(string key, long value) => Counters.Add(new(key, value));
    public void Rate(string key, double perSecond) => Rates.Add(new(key, perSecond));

    public void Latency(string key, LatencyRecorder recorder, bool headline = false)
    {
        Latencies.Add(new(key, recorder.Summarize()));
        if (headline) HeadlineLatencies.Add(key);
    }

    public long CounterValue(string key)
    {
        foreach (var pair in Counters) if (pair.Key == key) return pair.Value;
        throw new KeyNotFoundException($"no counter '{key}'");
    }

    public void AddGroups(string group, IReadOnlyDictionary<string, long> counts)
    {
        if (counts.Count == 0) return;
        var target = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var pair in counts) target[pair.Key] = pair.Value;
        Groups[group] = target;
    }

    private static double? ReadLoadAverage()
    {
        try
        {
            string text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.AsSpan(0, text.IndexOf(' ')), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException) { return null; }
    }
}

/// <summary>A table of numbers (one row per step of a run); a null cell could not be measured.</summary>
public sealed class ReportSeries(string title, params (string Name, string Format)[] columns)
{
    public string Title { get; } = title;
    public (string Name, string Format)[] Columns { get; } = columns;
    public List<double?[]> Rows { get; } = [];

    public void Add(params double?[] row)
    {
        if (row.Length != Columns.Length) throw new ArgumentException("one value per column");
        Rows.Add(row);
    }

    public string[] Format(double?[] row)
    {
        var cells = new string[row.Length];
        for (int c = 0; c < row.Length; c++)
            cells[c] = row[c] is double v ? v.ToString(Columns[c].Format, System.Globalization.CultureInfo.InvariantCulture) : "-";
        return cells;
    }
}
