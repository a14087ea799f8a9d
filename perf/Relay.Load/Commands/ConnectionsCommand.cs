using Relay.Load.Cli;
using Relay.Load.Scenarios;

namespace Relay.Load.Commands;

/// <summary><c>connections --url ws://.. --count 15000 [--subscribe] [--pid N] [--hold 10s] [--concurrency 200] [--duration 300s]</c></summary>
public static class ConnectionsCommand
{
    public static async Task<int> RunAsync(CliArgs args)
    {
        Uri url = CommandContext.RelayUrl(args);
        (string directory, string name) = CommandContext.ReportTarget(args, "connections");
        long pid = args.GetLong("pid", 0);
        var options = new ConnectionsOptions(url, name, args.GetInt("count", 1000), args.Has("subscribe"),
            pid > 0 ? (int)pid : null, args.GetDuration("hold", TimeSpan.FromSeconds(10)), Math.Max(1, args.GetInt("concurrency", 200)),
            args.GetDuration("duration", TimeSpan.FromSeconds(300)));
        args.RejectUnknown();
        using var cancel = CommandContext.CancelOnCtrlC();
        return CommandContext.Publish(await ConnectionsScenario.RunAsync(options, cancel.Token).ConfigureAwait(false), directory);
    }
}
