using System.CommandLine;
using System.Diagnostics;
using Relay.Native.Events;
using Relay.Server.Policy;
using Relay.Server.Relay;

namespace Relay.Server.Commands;

/// <summary>
/// <c>relay import [--show-rejected] [--no-verify] [FILE]</c>: JSONL events (what <c>strfry export</c>
/// or <c>relay export</c> writes) into the database, with the relay's own parser and write rules.
/// Safe while a relay serves the same database: its live subscribers get the imported events.
/// </summary>
internal static class ImportCommand
{
    public static Command Create(GlobalOptions g)
    {
        var showRejected = new Option<bool>("--show-rejected") { Description = "Print each refused line with its reason" };
        var noVerify = new Option<bool>("--no-verify") { Description = "Skip signature checks (ids are still checked: they key the database)" };
        var writeBatch = new Option<int>("--write-batch")
        {
            Description = "Events per write transaction",
            HelpName = "N",
            DefaultValueFactory = _ => 10_000,
        };
        var debounce = new Option<int>("--debounce-millis")
        {
            Description = "How long a partial batch waits for more input before it is committed",
            HelpName = "MS",
            DefaultValueFactory = _ => 1000,
        };
        var file = new Argument<string?>("FILE")
        {
            Description = "JSONL file to read (default: standard input). Each line is checked like a published event: strict parse, id, " +
                "signature, size and tag limits, replaceable and deletion rules. Exit code 0 unless the input cannot be read or the database fails.",
            Arity = ArgumentArity.ZeroOrOne,
        };

        var command = new Command("import",
            "Import JSONL events from FILE or stdin with the relay's checks (like strfry: no created_at window); summary on stderr")
        {
            showRejected, noVerify, writeBatch, debounce, file,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var loaded = g.LoadConfig(parse);
            if (loaded is null) return GlobalOptions.ExitFailure;
            var config = loaded.Config;
            if (parse.GetValue(writeBatch) < 1 || parse.GetValue(debounce) < 0)
            {
                Console.Error.WriteLine("relay import: --write-batch must be at least 1 and --debounce-millis not negative");
                return GlobalOptions.ExitFailure;
            }

            string? path = parse.GetValue(file);
            Stream input;
            try
            {
                input = path is null or "-" ? Console.OpenStandardInput() : File.OpenRead(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"relay import: cannot read '{path}': {e.Message}");
                return GlobalOptions.ExitFailure;
            }

            await using (input)
            {
                using var store = GlobalOptions.OpenStore(loaded);
                if (store is null) return GlobalOptions.ExitFailure;
                bool skipVerify = parse.GetValue(noVerify);
                if (skipVerify) RelayLog.Warn("import: not verifying signatures!");

                var options = new ImportOptions
                {
                    ShowRejected = parse.GetValue(showRejected),
                    NoVerify = skipVerify,
                    WriteBatch = parse.GetValue(writeBatch),
                    DebounceMillis = parse.GetValue(debounce),
                    SourceInfo = path is null or "-" ? "stdin" : path,
                    Limits = new EventLimits
                    {
                        MaxEventSize = config.Events.MaxEventSize,
                        MaxNumTags = config.Events.MaxNumTags,
                        MaxTagValSize = config.Events.MaxTagValSize,
                    },
                    Policy = AcceptAllPolicy.Instance,
                };
                var tally = new ImportTally();
                var started = Stopwatch.GetTimestamp();
                using var progress = Console.IsErrorRedirected ? null : new Timer(_ => PrintProgress(tally), null, 500, 500);
                try
                {
                    await new Importer(store, options, tally).RunAsync(input, cancellationToken);
                }
                catch (ImportFailedException e)
                {
                    progress?.Dispose();
                    PrintSummary(tally, store.Count, Stopwatch.GetElapsedTime(started));
                    Console.Error.WriteLine($"relay import: the database refused a write batch, import stopped: {e.Message}");
                    return GlobalOptions.ExitFailure;
                }
                catch (OperationCanceledException)
                {
                    progress?.Dispose();
                    PrintSummary(tally, store.Count, Stopwatch.GetElapsedTime(started));
                    Console.Error.WriteLine("relay import: interrupted; the batches committed so far are kept");
                    return GlobalOptions.ExitFailure;
                }
                catch (IOException e)
                {
                    progress?.Dispose();
                    PrintSummary(tally, store.Count, Stopwatch.GetElapsedTime(started));
                    Console.Error.WriteLine($"relay import: reading the input failed: {e.Message}");
                    return GlobalOptions.ExitFailure;
                }
                progress?.Dispose();
                PrintSummary(tally, store.Count, Stopwatch.GetElapsedTime(started));
                return GlobalOptions.ExitOk;
            }
        });
        return command;
    }

    private static void PrintProgress(ImportTally t) =>
        Console.Error.Write($"\rread {t.ReadCount}, stored {t.StoredCount}, duplicate {t.DuplicateCount}, rejected {t.RejectedCount}   ");

    private static void PrintSummary(ImportTally t, long eventsInDb, TimeSpan elapsed)
    {
        if (!Console.IsErrorRedirected) Console.Error.Write("\r\x1b[K");
        Console.Error.WriteLine(
            $"Done. Read {t.ReadCount} lines: {t.StoredCount} stored, {t.DuplicateCount} duplicate, {t.RejectedCount} rejected " +
            $"({t.Commits} commits, {elapsed.TotalSeconds:F1} s). The database holds {eventsInDb} events.");
        foreach (var (reason, count) in t.ByReason())
            Console.Error.WriteLine($"  {reason}: {count}");
    }
}
