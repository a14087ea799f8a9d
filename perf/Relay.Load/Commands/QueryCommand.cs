using Relay.Load.Cli;
using Relay.Load.Corpus;
using Relay.Load.Scenarios;

namespace Relay.Load.Commands;

/// <summary><c>query --url ws://.. --events events.bin --connections 4 --window 8 --duration 30s [--seed 1] [--count N] [--timeout 30s]</c></summary>
public static class QueryCommand
{
    public static async Task<int> RunAsync(CliArgs args)
    {
        int printOnly = args.GetInt("print-reqs", 0);
        if (printOnly > 0) return PrintRequests(args, printOnly);
        Uri url = CommandContext.RelayUrl(args);
        string events = args.Require("events");
        (string directory, string name) = CommandContext.ReportTarget(args, "query");
        var options = new QueryOptions(url, name,
            Math.Max(1, args.GetInt("connections", 4)), Math.Max(1, args.GetInt("window", 8)), args.GetDuration("duration", TimeSpan.FromSeconds(30)),
            (ulong)args.GetLong("seed", 1), args.GetInt("count", 0), args.GetDuration("timeout", TimeSpan.FromSeconds(30)));
        args.RejectUnknown();
        EventCorpus corpus = EventCorpus.Load(events);
        using var cancel = CommandContext.CancelOnCtrlC();
        return CommandContext.Publish(await QueryScenario.RunAsync(options, corpus, cancel.Token).ConfigureAwait(false), directory);
    }

    /// <summary><c>--print-reqs N</c>: show the first N REQs of the mix (as connection 0 would send them) without connecting.</summary>
    private static int PrintRequests(CliArgs args, int count)
    {
        string events = args.Require("events");
        ulong seed = (ulong)args.GetLong("seed", 1);
        args.RejectUnknown();
        var mix = new QueryMix(EventCorpus.Load(events));
        var random = Relay.Load.Generation.DeterministicRandom.For(seed, 100, 0);
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        for (int i = 0; i < count; i++)
        {
            output.ResetWrittenCount();
            int type = mix.Write(ref random, "0." + i, output);
            Console.WriteLine($"{QueryMix.Types[type],-16} {System.Text.Encoding.UTF8.GetString(output.WrittenSpan)}");
        }
        return 0;
    }
}
