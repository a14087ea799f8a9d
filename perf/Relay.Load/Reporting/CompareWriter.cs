using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Relay.Load.Reporting;

/// <summary>Which way a metric is good; neutral ones (events per REQ, load average) are context.</summary>
public enum Better { Higher, Lower, Neither }

/// <summary>One metric measured on both relays.</summary>
public sealed record ComparedMetric(string Name, double This, double Other, Better Better);

/// <summary>One scenario's two JSON reports (this relay and the other), reduced to comparable metrics.</summary>
public sealed class ComparedScenario
{
    // Counters worth a ratio, matched by prefix: per-unit costs, memory, size, the query profile.
    private static readonly (string Prefix, Better Better)[] s_counters =
    [
        ("relay CPU per ", Better.Lower),
        ("relay CPU utilisation", Better.Neither),
        ("relay disk writes per ", Better.Lower),
        ("relay RSS growth per connection", Better.Lower),
        ("relay peak RSS", Better.Lower),
        ("DB bytes per stored event", Better.Lower),
        ("DB size, data.mdb", Better.Lower),
        ("events per REQ (mean)", Better.Neither),
        ("startup", Better.Lower),
        ("timeouts", Better.Lower),
        ("missing", Better.Lower),
        ("fail (CLOSED)", Better.Lower),
    ];

    private ComparedScenario(string name) => Name = name;

    public string Name { get; }
    public List<ComparedMetric> Metrics { get; } = [];

    public static ComparedScenario Load(string name, string thisPath, string otherPath)
    {
        using JsonDocument a = JsonDocument.Parse(File.ReadAllBytes(thisPath));
        using JsonDocument b = JsonDocument.Parse(File.ReadAllBytes(otherPath));
        var compared = new ComparedScenario(name);
        compared.Collect(a.RootElement, b.RootElement);
        return compared;
    }

    private void Collect(JsonElement a, JsonElement b)
    {
        if (a.TryGetProperty("ratesPerSecond", out JsonElement rates))
            foreach (JsonProperty rate in rates.EnumerateObject())
                if (Number(b, "ratesPerSecond", rate.Name) is double other) Add($"rate: {rate.Name} (/s)", rate.Value.GetDouble(), other, Better.Higher);

        foreach (string latency in Headlines(a))
        {
            if (!a.GetProperty("latencyMs").TryGetProperty(latency, out JsonElement la)
                || !b.TryGetProperty("latencyMs", out JsonElement lb) || !lb.TryGetProperty(latency, out JsonElement other)) continue;
            foreach (string p in (string[])["p50", "p99", "p99.9", "max"])
                if (la.TryGetProperty(p, out JsonElement va) && other.TryGetProperty(p, out JsonElement vb))
                    Add($"{latency} {p} (ms)", va.GetDouble(), vb.GetDouble(), Better.Lower);
        }

        if (a.TryGetProperty("counters", out JsonElement counters))
            foreach (JsonProperty counter in counters.EnumerateObject())
                foreach ((string prefix, Better better) in s_counters)
                    if (counter.Name.StartsWith(prefix, StringComparison.Ordinal) && Number(b, "counters", counter.Name) is double other)
                    {
                        double value = counter.Value.GetDouble();
                        if (better == Better.Lower && prefix is "timeouts" or "missing" or "fail (CLOSED)" && value == 0 && other == 0) break;
                        Add(counter.Name, value, other, better);
                        break;
                    }

        // A fill's first and last steps: how much the rate falls as the database grows.
        if (a.TryGetProperty("series", out JsonElement seriesA) && b.TryGetProperty("series", out JsonElement seriesB))
            foreach (JsonProperty series in seriesA.EnumerateObject())
                if (seriesB.TryGetProperty(series.Name, out JsonElement other) && series.Value.GetArrayLength() > 0 && other.GetArrayLength() > 0)
                    foreach ((string label, int row) in (ReadOnlySpan<(string, int)>)[("first", 0), ("last", -1)])
                    {
                        JsonElement ra = series.Value[row < 0 ? series.Value.GetArrayLength() - 1 : 0];
                        JsonElement rb = other[row < 0 ? other.GetArrayLength() - 1 : 0];
                        if (ra.TryGetProperty("events/s in step", out JsonElement x) && rb.TryGetProperty("events/s in step", out JsonElement y)
                            && x.ValueKind == JsonValueKind.Number && y.ValueKind == JsonValueKind.Number)
                            Add($"events/s in the {label} step of {series.Name}", x.GetDouble(), y.GetDouble(), Better.Higher);
                    }

        if (a.TryGetProperty("loadAverageAtStart", out JsonElement loadA) && b.TryGetProperty("loadAverageAtStart", out JsonElement loadB))
            Add("machine load average at start (context)", loadA.GetDouble(), loadB.GetDouble(), Better.Neither);
    }

    private static IEnumerable<string> Headlines(JsonElement report)
    {
        if (report.TryGetProperty("headlineLatencies", out JsonElement list) && list.GetArrayLength() > 0)
        {
            foreach (JsonElement name in list.EnumerateArray()) yield return name.GetString()!;
        }
        else if (report.TryGetProperty("latencyMs", out JsonElement latencies))
        {
            foreach (JsonProperty first in latencies.EnumerateObject()) { yield return first.Name; yield break; }
        }
    }

    private static double? Number(JsonElement report, string section, string name) =>
        report.TryGetProperty(section, out JsonElement s) && s.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number
            ? v.GetDouble() : null;

    private void Add(string name, double a, double b, Better better) => Metrics.Add(new ComparedMetric(name, a, b, better));
}

/// <summary>The ratio table: this relay / the other, per metric, and which side is better by more than 5%.</summary>
public static class CompareWriter
{
    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    public static string ToMarkdown(string thisLabel, string otherLabel, string description, IReadOnlyList<ComparedScenario> scenarios, IReadOnlyList<string> missing)
    {
        var md = new StringBuilder();
        md.AppendLine($"# {thisLabel} vs {otherLabel} ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
        md.AppendLine();
        if (description.Length > 0) { md.AppendLine(description); md.AppendLine(); }
        md.AppendLine($"Same scenarios, same load tool, a fresh database for each relay, {otherLabel} run right after {thisLabel}. " +
                      $"Ratio = {thisLabel} / {otherLabel}; \"better\" names the side ahead by more than 5% (rates: higher; latency, CPU, bytes, memory: lower).");
        foreach (ComparedScenario scenario in scenarios)
        {
            md.AppendLine();
            md.AppendLine($"## {scenario.Name}");
            md.AppendLine();
            md.AppendLine($"| metric | {thisLabel} | {otherLabel} | {thisLabel} / {otherLabel} | better |");
            md.AppendLine("|---|---:|---:|---:|---|");
            foreach (ComparedMetric m in scenario.Metrics)
                md.AppendLine($"| {m.Name} | {Value(m.This)} | {Value(m.Other)} | {Ratio(m)} | {Winner(m, thisLabel, otherLabel)} |");
        }
        if (missing.Count > 0)
        {
            md.AppendLine();
            foreach (string m in missing) md.AppendLine($"> not compared: {m}");
        }
        return md.ToString();
    }

    private static string Value(double v) => Math.Abs(v) >= 1000 ? v.ToString("N0", s_invariant) : ReportWriter.Ms(v);

    private static string Ratio(ComparedMetric m) => m.Other == 0 ? (m.This == 0 ? "1.00" : "-") : (m.This / m.Other).ToString("0.00", s_invariant);

    private static string Winner(ComparedMetric m, string thisLabel, string otherLabel)
    {
        if (m.Better == Better.Neither || (m.This == 0 && m.Other == 0)) return "";
        double ratio = m.Other == 0 ? double.PositiveInfinity : m.This / m.Other;
        if (ratio is > 0.95 and < 1.0 / 0.95) return "=";
        bool thisHigher = ratio > 1;
        return thisHigher == (m.Better == Better.Higher) ? thisLabel : otherLabel;
    }
}
