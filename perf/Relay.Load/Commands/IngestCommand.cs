using Relay.Load.Cli;
using Relay.Load.Corpus;
using Relay.Load.Scenarios;

namespace Relay.Load.Commands;

/// <summary>
/// <c>ingest --url ws://.. --events events.bin --connections 16 --window 64 [--rate N/s] [--from N] [--count N] [--duration 60s]
/// [--timeout 10s] [--metrics-url http://127.0.0.1:7777/metrics] [--progress-every 100k] [--pid N] [--db-dir DIR]</c>
/// </summary>
public static class IngestCommand
{
    public static async Task<int> RunAsync(CliArgs args)
    {
        Uri url = CommandContext.RelayUrl(args);
        string events = args.Require("events");
        (string directory, string name) = CommandContext.ReportTarget(args, "ingest");
        var options = new IngestOptions(url, name,
            Math.Max(1, args.GetInt("connections", 16)), Math.Max(1, args.GetInt("window", 64)), args.GetRate("rate", 0),
            args.GetInt("count", 0), args.GetDuration("duration", TimeSpan.FromSeconds(60)), args.GetDuration("timeout", TimeSpan.FromSeconds(10)),
            args.GetString("metrics-url") is { } metrics ? new Uri(metrics) : null,
            args.GetInt("from", 0), args.GetInt("progress-every", 0), CommandContext.Probe(args));
        args.RejectUnknown();
        // Only the events this run sends are loaded (a 1M-event file is more than a GB).
        EventCorpus corpus = EventCorpus.Load(events, options.Count > 0 ? checked(options.From + options.Count) : 0);
        using var cancel = CommandContext.CancelOnCtrlC();
        return CommandContext.Publish(await IngestScenario.RunAsync(options, corpus, cancel.Token).ConfigureAwait(false), directory);
    }
}
