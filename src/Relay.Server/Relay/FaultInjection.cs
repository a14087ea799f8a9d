namespace Relay.Server.Relay;

/// <summary>
/// Points where tests make the pipeline fail or stall on purpose (a throwing writer, a failing fsync,
/// a stalled commit) to prove that the failure paths answer every client and lose nothing. Null in
/// production; each hook is one null check on its path.
/// </summary>
internal sealed class FaultInjection
{
    /// <summary>On an ingester, just before a verified event is handed to the writer.</summary>
    public Action? IngesterBeforeHandOff;
    /// <summary>On an ingester, just after a verified event was handed to the writer.</summary>
    public Action? IngesterAfterHandOff;
    /// <summary>On the writer, before a batch's transaction (throw: nothing of the batch is stored).</summary>
    public Action? WriterBeforeCommit;
    /// <summary>On the writer, after a batch committed (throw: the batch is stored all the same).</summary>
    public Action? WriterAfterCommit;
    /// <summary>On the syncer, instead of nothing before mdb_env_sync (throw: the fsync failed).</summary>
    public Action? SyncerBeforeSync;
    /// <summary>Inbox size of each ingester (default 4096): small to fill it on purpose.</summary>
    public int? IngesterInboxCapacity;
}
