using Relay.Native.Query;
using Relay.Native.Storage;

namespace Relay.Native.Negentropy;

/// <summary>
/// Collects the (created_at, id) of the stored events a filter matches, with a time-sliced
/// <see cref="QueryRun"/>, into a <see cref="NegentropyVector"/>: the storage of a NEG-OPEN that no
/// tree serves, and of a sync's local side.
/// </summary>
public sealed class NegentropyScan
{
    public const string TooManyReason = "blocked: too many query results";

    private readonly QueryRun _run;
    private readonly Collector _collector;

    /// <param name="view">Fixes the snapshot: events stored after it are left out.</param>
    /// <param name="now">Events expired at this time (NIP-40) are left out.</param>
    /// <param name="maxEvents">More matches than this stops the scan with <see cref="TooMany"/>.</param>
    public NegentropyScan(Filter filter, ReadView view, long now, int maxEvents = int.MaxValue, NegEventPredicate? include = null)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(view);
        ArgumentOutOfRangeException.ThrowIfNegative(maxEvents);
        // One over the maximum, so that "too many" is seen rather than silently cut.
        _run = QueryRun.Start([filter], Math.Min(maxEvents, int.MaxValue - 1) + 1, now, view.LatestLevId);
        _collector = new Collector(maxEvents, include);
    }

    public bool TooMany => _collector.TooMany;

    public int Count => _collector.Items.Count;

    /// <summary>
    /// Scans for about <paramref name="budgetTicks"/>; true when finished (or stopped by
    /// <see cref="TooMany"/>). Each call may use a newer view.
    /// </summary>
    public bool Step(ReadView view, long budgetTicks)
    {
        ArgumentNullException.ThrowIfNull(view);
        _collector.View = view;
        try
        {
            return _run.Step(view, _collector, budgetTicks) || _collector.TooMany;
        }
        finally
        {
            _collector.View = null;
        }
    }

    /// <summary>Sorts what was collected; call once, after the last <see cref="Step"/>.</summary>
    public NegentropyVector Build() => _collector.Items.Build();

    /// <summary>
    /// A sync's local set in one go: the built tree that serves <paramref name="filter"/> (as of
    /// <paramref name="view"/>, valid while it is), or else a full scan into a vector. Null when more
    /// than <paramref name="maxEvents"/> events match.
    /// </summary>
    public static INegentropyStorage? OpenLocalSet(NegentropyTrees trees, ReadView view, Filter filter, long now, int maxEvents = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(trees);
        if (trees.TryFindBuiltTree(view, filter, out ulong treeId))
            return NegentropyTrees.OpenStorage(view, treeId, filter.Since, filter.Until);
        var scan = new NegentropyScan(filter, view, now, maxEvents);
        scan.Step(view, long.MaxValue);
        return scan.TooMany ? null : scan.Build();
    }

    /// <summary>Receives the scan's events; the run gives levIds, the packed record gives (created_at, id).</summary>
    private sealed class Collector : IQuerySink
    {
        private readonly int _max;
        private readonly NegEventPredicate? _include;

        public Collector(int max, NegEventPredicate? include)
        {
            _max = max;
            _include = include;
        }

        public ReadView? View;
        public NegentropyVectorBuilder Items { get; } = new();
        public bool TooMany { get; private set; }

        public bool OnEvent(ulong levId, ReadOnlySpan<byte> json)
        {
            if (!View!.TryGetEvent(levId, out var ev)) return true;
            if (_include is not null && !_include(ev)) return true;
            if (Items.Count == _max)
            {
                TooMany = true;
                return false;
            }
            Items.Add((ulong)ev.CreatedAt, ev.Id);
            return true;
        }
    }
}
