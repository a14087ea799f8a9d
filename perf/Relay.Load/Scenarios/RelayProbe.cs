using System.Globalization;
using Relay.Load.Reporting;

namespace Relay.Load.Scenarios;

/// <summary>What /proc says about the relay process at one moment (Linux only; null fields could not be read).</summary>
public sealed record RelaySample(long Timestamp, long? CpuTicks, long? WriteBytes, long? WrittenChars, long? RssKiB, long? PeakRssKiB, long? DbFileBytes)
{
    // USER_HZ: utime/stime in /proc/<pid>/stat are in 1/100 s on every Linux the runtime supports.
    public const double TicksPerSecond = 100;
}

/// <summary>
/// Samples the relay under test (any process: Relay, strfry, ...) so every scenario can report the
/// relay's CPU (utime+stime of all its threads), the bytes it made the kernel write to disk
/// (<c>/proc/&lt;pid&gt;/io</c> write_bytes), its RSS and peak RSS, and the size of its
/// <c>data.mdb</c>, per unit of work. Both relays store one LMDB file named data.mdb.
/// </summary>
public sealed class RelayProbe(int pid, string? dbDir)
{
    public int Pid { get; } = pid;

    /// <summary>A probe for the <c>--pid</c>/<c>--db-dir</c> options, or null when no pid was given.</summary>
    public static RelayProbe? For(int? pid, string? dbDir) => pid is int p && p > 0 ? new RelayProbe(p, dbDir) : null;

    public RelaySample Sample()
    {
        long? cpu = null, writeBytes = null, wchar = null;
        try
        {
            string stat = File.ReadAllText($"/proc/{Pid}/stat");
            // The command name may contain spaces and parentheses; fields are counted after the last ')'.
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            cpu = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { }
        try
        {
            foreach (string line in File.ReadLines($"/proc/{Pid}/io"))
            {
                if (line.StartsWith("write_bytes:", StringComparison.Ordinal)) writeBytes = long.Parse(line.AsSpan(12).Trim(), CultureInfo.InvariantCulture);
                else if (line.StartsWith("wchar:", StringComparison.Ordinal)) wchar = long.Parse(line.AsSpan(6).Trim(), CultureInfo.InvariantCulture);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        return new RelaySample(System.Diagnostics.Stopwatch.GetTimestamp(), cpu, writeBytes, wchar,
            ProcessStats.StatusField(Pid, "VmRSS:"), ProcessStats.StatusField(Pid, "VmHWM:"), DbFileBytes());
    }

    /// <summary>Apparent size of data.mdb. Neither relay uses MDB_WRITEMAP, so the file is not sparse and this is what it occupies.</summary>
    public long? DbFileBytes()
    {
        if (dbDir is null) return null;
        var file = new FileInfo(Path.Combine(dbDir, "data.mdb"));
        return file.Exists ? file.Length : null;
    }

    public static double? CpuSeconds(RelaySample before, RelaySample after) =>
        before.CpuTicks is long b && after.CpuTicks is long a ? (a - b) / RelaySample.TicksPerSecond : null;

    /// <summary>
    /// Adds the relay's CPU, disk writes and memory between two samples to the report, per
    /// <paramref name="unit"/> (event, REQ, delivery) when <paramref name="units"/> is positive, and the
    /// database size per stored event when <paramref name="storedEvents"/> is.
    /// </summary>
    public void Report(LoadReport report, RelaySample before, RelaySample after, string unit, long units, long storedEvents = 0)
    {
        report.Parameter("relayPid", Pid);
        double seconds = (after.Timestamp - before.Timestamp) / (double)System.Diagnostics.Stopwatch.Frequency;
        if (CpuSeconds(before, after) is double cpu)
        {
            report.Counter("relay CPU (ms)", (long)Math.Round(cpu * 1000));
            report.Counter("relay CPU utilisation (% of one core)", (long)Math.Round(cpu * 100 / Math.Max(seconds, 1e-9)));
            if (units > 0) report.Counter($"relay CPU per {unit} (us)", (long)Math.Round(cpu * 1e6 / units));
        }
        else report.Notes.Add($"could not read /proc/{Pid}/stat: no relay CPU figures");
        if (before.WriteBytes is long wb && after.WriteBytes is long wa)
        {
            report.Counter("relay disk writes (bytes)", wa - wb);
            if (units > 0) report.Counter($"relay disk writes per {unit} (bytes)", (wa - wb) / units);
        }
        if (before.WrittenChars is long cb && after.WrittenChars is long ca) report.Counter("relay write() bytes (wchar)", ca - cb);
        if (after.RssKiB is long rss) report.Counter("relay RSS after (KiB)", rss);
        if (after.PeakRssKiB is long peak) report.Counter("relay peak RSS (KiB)", peak);
        if (after.DbFileBytes is long db)
        {
            report.Counter("DB size, data.mdb (bytes)", db);
            if (storedEvents > 0)
            {
                report.Counter("DB events (stored)", storedEvents);
                report.Counter("DB bytes per stored event", db / storedEvents);
            }
        }
    }
}
