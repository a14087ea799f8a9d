using LightningDB;
using Relay.Native.Storage;
using Relay.Server.Observability.Logging;

namespace Relay.Server.Observability;

/// <summary>
/// Watches how full the LMDB map is. LMDB never grows the map by itself: at dbParams.mapsize every
/// write fails with MDB_MAP_FULL until the operator raises it (a restart) or frees space, so the
/// operator hears of it early (a WARN line past 80%, again past 90% and 95%) and clearly when it
/// happens (an ERROR line, and `OK false "error: database is full"` to the clients).
/// </summary>
internal sealed class StoreCapacity(EventStore store)
{
    /// <summary>The reply to an event that could not be stored because the map is full.</summary>
    public const string FullMessage = "error: database is full";

    private static readonly int[] s_thresholds = [80, 90, 95];
    private int _warnedAt;   // highest threshold already reported, 0 for none

    /// <summary>Samples the map's use and writes a WARN line the first time it passes each threshold.</summary>
    public void Check()
    {
        StoreInfo info;
        try { info = store.Describe(); }
        catch (ObjectDisposedException) { return; }
        if (info.MapSize <= 0) return;
        double percent = 100.0 * info.UsedBytes / info.MapSize;
        int reached = 0;
        foreach (int t in s_thresholds) if (percent >= t) reached = t;
        if (reached > _warnedAt)
        {
            RelayLog.Warn("database map is filling up: raise dbParams.mapsize (takes effect on restart) or delete events",
                new LogField("used_percent", (long)percent), new LogField("used_bytes", info.UsedBytes), new LogField("map_bytes", info.MapSize),
                new LogField("db", store.Path));
        }
        // Falls back only when usage did (a bigger map after a restart), so each level warns once per climb.
        _warnedAt = reached;
    }

    private static int s_full;

    public static bool IsMapFull(Exception e) => e is LightningException { StatusCode: (int)MDBResultCode.MapFull };

    /// <summary>
    /// For a write batch that failed: true when <paramref name="e"/> is MDB_MAP_FULL, then counted and
    /// logged as an ERROR line the first time in a row (further refusals are only counted, in
    /// relay_db_map_full_total, until a write succeeds).
    /// </summary>
    public static bool ReportIfMapFull(Exception e, int events)
    {
        if (!IsMapFull(e)) return false;
        Metrics.MapFullRefusals.Add(1);
        if (Interlocked.Exchange(ref s_full, 1) == 0)
            RelayLog.Error("database is full (MDB_MAP_FULL): writes are refused until dbParams.mapsize is raised (restart) or events are deleted; reads go on",
                new LogField("events_refused", events));
        return true;
    }

    /// <summary>Called after a commit: ends a full episode (with an INFO line) so the next one is reported again.</summary>
    public static void NoteCommitted()
    {
        if (Volatile.Read(ref s_full) == 1 && Interlocked.Exchange(ref s_full, 0) == 1)
            RelayLog.Info("database accepts writes again after being full");
    }
}
