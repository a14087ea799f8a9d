using System.CommandLine;
using System.Diagnostics;
using Relay.Native.Query;

namespace Relay.Server.Commands;

/// <summary>
/// <c>relay scan [--count] [--pause N] [--metrics] FILTER</c>: the stored events a NIP-01 filter
/// selects, as JSONL, from the relay's own query engine: what a REQ with that filter gets before
/// EOSE, in the same order (newest first, ties by lowest id), with the filter's limit applied but
/// not <c>relay.maxFilterLimit</c> (like strfry's scan).
/// </summary>
internal static class ScanCommand
{
    public static Command Create(GlobalOptions g)
    {
        var count = new Option<bool>("--count") { Description = "Print only the number of events" };
        var pause = new Option<long>("--pause")
        {
            Description = "Run the query in time slices of N microseconds (each slice reported with --metrics)",
            HelpName = "N",
        };
        var metrics = new Option<bool>("--metrics") { Description = "Report each slice's events and time on stderr" };
        var filter = new Argument<string>("FILTER") { Description = "A NIP-01 filter as JSON, e.g. '{\"kinds\":[1],\"limit\":10}', or an array of filters" };
        var command = new Command("scan", "Print the stored events matching a NIP-01 filter as JSONL, as a REQ gets them (newest first)")
        {
            count, pause, metrics, filter,
        };
        command.SetAction(parse =>
        {
            var loaded = g.LoadConfig(parse);
            if (loaded is null) return GlobalOptions.ExitFailure;
            if (!CliFilter.TryParse(parse.GetValue(filter)!, loaded.Config, out var filters, out string? error))
            {
                Console.Error.WriteLine($"relay scan: bad filter: {error}");
                return GlobalOptions.ExitFailure;
            }
            long pauseMicros = parse.GetValue(pause);
            if (pauseMicros < 0)
            {
                Console.Error.WriteLine("relay scan: --pause must not be negative");
                return GlobalOptions.ExitFailure;
            }
            using var store = GlobalOptions.OpenStore(loaded);
            if (store is null) return GlobalOptions.ExitFailure;

            bool countOnly = parse.GetValue(count), report = parse.GetValue(metrics);
            long budgetTicks = pauseMicros == 0 ? long.MaxValue : Math.Max(1, pauseMicros * Stopwatch.Frequency / 1_000_000);
            var sink = new ScanSink(countOnly ? null : new StdoutWriter());
            try
            {
                using var view = store.BeginRead();
                var run = QueryRun.Start(filters, int.MaxValue, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), view.LatestLevId);
                int slice = 0;
                long total = Stopwatch.GetTimestamp();
                bool finished;
                do
                {
                    long before = sink.Count, started = Stopwatch.GetTimestamp();
                    finished = run.Step(view, sink, budgetTicks);
                    if (report)
                        Console.Error.WriteLine($"scan: slice {++slice}: {sink.Count - before} events in {Stopwatch.GetElapsedTime(started).TotalMicroseconds:F0} us");
                }
                while (!finished);
                if (report) Console.Error.WriteLine($"scan: {sink.Count} events in {Stopwatch.GetElapsedTime(total).TotalMicroseconds:F0} us");
                if (countOnly) Console.WriteLine(sink.Count);
                sink.Output?.Flush();
            }
            catch (IOException)
            {
                // The reader went away (`relay scan ... | head`), as strfry exits on SIGPIPE.
                return GlobalOptions.ExitFailure;
            }
            finally
            {
                sink.Output?.Dispose();
            }
            return GlobalOptions.ExitOk;
        });
        return command;
    }

    private sealed class ScanSink(StdoutWriter? output) : IQuerySink
    {
        public StdoutWriter? Output { get; } = output;
        public long Count { get; private set; }

        public bool OnEvent(ulong levId, ReadOnlySpan<byte> json)
        {
            Count++;
            Output?.WriteLine(json);
            return true;
        }
    }
}
