using System.Globalization;
using Relay.Load.Reporting;

namespace Relay.Load.Scenarios;

/// <summary>
/// Reads a relay's Prometheus /metrics text. Our relay exports the process's allocated bytes and GC
/// counts, so a load run can report the relay's allocations per event over its steady part.
/// </summary>
public static class RelayMetrics
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>Metric name (with labels, as written) to value; null when the relay has no /metrics.</summary>
    public static async Task<Dictionary<string, double>?> ScrapeAsync(Uri? metricsUrl)
    {
        if (metricsUrl is null) return null;
        try
        {
            string text = await s_http.GetStringAsync(metricsUrl).ConfigureAwait(false);
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (string line in text.Split('\n'))
            {
                if (line.Length == 0 || line[0] == '#') continue;
                int space = line.LastIndexOf(' ');
                if (space <= 0) continue;
                if (double.TryParse(line.AsSpan(space + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                    values[line[..space]] = v;
            }
            return values;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>Adds allocated bytes and GCs per acknowledged event between two scrapes to the report.</summary>
    public static void ReportSteadyState(LoadReport report, Dictionary<string, double>? before, Dictionary<string, double>? after, long eventsBetween)
    {
        if (before is null || after is null || eventsBetween <= 0)
        {
            if (before is null || after is null) report.Notes.Add("relay metrics not available (no /metrics or --metrics-url not given)");
            return;
        }
        if (!after.ContainsKey("relay_process_allocated_bytes_total"))
        {
            // strfry and other relays have a /metrics without the .NET allocation counters.
            report.Notes.Add("the relay's /metrics has no relay_process_allocated_bytes_total: allocations not reported");
            return;
        }
        double Delta(string name) => after.GetValueOrDefault(name) - before.GetValueOrDefault(name);
        double allocated = Delta("relay_process_allocated_bytes_total");
        report.Counter("relay: events in steady window", eventsBetween);
        report.Counter("relay: allocated bytes in window", (long)allocated);
        report.Counter("relay: allocated bytes/event (x100)", (long)Math.Round(allocated * 100 / eventsBetween));
        report.Counter("relay: gen0 GCs in window", (long)Delta("relay_gc_collections_total{generation=\"0\"}"));
        report.Counter("relay: gen1 GCs in window", (long)Delta("relay_gc_collections_total{generation=\"1\"}"));
        report.Counter("relay: gen2 GCs in window", (long)Delta("relay_gc_collections_total{generation=\"2\"}"));
        report.Notes.Add($"relay allocated {allocated / eventsBetween:F1} B per acknowledged event after warm-up (the first 10% of events)");
    }
}
