using System.CommandLine;
using System.Diagnostics;
using Relay.Native.Query;
using Relay.Native.Storage;

namespace Relay.Server.Commands;

/// <summary>
/// <c>relay delete [--age SECONDS] [--filter FILTER] [--dry-run]</c>: removes stored events older than
/// an age and/or matching a filter (strfry's cron favourite). Events vanish from every index; a relay
/// serving the same database stops serving them at once. Works in batches of write transactions, so
/// a big delete never holds the database's writer lock for long.
/// </summary>
internal static class DeleteCommand
{
    /// <summary>Events removed per write transaction.</summary>
    internal const int BatchSize = 10_000;
    // Query time per read snapshot before the matches found so far are deleted.
    private static readonly long s_sliceTicks = Stopwatch.Frequency / 20;

    public static Command Create(GlobalOptions g)
    {
        var age = new Option<ulong?>("--age") { Description = "Delete events with created_at older than this many seconds ago", HelpName = "SECONDS" };
        var filterOption = new Option<string?>("--filter") { Description = "Delete events matching this NIP-01 filter (JSON; its limit applies)", HelpName = "FILTER" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only count what would be deleted" };
        var command = new Command("delete", "Delete stored events older than --age and/or matching --filter (one is required); prints the count")
        {
            age, filterOption, dryRun,
        };
        command.SetAction(parse =>
        {
            var loaded = g.LoadConfig(parse);
            if (loaded is null) return GlobalOptions.ExitFailure;
            ulong? ageSeconds = parse.GetValue(age);
            string? filterText = parse.GetValue(filterOption);
            if (ageSeconds is null && string.IsNullOrEmpty(filterText))
            {
                Console.Error.WriteLine("relay delete: must specify --age and/or --filter");
                return GlobalOptions.ExitFailure;
            }
            filterText = string.IsNullOrEmpty(filterText) ? "{}" : filterText;
            if (!CliFilter.TryParse(filterText, loaded.Config, out var filters, out string? error))
            {
                Console.Error.WriteLine($"relay delete: bad filter: {error}");
                return GlobalOptions.ExitFailure;
            }
            if (ageSeconds is { } seconds)
            {
                if (CliFilter.HasKey(filterText, "until"))
                {
                    Console.Error.WriteLine("relay delete: --age is not compatible with a filter containing 'until'");
                    return GlobalOptions.ExitFailure;
                }
                long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                long until = now - (long)Math.Min(seconds, (ulong)now);
                for (int i = 0; i < filters.Length; i++) filters[i] = WithUntil(filters[i], until);
            }

            using var store = GlobalOptions.OpenStore(loaded);
            if (store is null) return GlobalOptions.ExitFailure;
            bool dry = parse.GetValue(dryRun);
            var (matched, deleted) = Run(store, filters, dry);
            if (dry) Console.Error.WriteLine($"Would delete {matched} events");
            else Console.Error.WriteLine($"Deleted {deleted} events");
            return GlobalOptions.ExitOk;
        });
        return command;
    }

    /// <summary>
    /// Finds the matches slice by slice, each in a fresh snapshot, and deletes what a slice found
    /// before the next: memory stays bounded and no snapshot pins old pages for long. The query
    /// resumes by index position, so deleting behind it changes nothing ahead of it.
    /// </summary>
    private static (long Matched, long Deleted) Run(EventStore store, Filter[] filters, bool dryRun)
    {
        var sink = new LevIdSink();
        QueryRun? run = null;
        long matched = 0, deleted = 0;
        bool finished = false;
        while (!finished)
        {
            using (var view = store.BeginRead())
            {
                // now = 0: expired events match too (queries hide them; here they should go).
                run ??= QueryRun.Start(filters, int.MaxValue, 0, view.LatestLevId);
                finished = run.Step(view, sink, s_sliceTicks);
            }
            matched += sink.LevIds.Count;
            if (!dryRun)
            {
                var found = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sink.LevIds);
                for (int from = 0; from < found.Length; from += BatchSize)
                    deleted += store.Delete(found.Slice(from, Math.Min(BatchSize, found.Length - from)));
            }
            sink.LevIds.Clear();
        }
        return (matched, deleted);
    }

    private static Filter WithUntil(Filter f, long until) => new Filter
    {
        Ids = f.Ids,
        Authors = f.Authors,
        Kinds = f.Kinds,
        Tags = f.Tags,
        Since = f.Since,
        Until = until,
        Limit = f.Limit,
    };

    private sealed class LevIdSink : IQuerySink
    {
        public List<ulong> LevIds { get; } = new();

        public bool OnEvent(ulong levId, ReadOnlySpan<byte> json)
        {
            LevIds.Add(levId);
            return true;
        }
    }
}
