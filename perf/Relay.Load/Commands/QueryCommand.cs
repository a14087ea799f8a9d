using System.Buffers;
using System.Globalization;
using Relay.Load.Cli;
using Relay.Load.Corpus;
using Relay.Load.Generation;
using Relay.Load.Scenarios;

namespace Relay.Load.Commands;

/// <summary>
/// <c>query --url ws://.. --events events.bin --connections 4 --window 8 --duration 30s [--mix default|feed150]
/// [--loaded N] [--seed 1] [--count N] [--timeout 30s] [--pid N] [--db-dir DIR]</c>;
/// without a relay: <c>--print-reqs N</c> shows the REQs, <c>--estimate N</c> what they return.
/// </summary>
public static class QueryCommand
{
    public static async Task<int> RunAsync(CliArgs args)
    {
        string mix = args.GetString("mix", "default");
        if (Array.IndexOf(QueryMix.Names, mix) < 0) throw new CliException($"--mix: unknown mix '{mix}' (known: {string.Join(", ", QueryMix.Names)})");
        // The relay holds the first N events of the file (e.g. 100k of events-200k.bin): draw only from those.
        int loaded = args.GetInt("loaded", 0);
        int printOnly = args.GetInt("print-reqs", 0);
        if (printOnly > 0) return PrintRequests(args, mix, loaded, printOnly);
        int estimate = args.GetInt("estimate", 0);
        if (estimate > 0) return Estimate(args, mix, loaded, estimate);
        Uri url = CommandContext.RelayUrl(args);
        string events = args.Require("events");
        (string directory, string name) = CommandContext.ReportTarget(args, "query");
        var options = new QueryOptions(url, name,
            Math.Max(1, args.GetInt("connections", 4)), Math.Max(1, args.GetInt("window", 8)), args.GetDuration("duration", TimeSpan.FromSeconds(30)),
            (ulong)args.GetLong("seed", 1), args.GetInt("count", 0), args.GetDuration("timeout", TimeSpan.FromSeconds(30)), mix,
            CommandContext.Probe(args));
        args.RejectUnknown();
        EventCorpus corpus = EventCorpus.Load(events, loaded, keepJson: false);
        using var cancel = CommandContext.CancelOnCtrlC();
        return CommandContext.Publish(await QueryScenario.RunAsync(options, corpus, cancel.Token).ConfigureAwait(false), directory);
    }

    /// <summary><c>--print-reqs N</c>: show the first N REQs of the mix (as connection 0 would send them) without connecting.</summary>
    private static int PrintRequests(CliArgs args, string mixName, int loaded, int count)
    {
        string events = args.Require("events");
        ulong seed = (ulong)args.GetLong("seed", 1);
        args.RejectUnknown();
        QueryMix mix = QueryMix.Create(mixName, EventCorpus.Load(events, loaded, keepJson: false));
        var random = DeterministicRandom.For(seed, 100, 0);
        var output = new ArrayBufferWriter<byte>();
        for (int i = 0; i < count; i++)
        {
            output.ResetWrittenCount();
            int type = mix.Write(ref random, "0." + i, output);
            Console.WriteLine($"{mix.Types[type],-16} {System.Text.Encoding.UTF8.GetString(output.WrittenSpan)}");
        }
        return 0;
    }

    /// <summary>
    /// <c>--estimate N</c>: draws N REQs (connection 0's stream) and counts, against the corpus in memory,
    /// how many events a relay holding it returns for each: the mix's events-per-REQ profile, per type.
    /// </summary>
    private static int Estimate(CliArgs args, string mixName, int loaded, int count)
    {
        string events = args.Require("events");
        ulong seed = (ulong)args.GetLong("seed", 1);
        args.RejectUnknown();
        EventCorpus corpus = EventCorpus.Load(events, loaded, keepJson: false);
        QueryMix mix = QueryMix.Create(mixName, corpus);
        var matcher = new CorpusMatcher(corpus);
        var random = DeterministicRandom.For(seed, 100, 0);
        int types = mix.Types.Length;
        var reqs = new long[types];
        var returned = new long[types];
        var atLimit = new long[types];
        var empty = new long[types];
        for (int i = 0; i < count; i++)
        {
            QueryFilter filter = mix.Next(ref random, out int type);
            int n = matcher.Count(filter);
            reqs[type]++;
            returned[type] += n;
            if (n == Math.Min(filter.Limit ?? CorpusMatcher.MaxLimit, CorpusMatcher.MaxLimit)) atLimit[type]++;
            if (n == 0) empty[type]++;
        }
        long total = 0;
        foreach (long r in returned) total += r;
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"mix '{mix.Name}' on {corpus.Count:N0} events ({corpus.StoredCount:N0} stored after replaceable supersession, {corpus.AuthorCount:N0} authors, {corpus.ContactLists.Length:N0} contact lists), {count:N0} REQs, seed {seed}"));
        Console.WriteLine($"{"type",-16} {"share",6} {"events/REQ",11} {"at limit",9} {"empty",7}");
        for (int t = 0; t < types; t++)
        {
            if (reqs[t] == 0) continue;
            Console.WriteLine(string.Create(c, $"{mix.Types[t],-16} {100.0 * reqs[t] / count,5:0.0}% {returned[t] / (double)reqs[t],11:0.0} {100.0 * atLimit[t] / reqs[t],8:0}% {100.0 * empty[t] / reqs[t],6:0}%"));
        }
        Console.WriteLine(string.Create(c, $"{"all",-16} {100.0,5:0.0}% {total / (double)count,11:0.0}"));
        return 0;
    }
}
