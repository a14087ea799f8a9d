using Relay.Native.Events;
using Relay.Native.Storage;

namespace Relay.Server.Relay;

/// <summary>
/// Events that other processes committed to this relay's database (<c>relay import</c>, a second
/// relay on the same DB): LMDB lets them write, but nothing tells this process, so live subscribers
/// would never see those events. Owned by the writer thread, which knows which levIds were its own:
/// after each of its commits, the levIds between its previous batch and this one were someone
/// else's; when idle it polls the DB's last levId. Those events are read back and handed to the
/// monitors like a committed batch, a slice per writer loop so a million-event import does not
/// hold up the relay's own writes.
/// </summary>
internal sealed class ExternalCommits
{
    /// <summary>How often an idle writer looks for commits it did not make.</summary>
    public const int PollMilliseconds = 100;
    // levIds examined per writer loop, and events per batch handed to the monitors.
    private const int SliceLevIds = 4096;
    private const int EventsPerBatch = 512;

    private readonly EventStore _store;
    // Inclusive levId ranges handed out by other processes and not yet read back, oldest first.
    private readonly List<(ulong From, ulong To)> _pending = new();
    // Every levId up to this one is either this writer's own (published with its batch) or queued above.
    private ulong _known;

    public ExternalCommits(EventStore store)
    {
        _store = store;
        _known = store.ReadCommittedLevId();
    }

    public bool HasBacklog => _pending.Count > 0;

    /// <param name="before">What the batch's transaction found as the DB's last levId (<see cref="EventStore.WriteBatch(ReadOnlySpan{WriteItem}, Span{WriteResult}, bool)"/>).</param>
    /// <param name="last">The last levId after the batch: everything above <paramref name="before"/> was this batch's.</param>
    public void OwnBatchCommitted(ulong before, ulong last)
    {
        NoteOthersUpTo(before);
        if (last > _known) _known = last;
    }

    public void Poll() => NoteOthersUpTo(_store.ReadCommittedLevId());

    private void NoteOthersUpTo(ulong levId)
    {
        if (levId <= _known) return;
        _pending.Add((_known + 1, levId));
        _known = levId;
    }

    /// <summary>Reads back up to a slice of the pending events and hands them to the monitors.</summary>
    public void PublishSlice(ReqMonitor[] monitors)
    {
        if (_pending.Count == 0) return;
        if (monitors.Length == 0)
        {
            _pending.Clear();
            return;
        }
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        int budget = SliceLevIds;
        CommittedBatch? batch = null;
        using (var view = _store.BeginRead())
        {
            while (budget > 0 && _pending.Count > 0)
            {
                var (levId, to) = _pending[0];
                for (; levId <= to && budget > 0; levId++, budget--)
                {
                    // Gone already (deleted, replaced) or expired: nobody should get it now.
                    if (!view.TryGetEvent(levId, out PackedEvent ev) || ev.IsExpiredAt(now)) continue;
                    if (!view.TryGetPayload(levId, out var json)) continue;
                    batch ??= CommittedBatch.Rent();
                    batch.Add(ev.Raw, json, levId);
                    if (batch.Count == EventsPerBatch)
                    {
                        Post(batch, monitors);
                        batch = null;
                    }
                }
                if (levId > to) _pending.RemoveAt(0);
                else _pending[0] = (levId, to);
            }
        }
        if (batch is not null) Post(batch, monitors);
    }

    private static void Post(CommittedBatch batch, ReqMonitor[] monitors)
    {
        batch.SetReaders(monitors.Length);
        foreach (var m in monitors) m.PostEvents(batch);
    }
}
