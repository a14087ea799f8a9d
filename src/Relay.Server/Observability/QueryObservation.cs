using System.Diagnostics;
using Relay.Native.Query;
using Relay.Server.Observability.Logging;
using Relay.Server.Relay;

namespace Relay.Server.Observability;

/// <summary>What a REQ worker reports when a query is answered: its latency, and the dbScanPerf line.</summary>
internal static class QueryObservation
{
    /// <param name="started">Stopwatch timestamp when the worker took the query.</param>
    /// <param name="scanTicks">Time spent inside the run's steps (the rest is waiting for its turn).</param>
    /// <param name="slices">Steps the run took (1 when it finished within one time slice).</param>
    public static void Finished(ClientSession session, byte[] subIdRaw, QueryRun run, bool isCount, long started, long scanTicks, int slices)
    {
        long total = Stopwatch.GetTimestamp() - started;
        (isCount ? Metrics.QueryCount : Metrics.QueryReq).Record(total);
        if (session.Log.DbScanPerf)
            session.Log.QueryDone(session, subIdRaw, isCount,
                new QueryFigures(run.DescribeIndexes(), Microseconds(total), Microseconds(scanTicks), slices, run.Work, isCount ? run.Count : run.Sent));
    }

    private static long Microseconds(long ticks) => ticks * 1_000_000 / Stopwatch.Frequency;
}
