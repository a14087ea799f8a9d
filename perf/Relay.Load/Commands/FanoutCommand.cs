using Relay.Load.Cli;
using Relay.Load.Scenarios;

namespace Relay.Load.Commands;

/// <summary><c>fanout --url ws://.. --subscribers 1000 --events 200 --rate 50 [--seed 1] [--duration 120s] [--grace 10s] [--pid N] [--db-dir DIR]</c></summary>
public static class FanoutCommand
{
    public static async Task<int> RunAsync(CliArgs args)
    {
        Uri url = CommandContext.RelayUrl(args);
        (string directory, string name) = CommandContext.ReportTarget(args, "fanout");
        var options = new FanoutOptions(url, name, Math.Max(1, args.GetInt("subscribers", 1000)), Math.Max(1, args.GetInt("events", 200)),
            args.GetRate("rate", 50), (ulong)args.GetLong("seed", 1), args.GetDuration("duration", TimeSpan.FromSeconds(120)),
            args.GetDuration("grace", TimeSpan.FromSeconds(10)), Math.Max(1, args.GetInt("concurrency", 200)), CommandContext.Probe(args));
        args.RejectUnknown();
        using var cancel = CommandContext.CancelOnCtrlC();
        return CommandContext.Publish(await FanoutScenario.RunAsync(options, cancel.Token).ConfigureAwait(false), directory);
    }
}
