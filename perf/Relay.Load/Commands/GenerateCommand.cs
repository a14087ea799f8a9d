using System.Globalization;
using Relay.Load.Cli;
using Relay.Load.Generation;

namespace Relay.Load.Commands;

/// <summary><c>generate --out events.bin --count 200000 --seed 1 [--authors 5000] [--threads N] [--now unix]</c></summary>
public static class GenerateCommand
{
    public static int Run(CliArgs args)
    {
        var options = new GenerateOptions(
            args.Require("out"),
            args.GetInt("count", 200_000),
            (ulong)args.GetLong("seed", 1),
            Math.Max(2, args.GetInt("authors", 5000)),
            args.GetLong("now", DateTimeOffset.UtcNow.ToUnixTimeSeconds()),
            args.GetInt("threads", 0));
        args.RejectUnknown();
        if (options.Count <= 0) throw new CliException("--count must be positive");

        Console.WriteLine($"generating {options.Count:N0} events, {options.Authors:N0} authors, seed {options.Seed} -> {options.OutputPath}");
        GenerateResult result = EventGenerator.Generate(options);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {result.Count:N0} events, {result.FileBytes / 1048576.0:0.0} MiB in {result.Elapsed.TotalSeconds:0.00} s = {result.EventsPerSecond:N0} events/s"));
        Console.WriteLine($"  signer {result.Signer}; {result.Phases}");
        foreach (var pair in result.KindCounts.OrderBy(p => p.Key))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  kind {pair.Key,5}: {pair.Value,9:N0}"));
        return 0;
    }
}
