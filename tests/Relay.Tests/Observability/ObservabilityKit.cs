using System.Globalization;
using Relay.Tests.Integration;

namespace Relay.Tests.Observability;

/// <summary>
/// Metrics and the log are process-wide, so these tests run alone (after the parallel ones): then a
/// counter's change over a test is exactly that test's traffic, and a captured log holds only its lines.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ObservabilityCollection
{
    public const string Name = "Observability (runs alone)";
}

/// <summary>One /metrics scrape: every sample by its series as written (<c>name{label="v"}</c>).</summary>
public sealed class Scrape
{
    private Scrape(string text, Dictionary<string, double> samples)
    {
        Text = text;
        Samples = samples;
    }

    public string Text { get; }
    public Dictionary<string, double> Samples { get; }

    public static async Task<Scrape> TakeAsync(TestRelay relay)
    {
        using var http = new HttpClient();
        string text = await http.GetStringAsync(new Uri(relay.HttpUrl, "/metrics"));
        return Parse(text);
    }

    public static Scrape Parse(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int space = line.LastIndexOf(' ');
            string value = line[(space + 1)..];
            samples[line[..space]] = value == "+Inf" ? double.PositiveInfinity : double.Parse(value, CultureInfo.InvariantCulture);
        }
        return new Scrape(text, samples);
    }

    /// <summary>The sample's value, 0 when the series is absent (a counter not yet counted).</summary>
    public double this[string series] => Samples.GetValueOrDefault(series);

    public bool Has(string series) => Samples.ContainsKey(series);

    /// <summary>The # TYPE the scrape declares for a metric family, or null.</summary>
    public string? TypeOf(string name)
    {
        string prefix = "# TYPE " + name + " ";
        foreach (string line in Text.Split('\n'))
            if (line.StartsWith(prefix, StringComparison.Ordinal)) return line[prefix.Length..];
        return null;
    }

    /// <summary>(le, cumulative count) of one histogram series, in the order written.</summary>
    public List<(double Le, double Count)> Buckets(string name, string label, string value)
    {
        var buckets = new List<(double, double)>();
        string prefix = $"{name}_bucket{{{label}=\"{value}\",le=\"";
        foreach (var (series, count) in Samples)
        {
            if (!series.StartsWith(prefix, StringComparison.Ordinal)) continue;
            string le = series[prefix.Length..^2];
            buckets.Add((le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture), count));
        }
        return buckets;
    }
}

/// <summary>Captures the relay's log lines for the life of the object.</summary>
internal sealed class LogCapture : IDisposable
{
    private readonly List<string> _lines = new();
    private readonly LogFormat _format;

    internal LogCapture(LogFormat format = LogFormat.Text)
    {
        _format = RelayLog.Format;
        RelayLog.Format = format;
        RelayLog.Sink = line => { lock (_lines) _lines.Add(line); };
    }

    public IReadOnlyList<string> Lines { get { lock (_lines) return _lines.ToArray(); } }

    public IEnumerable<string> Containing(string text) => Lines.Where(l => l.Contains(text, StringComparison.Ordinal));

    public void Dispose()
    {
        RelayLog.Sink = null;
        RelayLog.Format = _format;
    }
}

internal static class Wait
{
    public static async Task UntilAsync(Func<bool> condition, string what, int timeoutMs = 10000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("timed out waiting for " + what);
            await Task.Delay(20);
        }
    }
}
