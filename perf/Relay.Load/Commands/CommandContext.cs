using Relay.Load.Cli;
using Relay.Load.Reporting;
using Relay.Load.Scenarios;

namespace Relay.Load.Commands;

/// <summary>What every scenario command shares: the relay URL, report naming, Ctrl+C.</summary>
public static class CommandContext
{
    public static Uri RelayUrl(CliArgs args)
    {
        string text = args.Require("url");
        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? url) || url.Scheme != "ws")
            throw new CliException($"--url must be a ws:// URL, got '{text}'");
        return url;
    }

    public static (string Directory, string Name) ReportTarget(CliArgs args, string scenario) =>
        (args.GetString("report-dir", Path.Combine("perf", "results")),
         args.GetString("name", $"{scenario}-{DateTime.UtcNow:yyyyMMdd-HHmmss}"));

    /// <summary><c>--pid N [--db-dir DIR]</c>: the relay process to sample from /proc, and where its data.mdb lives.</summary>
    public static RelayProbe? Probe(CliArgs args)
    {
        long pid = args.GetLong("pid", 0);
        string? dbDir = args.GetString("db-dir");
        if (pid == 0 && dbDir is not null) throw new CliException("--db-dir needs --pid (the relay process it belongs to)");
        return RelayProbe.For(pid > 0 ? checked((int)pid) : null, dbDir);
    }

    public static CancellationTokenSource CancelOnCtrlC()
    {
        var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        return cancel;
    }

    public static int Publish(LoadReport report, string directory)
    {
        ReportWriter.Publish(report, directory, Console.Out);
        // A run that never reached the relay must not look like a success to a script.
        foreach (var counter in report.Counters)
            if (counter.Key is "connections opened" or "opened" or "subscribers opened" && counter.Value == 0) return 1;
        return 0;
    }
}
