using Relay.Native.Storage;

namespace Relay.Native.Query;

/// <summary>
/// Answers REQ and COUNT from the indexes of a <see cref="ReadView"/> in one go. Each filter is
/// planned on one index (<see cref="QueryPlanner"/>), scanned newest-first with ties by lowest
/// id (NIP-01), checked on the packed record, and cut at its limit. This is a
/// <see cref="QueryRun"/> stepped without a time budget; a worker that must not be stalled by a
/// heavy query steps a <see cref="QueryRun"/> itself.
/// </summary>
public static class QueryEngine
{
    // One reusable run per thread: ReqWorkers are dedicated threads, so steady-state queries
    // allocate nothing.
    [ThreadStatic] private static QueryRun? t_run;

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
        var run = TakeRun();
        try
        {
            run.Restart(filters, maxLimit, now, view.LatestLevId);
            run.Step(view, sink, long.MaxValue);
        }
        finally
        {
            ReturnRun(run);
        }
    }

    /// <summary>
    /// NIP-45: how many stored events match any of the filters (each counted once), not counting
    /// expired ones. Limits are ignored; counting stops at <paramref name="maxCount"/>.
    /// </summary>
    public static long Count(ReadView view, ReadOnlySpan<Filter> filters, long now, long maxCount)
    {
        ArgumentNullException.ThrowIfNull(view);
        var run = TakeRun();
        try
        {
            run.RestartCount(filters, maxCount, now, view.LatestLevId);
            run.Step(view, null, long.MaxValue);
            return run.Count;
        }
        finally
        {
            ReturnRun(run);
        }
    }

    private static QueryRun TakeRun()
    {
        // Taken out while in use, so that a sink that runs another query on this thread gets its own.
        var run = t_run ?? QueryRun.Start([], 0, 0, 0);
        t_run = null;
        return run;
    }

    private static void ReturnRun(QueryRun run)
    {
        run.Clear();
        t_run = run;
    }
}
