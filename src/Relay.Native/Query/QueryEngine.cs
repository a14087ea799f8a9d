using Relay.Native.Events;
using Relay.Native.Storage;

namespace Relay.Native.Query;

/// <summary>
/// Answers REQ and COUNT from the indexes of a <see cref="ReadView"/>. Each filter is planned
/// on one index (<see cref="QueryPlanner"/>), scanned newest-first with ties by lowest id
/// (NIP-01), checked on the packed record, and cut at its limit.
/// </summary>
public static class QueryEngine
{
    // Scratch is per thread: ReqWorkers are dedicated threads, so steady-state queries reuse it.
    [ThreadStatic] private static QueryScratch? t_scratch;

    /// <summary>
    /// Runs the filters of one REQ: each filter newest-first, ties by lowest id; its limit
    /// clamped to <paramref name="maxLimit"/> (no limit means <paramref name="maxLimit"/>, like
    /// strfry); since/until inclusive; events expired at <paramref name="now"/> and events newer
    /// than the view's <see cref="ReadView.LatestLevId"/> left out; an event selected by several
    /// filters is sent once, where it first appears. The limit counts an event a filter selects
    /// even if an earlier filter already sent it.
    /// </summary>
    public static void Run(ReadView view, ReadOnlySpan<Filter> filters, int maxLimit, long now, IQuerySink sink)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(sink);
        var scratch = TakeScratch();
        try
        {
            HashSet<ulong>? sent = null;
            if (filters.Length > 1)
            {
                sent = scratch.Seen;
                sent.Clear();
            }
            foreach (var filter in filters)
            {
                int limit = filter.Limit < 0 || filter.Limit > maxLimit ? maxLimit : filter.Limit;
                if (limit <= 0) continue;
                if (!RunFilter(view, filter, limit, now, sent, sink, scratch)) return;
            }
        }
        finally
        {
            ReturnScratch(scratch);
        }
    }

    /// <summary>
    /// NIP-45: how many stored events match any of the filters (each counted once), not counting
    /// expired ones. Limits are ignored; counting stops at <paramref name="maxCount"/>.
    /// </summary>
    public static long Count(ReadView view, ReadOnlySpan<Filter> filters, long now, long maxCount)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (maxCount <= 0) return 0;
        var scratch = TakeScratch();
        try
        {
            var seen = scratch.Seen;
            seen.Clear();
            foreach (var filter in filters)
            {
                if (!IsSatisfiable(filter)) continue;
                var index = QueryPlanner.Choose(filter, out var tag);
                if (index == QueryIndex.Ids)
                {
                    foreach (var id in filter.Ids!)
                    {
                        if (TryGetMatch(view, id.Span, filter, now, out _, out ulong levId) && seen.Add(levId) && seen.Count >= maxCount)
                            return maxCount;
                    }
                    continue;
                }

                var scan = scratch.Scan;
                scan.Reset();
                QueryPlanner.AddValues(filter, index, tag, scan);
                if (scan.RunCount == 0) continue;
                using var cursor = view.CreateCursor(QueryPlanner.Database(index, view.Databases));
                scan.Start(cursor, SinceOf(filter), (ulong)filter.Until, maxCount);
                while (scan.NextGroup(out _))
                {
                    foreach (ulong levId in scan.Group)
                    {
                        if (IsMatch(view, levId, filter, now) && seen.Add(levId) && seen.Count >= maxCount)
                            return maxCount;
                    }
                }
            }
            return seen.Count;
        }
        finally
        {
            // A huge COUNT must not leave a huge set cached on the thread.
            if (scratch.Seen.Count > 65536) scratch.Seen = new HashSet<ulong>();
            ReturnScratch(scratch);
        }
    }

    private static bool RunFilter(ReadView view, Filter filter, int limit, long now, HashSet<ulong>? sent, IQuerySink sink, QueryScratch scratch)
    {
        if (!IsSatisfiable(filter)) return true;
        var index = QueryPlanner.Choose(filter, out var tag);
        if (index == QueryIndex.Ids) return RunIds(view, filter, limit, now, sent, sink, scratch);

        var scan = scratch.Scan;
        scan.Reset();
        QueryPlanner.AddValues(filter, index, tag, scan);
        if (scan.RunCount == 0) return true;
        using var cursor = view.CreateCursor(QueryPlanner.Database(index, view.Databases));
        scan.Start(cursor, SinceOf(filter), (ulong)filter.Until, limit);

        int selected = 0;
        while (scan.NextGroup(out _))
        {
            // All of a group share created_at; order them by id, and let the duplicates (an event
            // found through two values of the same tag) meet.
            int count = 0;
            foreach (ulong levId in scan.Group)
            {
                if (levId > view.LatestLevId || !view.TryGetEvent(levId, out var ev)) continue;
                if (ev.IsExpiredAt(now) || !filter.Matches(ev)) continue;
                scratch.Candidate(count++) = new Candidate(ev.Id, ev.CreatedAt, levId);
            }
            var candidates = scratch.Candidates.AsSpan(0, count);
            if (count > 1) candidates.Sort(static (a, b) => a.Id.CompareTo(b.Id));
            for (int i = 0; i < candidates.Length; i++)
            {
                if (i > 0 && candidates[i].LevId == candidates[i - 1].LevId) continue;
                if (!Send(view, candidates[i].LevId, sent, sink)) return false;
                if (++selected == limit) return true;
            }
        }
        return true;
    }

    private static bool RunIds(ReadView view, Filter filter, int limit, long now, HashSet<ulong>? sent, IQuerySink sink, QueryScratch scratch)
    {
        int count = 0;
        foreach (var id in filter.Ids!)
        {
            if (TryGetMatch(view, id.Span, filter, now, out long createdAt, out ulong levId))
                scratch.Candidate(count++) = new Candidate(id.Span, createdAt, levId);
        }
        var candidates = scratch.Candidates.AsSpan(0, count);
        candidates.Sort(static (a, b) => a.CreatedAt != b.CreatedAt ? b.CreatedAt.CompareTo(a.CreatedAt) : a.Id.CompareTo(b.Id));
        int selected = 0;
        for (int i = 0; i < candidates.Length && selected < limit; i++)
        {
            if (i > 0 && candidates[i].LevId == candidates[i - 1].LevId) continue;
            if (!Send(view, candidates[i].LevId, sent, sink)) return false;
            selected++;
        }
        return true;
    }

    private static bool TryGetMatch(ReadView view, ReadOnlySpan<byte> id, Filter filter, long now, out long createdAt, out ulong levId)
    {
        createdAt = 0;
        if (!view.TryGetLevId(id, out levId) || levId > view.LatestLevId) return false;
        if (!view.TryGetEvent(levId, out var ev) || ev.IsExpiredAt(now) || !filter.Matches(ev)) return false;
        createdAt = ev.CreatedAt;
        return true;
    }

    private static bool IsMatch(ReadView view, ulong levId, Filter filter, long now) =>
        levId <= view.LatestLevId && view.TryGetEvent(levId, out var ev) && !ev.IsExpiredAt(now) && filter.Matches(ev);

    private static bool Send(ReadView view, ulong levId, HashSet<ulong>? sent, IQuerySink sink)
    {
        if (sent is not null && !sent.Add(levId)) return true;
        if (!view.TryGetPayload(levId, out var json)) return true;
        return sink.OnEvent(levId, json);
    }

    // created_at is a u64 in the index; negative bounds mean "from 0" / "nothing".
    private static bool IsSatisfiable(Filter filter) => filter.Until >= 0 && filter.Since <= filter.Until;
    private static ulong SinceOf(Filter filter) => filter.Since < 0 ? 0 : (ulong)filter.Since;

    private static QueryScratch TakeScratch()
    {
        // Taken out while in use, so that a sink that runs another query on this thread gets its own.
        var scratch = t_scratch ?? new QueryScratch();
        t_scratch = null;
        return scratch;
    }

    private static void ReturnScratch(QueryScratch scratch) => t_scratch = scratch;

    private readonly struct Candidate
    {
        public Candidate(ReadOnlySpan<byte> id, long createdAt, ulong levId)
        {
            Id = Bytes32.From(id);
            CreatedAt = createdAt;
            LevId = levId;
        }

        public readonly Bytes32 Id;
        public readonly long CreatedAt;
        public readonly ulong LevId;
    }

    private sealed class QueryScratch
    {
        public readonly IndexScan Scan = new();
        public HashSet<ulong> Seen = new();
        public Candidate[] Candidates = new Candidate[64];

        public ref Candidate Candidate(int index)
        {
            if (index >= Candidates.Length) Array.Resize(ref Candidates, Candidates.Length * 2);
            return ref Candidates[index];
        }
    }
}
