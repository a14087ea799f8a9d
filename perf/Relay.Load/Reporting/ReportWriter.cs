using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Relay.Load.Reporting;

/// <summary>Renders a <see cref="LoadReport"/> NBomber-style: a console table, plus JSON and Markdown files.</summary>
public static class ReportWriter
{
    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    /// <summary>Prints the report and writes <c>&lt;dir&gt;/&lt;name&gt;.json</c> and <c>.md</c>; returns the two paths.</summary>
    public static (string Json, string Markdown) Publish(LoadReport report, string directory, TextWriter console)
    {
        console.Write(ToConsole(report));
        Directory.CreateDirectory(directory);
        string safeName = SafeFileName(report.Name);
        string jsonPath = Path.Combine(directory, safeName + ".json");
        string markdownPath = Path.Combine(directory, safeName + ".md");
        File.WriteAllBytes(jsonPath, ToJson(report));
        File.WriteAllText(markdownPath, ToMarkdown(report));
        console.WriteLine($"report: {jsonPath}, {markdownPath}");
        return (jsonPath, markdownPath);
    }

    public static string ToConsole(LoadReport report)
    {
        var text = new StringBuilder();
        string title = $" {report.Scenario}: {report.Name} -> {report.Url} ";
        text.AppendLine(new string('=', 78));
        text.AppendLine(title);
        text.AppendLine(new string('=', 78));
        text.AppendLine(F($"duration {report.Duration.TotalSeconds:0.00} s, sent {Bytes(report.BytesSent)}, received {Bytes(report.BytesReceived)}, client CPU {report.ClientCpu.TotalSeconds:0.00} s{LoadAverage(report)}"));
        if (report.Parameters.Count > 0)
            text.AppendLine("params   " + string.Join(", ", report.Parameters.Select(p => p.Key + "=" + p.Value)));
        text.AppendLine();
        Table(text, ["counter", "value"], report.Counters.Select(c => new[] { c.Key, c.Value.ToString("N0", s_invariant) })
            .Concat(report.Rates.Select(r => new[] { r.Key, r.Value.ToString("N1", s_invariant) + "/s" })));
        foreach (var group in report.Groups)
        {
            text.AppendLine();
            Table(text, [group.Key, "count"], group.Value.Select(g => new[] { g.Key, g.Value.ToString("N0", s_invariant) }));
        }
        if (report.Latencies.Count > 0)
        {
            text.AppendLine();
            Table(text, ["latency (ms)", "count", "min", "mean", "p50", "p75", "p95", "p99", "p99.9", "max"],
                report.Latencies.Select(l => LatencyRow(l.Key, l.Value)));
        }
        foreach (ReportSeries series in report.Series)
        {
            text.AppendLine();
            text.AppendLine(series.Title);
            Table(text, series.Columns.Select(c => c.Name).ToArray(), series.Rows.Select(series.Format));
        }
        foreach (string note in report.Notes) text.AppendLine("note: " + note);
        text.AppendLine();
        return text.ToString();
    }

    public static string ToMarkdown(LoadReport report)
    {
        var md = new StringBuilder();
        md.AppendLine($"# {report.Scenario}: {report.Name}");
        md.AppendLine();
        md.AppendLine(F($"- relay: `{report.Url}`"));
        md.AppendLine(F($"- started: {report.StartedAt:u}, duration {report.Duration.TotalSeconds:0.00} s"));
        md.AppendLine($"- bytes sent {Bytes(report.BytesSent)}, received {Bytes(report.BytesReceived)}");
        md.AppendLine(F($"- load tool CPU {report.ClientCpu.TotalSeconds:0.00} s{LoadAverage(report)}"));
        foreach (var p in report.Parameters) md.AppendLine($"- {p.Key}: `{p.Value}`");
        md.AppendLine();
        md.AppendLine("| counter | value |");
        md.AppendLine("|---|---:|");
        foreach (var c in report.Counters) md.AppendLine($"| {c.Key} | {c.Value.ToString("N0", s_invariant)} |");
        foreach (var r in report.Rates) md.AppendLine($"| {r.Key} | {r.Value.ToString("N1", s_invariant)}/s |");
        foreach (var group in report.Groups)
        {
            md.AppendLine();
            md.AppendLine($"| {group.Key} | count |");
            md.AppendLine("|---|---:|");
            foreach (var g in group.Value) md.AppendLine($"| {g.Key.Replace("|", "\\|", StringComparison.Ordinal)} | {g.Value.ToString("N0", s_invariant)} |");
        }
        if (report.Latencies.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("| latency (ms) | count | min | mean | p50 | p75 | p95 | p99 | p99.9 | max |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var l in report.Latencies) md.AppendLine("| " + string.Join(" | ", LatencyRow(l.Key, l.Value)) + " |");
        }
        foreach (ReportSeries series in report.Series)
        {
            md.AppendLine();
            md.AppendLine($"**{series.Title}**");
            md.AppendLine();
            md.AppendLine("| " + string.Join(" | ", series.Columns.Select(c => c.Name)) + " |");
            md.AppendLine("|" + string.Concat(series.Columns.Select(_ => "---:|")));
            foreach (double?[] row in series.Rows) md.AppendLine("| " + string.Join(" | ", series.Format(row)) + " |");
        }
        if (report.Notes.Count > 0)
        {
            md.AppendLine();
            foreach (string note in report.Notes) md.AppendLine($"> {note}");
        }
        return md.ToString();
    }

    public static byte[] ToJson(LoadReport report)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("scenario", report.Scenario);
            json.WriteString("name", report.Name);
            json.WriteString("url", report.Url);
            json.WriteString("startedAt", report.StartedAt);
            json.WriteNumber("durationSeconds", Math.Round(report.Duration.TotalSeconds, 3));
            json.WriteNumber("bytesSent", report.BytesSent);
            json.WriteNumber("bytesReceived", report.BytesReceived);
            json.WriteNumber("clientCpuSeconds", Math.Round(report.ClientCpu.TotalSeconds, 3));
            if (report.LoadAverageAtStart is double loadStart) json.WriteNumber("loadAverageAtStart", loadStart);
            if (report.LoadAverageAtEnd is double loadEnd) json.WriteNumber("loadAverageAtEnd", loadEnd);
            json.WriteStartObject("parameters");
            foreach (var p in report.Parameters) json.WriteString(p.Key, p.Value);
            json.WriteEndObject();
            json.WriteStartObject("counters");
            foreach (var c in report.Counters) json.WriteNumber(c.Key, c.Value);
            json.WriteEndObject();
            json.WriteStartObject("ratesPerSecond");
            foreach (var r in report.Rates) json.WriteNumber(r.Key, Math.Round(r.Value, 2));
            json.WriteEndObject();
            json.WriteStartObject("groups");
            foreach (var group in report.Groups)
            {
                json.WriteStartObject(group.Key);
                foreach (var g in group.Value) json.WriteNumber(g.Key, g.Value);
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.WriteStartObject("latencyMs");
            foreach (var l in report.Latencies)
            {
                LatencySummary s = l.Value;
                json.WriteStartObject(l.Key);
                json.WriteNumber("count", s.Count);
                json.WriteNumber("min", Math.Round(s.MinMs, 3));
                json.WriteNumber("mean", Math.Round(s.MeanMs, 3));
                json.WriteNumber("p50", Math.Round(s.P50Ms, 3));
                json.WriteNumber("p75", Math.Round(s.P75Ms, 3));
                json.WriteNumber("p95", Math.Round(s.P95Ms, 3));
                json.WriteNumber("p99", Math.Round(s.P99Ms, 3));
                json.WriteNumber("p99.9", Math.Round(s.P999Ms, 3));
                json.WriteNumber("max", Math.Round(s.MaxMs, 3));
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.WriteStartArray("headlineLatencies");
            foreach (string key in report.HeadlineLatencies) json.WriteStringValue(key);
            json.WriteEndArray();
            json.WriteStartObject("series");
            foreach (ReportSeries series in report.Series)
            {
                json.WriteStartArray(series.Title);
                foreach (double?[] row in series.Rows)
                {
                    json.WriteStartObject();
                    for (int c = 0; c < row.Length; c++)
                    {
                        if (row[c] is double v) json.WriteNumber(series.Columns[c].Name, Math.Round(v, 3));
                        else json.WriteNull(series.Columns[c].Name);
                    }
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            json.WriteEndObject();
            json.WriteStartArray("notes");
            foreach (string note in report.Notes) json.WriteStringValue(note);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return stream.ToArray();
    }

    private static string[] LatencyRow(string name, LatencySummary s) =>
    [
        name, s.Count.ToString("N0", s_invariant), Ms(s.MinMs), Ms(s.MeanMs), Ms(s.P50Ms), Ms(s.P75Ms), Ms(s.P95Ms), Ms(s.P99Ms), Ms(s.P999Ms), Ms(s.MaxMs),
    ];

    private static string LoadAverage(LoadReport report) =>
        report.LoadAverageAtStart is double start && report.LoadAverageAtEnd is double end ? F($", load average {start:0.0} -> {end:0.0}") : "";

    internal static string Ms(double value) => value.ToString(value < 10 ? "0.000" : value < 1000 ? "0.00" : "0", s_invariant);

    private static void Table(StringBuilder text, string[] header, IEnumerable<string[]> rows)
    {
        var all = new List<string[]> { header };
        all.AddRange(rows);
        var widths = new int[header.Length];
        foreach (string[] row in all)
            for (int c = 0; c < row.Length; c++) widths[c] = Math.Max(widths[c], row[c].Length);
        string separator = "+" + string.Join("+", widths.Select(w => new string('-', w + 2))) + "+";
        text.AppendLine(separator);
        for (int r = 0; r < all.Count; r++)
        {
            text.Append('|');
            for (int c = 0; c < widths.Length; c++)
            {
                string cell = c < all[r].Length ? all[r][c] : "";
                text.Append(' ').Append(c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c])).Append(" |");
            }
            text.AppendLine();
            if (r == 0) text.AppendLine(separator);
        }
        text.AppendLine(separator);
    }

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => F($"{bytes / (double)(1L << 30):0.00} GiB"),
        >= 1L << 20 => F($"{bytes / (double)(1L << 20):0.00} MiB"),
        >= 1L << 10 => F($"{bytes / (double)(1L << 10):0.0} KiB"),
        _ => F($"{bytes} B"),
    };

    private static string SafeFileName(string name)
    {
        var safe = new StringBuilder(name.Length);
        foreach (char c in name) safe.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        return safe.Length == 0 ? "report" : safe.ToString();
    }

    private static string F(FormattableString value) => value.ToString(s_invariant);
}
