using System.Diagnostics;
using LightningDB;
using Relay.Native.Events;
using Relay.Native.Storage;

namespace Relay.Native.Query;

/// <summary>
/// The stored-events phase of one REQ (or one COUNT), runnable in time slices so that a heavy
/// query cannot stall the other REQs of its worker: <see cref="Step"/> works until the budget is
/// spent, and the next <see cref="Step"/> resumes where it stopped, possibly in a newer
/// <see cref="ReadView"/> (a long read transaction would pin old pages while the writer goes on).
/// <para>
/// What survives between steps is positions, never spans: per index cursor the created_at ‖
/// levId it stopped at, per filter how many events it selected. A newer view can differ from the
/// snapshot in two ways, and each is harmless by construction. Events added since carry levIds
/// above <see cref="SnapshotLevId"/> and are skipped (the monitor delivers them live). Events
/// removed since (NIP-09 deletion, replacement, expiry purge, admin delete) are simply not found
/// when the scan reaches them.
/// </para>
/// <para>
/// Guarantee: the events sent are exactly what <see cref="QueryEngine.Run"/> sends on the
/// snapshot, except that each filter treats as absent the events removed before its scan reached
/// them (so such an event is not sent, does not count toward the filter's limit, and the next
/// older match takes its place). Order (newest first, ties by lowest id), limits, since/until,
/// expiry at the run's <c>now</c>, and "each event once" hold across pauses. An event sent by one
/// filter and removed before a later filter reaches it may or may not count toward that later
/// filter's limit. A COUNT counts the snapshot's matches minus those removed before reached.
/// </para>
/// <para>
/// Pauses happen only between created_at groups (and between id lookups), so a group is always
/// gathered, sorted and sent within one view. One thread steps a run at a time; a run is reusable
/// (<see cref="Restart"/>, <see cref="Clear"/>) and keeps its buffers.
/// </para>
/// </summary>
public sealed class QueryRun
{
    private const int DefaultWorkPerClockCheck = 256;
    // Buffers that grew for one giant query are not kept by an idle, pooled run.
    private const int MaxRetainedSetSize = 65536;
    private const int MaxRetainedCandidates = 4096;

    private enum Phase : byte { Begin, Scan, IdsLookup, IdsEmit }

    private enum Outcome : byte { FilterDone, Paused, Stopped }

    private readonly IndexScan _scan = new();
    private Filter[] _filters = new Filter[4];
    private int _filterCount;
    private int _maxLimit;
    private long _maxCount;
    private long _now;
    private bool _counting;

    private int _filterIndex;
    private Phase _phase;
    private QueryIndex _index;
    private int _limit;
    private int _selected;
    private int _next;

    // REQ with several filters: levIds already sent. COUNT: levIds already counted.
    private HashSet<ulong> _seen = new();
    // Set only during a Step: the gate belongs to the caller and may change between slices.
    private IEventGate? _gate;
    private bool _dedupe;
    private Candidate[] _candidates = new Candidate[64];
    private int _candidateCount;

    private QueryRun() { }

    /// <summary>The view's <see cref="ReadView.LatestLevId"/> when the REQ started; newer events are never sent.</summary>
    public ulong SnapshotLevId { get; private set; }

    public bool IsFinished { get; private set; }

    /// <summary>Index entries and id lookups examined so far (roughly; for relay.logging.dbScanPerf).</summary>
    public long Work { get; private set; }

    /// <summary>REQ runs: events handed to the sink so far.</summary>
    public long Sent { get; private set; }

    /// <summary>The index each filter is scanned on, comma-separated (e.g. "tag,author_kind"); for logs, it allocates.</summary>
    public string DescribeIndexes()
    {
        var names = new string[_filterCount];
        for (int i = 0; i < _filterCount; i++)
        {
            names[i] = QueryPlanner.Choose(_filters[i], out _) switch
            {
                QueryIndex.Ids => "ids",
                QueryIndex.Tag => "tag",
                QueryIndex.AuthorKind => "author_kind",
                QueryIndex.Author => "author",
                QueryIndex.Kind => "kind",
                _ => "created_at",
            };
        }
        return string.Join(',', names);
    }

    /// <summary>COUNT runs: the events counted so far, final once <see cref="Step"/> returned true.</summary>
    public long Count => _counting ? Math.Min(_seen.Count, _maxCount) : 0;

    /// <summary>How many index entries / lookups pass between two clock reads. Tests set 1 to pause at every chance.</summary>
    internal int WorkPerClockCheck { get; set; } = DefaultWorkPerClockCheck;

    /// <summary>
    /// A REQ run with <see cref="QueryEngine.Run"/>'s rules: limits clamped to
    /// <paramref name="maxLimit"/> (no limit means <paramref name="maxLimit"/>), since/until
    /// inclusive, events expired at <paramref name="now"/> left out.
    /// </summary>
    public static QueryRun Start(ReadOnlySpan<Filter> filters, int maxLimit, long now, ulong snapshotLevId)
    {
        var run = new QueryRun();
        run.Restart(filters, maxLimit, now, snapshotLevId);
        return run;
    }

    /// <summary>A NIP-45 COUNT run: matches of any filter, each once, limits ignored, stopping at <paramref name="maxCount"/>.</summary>
    public static QueryRun StartCount(ReadOnlySpan<Filter> filters, long maxCount, long now, ulong snapshotLevId)
    {
        var run = new QueryRun();
        run.RestartCount(filters, maxCount, now, snapshotLevId);
        return run;
    }

    /// <summary>Makes this (finished or abandoned) run a new REQ run, keeping its buffers.</summary>
    public void Restart(ReadOnlySpan<Filter> filters, int maxLimit, long now, ulong snapshotLevId)
    {
        Reset(filters, now, snapshotLevId, counting: false);
        _maxLimit = maxLimit;
        _dedupe = filters.Length > 1;
    }

    /// <summary>Makes this run a new COUNT run, keeping its buffers.</summary>
    public void RestartCount(ReadOnlySpan<Filter> filters, long maxCount, long now, ulong snapshotLevId)
    {
        Reset(filters, now, snapshotLevId, counting: true);
        _maxCount = maxCount;
        _dedupe = true;
        if (maxCount <= 0) IsFinished = true;
    }

    /// <summary>Lets go of the filters (and of buffers a big query grew), e.g. before pooling the run.</summary>
    public void Clear()
    {
        Array.Clear(_filters, 0, _filterCount);
        _filterCount = 0;
        IsFinished = true;
        _scan.Rebind(null);
        if (_seen.Count > MaxRetainedSetSize) _seen = new HashSet<ulong>();
        else _seen.Clear();
        if (_candidates.Length > MaxRetainedCandidates) _candidates = new Candidate[64];
    }

    /// <summary>
    /// Runs until finished, the sink returned false, or <paramref name="budgetTicks"/>
    /// (<see cref="Stopwatch"/> ticks) are spent; at least one unit of progress is made per call.
    /// Returns true when the run is finished. <paramref name="view"/> may be any view at least as
    /// new as the snapshot; spans from it are not kept past the call. <paramref name="sink"/> may
    /// be null for COUNT runs.
    /// </summary>
    public bool Step(ReadView view, IQuerySink? sink, long budgetTicks) => Step(view, sink, budgetTicks, null);

    /// <summary>Like <see cref="Step(ReadView, IQuerySink?, long)"/>, leaving out the events <paramref name="gate"/> refuses.</summary>
    public bool Step(ReadView view, IQuerySink? sink, long budgetTicks, IEventGate? gate)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (IsFinished) return true;
        if (!_counting) ArgumentNullException.ThrowIfNull(sink);
        if (view.LatestLevId < SnapshotLevId)
            throw new ArgumentException("the view is older than the run's snapshot", nameof(view));

        var budget = new Budget(budgetTicks, WorkPerClockCheck);
        LightningCursor? cursor = null;
        _gate = gate;
        try
        {
            while (_filterIndex < _filterCount)
            {
                var filter = _filters[_filterIndex];
                Outcome outcome;
                switch (_phase)
                {
                    case Phase.Begin:
                        outcome = Begin(view, filter, ref cursor);
                        if (outcome == Outcome.Paused) continue;
                        break;
                    case Phase.Scan:
                        if (cursor is null)
                        {
                            cursor = view.CreateCursor(QueryPlanner.Database(_index, view.Databases));
                            _scan.Rebind(cursor);
                        }
                        outcome = _counting ? CountScan(view, filter, ref budget) : SendScan(view, filter, sink!, ref budget);
                        break;
                    case Phase.IdsLookup:
                        outcome = LookUpIds(view, filter, ref budget);
                        if (outcome == Outcome.FilterDone && !_counting)
                        {
                            SortCandidatesNewestFirst();
                            _phase = Phase.IdsEmit;
                            _next = 0;
                            continue;
                        }
                        break;
                    default:
                        outcome = SendIds(view, sink!, ref budget);
                        break;
                }

                if (outcome == Outcome.Paused) return false;
                if (outcome == Outcome.Stopped) break;
                // Next filter; its index may be another database.
                _filterIndex++;
                _phase = Phase.Begin;
                if (cursor is not null)
                {
                    _scan.Rebind(null);
                    cursor.Dispose();
                    cursor = null;
                }
            }
            IsFinished = true;
            return true;
        }
        finally
        {
            _gate = null;
            Work += budget.Total;
            // The cursor belongs to this view's transaction, which the caller may end now.
            _scan.Rebind(null);
            cursor?.Dispose();
        }
    }

    private void Reset(ReadOnlySpan<Filter> filters, long now, ulong snapshotLevId, bool counting)
    {
        Array.Clear(_filters, 0, _filterCount);
        if (_filters.Length < filters.Length) _filters = new Filter[Math.Max(filters.Length, _filters.Length * 2)];
        for (int i = 0; i < filters.Length; i++)
            _filters[i] = filters[i] ?? throw new ArgumentNullException(nameof(filters));
        _filterCount = filters.Length;
        _now = now;
        SnapshotLevId = snapshotLevId;
        Work = 0;
        Sent = 0;
        _counting = counting;
        _filterIndex = 0;
        _phase = Phase.Begin;
        _seen.Clear();
        _candidateCount = 0;
        _scan.Reset();
        IsFinished = false;
    }

    /// <summary>Plans the filter; returns Paused to mean "go on with the phase set here", FilterDone to skip it.</summary>
    private Outcome Begin(ReadView view, Filter filter, ref LightningCursor? cursor)
    {
        // created_at is a u64 in the index; negative bounds mean "from 0" / "nothing".
        if (filter.Until < 0 || filter.Since > filter.Until) return Outcome.FilterDone;
        if (_counting)
        {
            _limit = int.MaxValue;
        }
        else
        {
            _limit = filter.Limit < 0 || filter.Limit > _maxLimit ? _maxLimit : filter.Limit;
            if (_limit <= 0) return Outcome.FilterDone;
        }
        _selected = 0;
        _next = 0;
        _candidateCount = 0;

        _index = QueryPlanner.Choose(filter, out var tag);
        if (_index == QueryIndex.Ids)
        {
            _phase = Phase.IdsLookup;
            return Outcome.Paused;
        }
        _scan.Reset();
        QueryPlanner.AddValues(filter, _index, tag, _scan);
        if (_scan.RunCount == 0) return Outcome.FilterDone;
        cursor = view.CreateCursor(QueryPlanner.Database(_index, view.Databases));
        _scan.Start(cursor, filter.Since < 0 ? 0 : (ulong)filter.Since, (ulong)filter.Until, _counting ? _maxCount : _limit);
        _phase = Phase.Scan;
        return Outcome.Paused;
    }

    private Outcome SendScan(ReadView view, Filter filter, IQuerySink sink, ref Budget budget)
    {
        while (_scan.NextGroup(out _))
        {
            // All of a group share created_at; order them by id, and let the duplicates (an event
            // found through two values of the same tag) meet.
            var group = _scan.Group;
            int count = 0;
            foreach (ulong levId in group)
            {
                if (levId > SnapshotLevId || !view.TryGetEvent(levId, out var ev)) continue;
                if (ev.IsExpiredAt(_now) || !filter.Matches(ev) || !Admits(ev)) continue;
                CandidateAt(count++) = new Candidate(ev.Id, ev.CreatedAt, levId);
            }
            var candidates = _candidates.AsSpan(0, count);
            if (count > 1) candidates.Sort(static (a, b) => a.Id.CompareTo(b.Id));
            for (int i = 0; i < candidates.Length; i++)
            {
                if (i > 0 && candidates[i].LevId == candidates[i - 1].LevId) continue;
                var sent = Send(view, candidates[i].LevId, sink);
                if (sent == SendResult.Stopped) return Outcome.Stopped;
                if (sent == SendResult.Selected && ++_selected == _limit) return Outcome.FilterDone;
            }
            if (budget.Spend(group.Length)) return Outcome.Paused;
        }
        return Outcome.FilterDone;
    }

    private Outcome CountScan(ReadView view, Filter filter, ref Budget budget)
    {
        while (_scan.NextGroup(out _))
        {
            var group = _scan.Group;
            foreach (ulong levId in group)
            {
                if (IsMatch(view, levId, filter) && _seen.Add(levId) && _seen.Count >= _maxCount)
                    return Outcome.Stopped;
            }
            if (budget.Spend(group.Length)) return Outcome.Paused;
        }
        return Outcome.FilterDone;
    }

    private Outcome LookUpIds(ReadView view, Filter filter, ref Budget budget)
    {
        var ids = filter.Ids!;
        while (_next < ids.Length)
        {
            var id = ids[_next++].Span;
            if (view.TryGetLevId(id, out ulong levId) && levId <= SnapshotLevId
                && view.TryGetEvent(levId, out var ev) && !ev.IsExpiredAt(_now) && filter.Matches(ev) && Admits(ev))
            {
                if (_counting)
                {
                    if (_seen.Add(levId) && _seen.Count >= _maxCount) return Outcome.Stopped;
                }
                else
                {
                    CandidateAt(_candidateCount++) = new Candidate(id, ev.CreatedAt, levId);
                }
            }
            // Pausing after the last lookup too gives the sends a fresh slice.
            if (budget.Spend(1)) return Outcome.Paused;
        }
        return Outcome.FilterDone;
    }

    private void SortCandidatesNewestFirst() =>
        _candidates.AsSpan(0, _candidateCount).Sort(static (a, b) =>
            a.CreatedAt != b.CreatedAt ? b.CreatedAt.CompareTo(a.CreatedAt) : a.Id.CompareTo(b.Id));

    private Outcome SendIds(ReadView view, IQuerySink sink, ref Budget budget)
    {
        while (_next < _candidateCount && _selected < _limit)
        {
            ulong levId = _candidates[_next++].LevId;
            // An id listed twice in the filter is one event; its candidates sort next to each other.
            if (_next > 1 && _candidates[_next - 2].LevId == levId) continue;
            // A candidate looked up in an earlier view may have been removed since: Send skips it.
            var sent = Send(view, levId, sink);
            if (sent == SendResult.Stopped) return Outcome.Stopped;
            if (sent == SendResult.Selected) _selected++;
            if (budget.Spend(1) && _next < _candidateCount && _selected < _limit) return Outcome.Paused;
        }
        return Outcome.FilterDone;
    }

    private enum SendResult : byte { Selected, Absent, Stopped }

    private SendResult Send(ReadView view, ulong levId, IQuerySink sink)
    {
        // The limit counts an event a filter selects even if an earlier filter already sent it.
        if (_dedupe && _seen.Contains(levId)) return SendResult.Selected;
        if (!view.TryGetPayload(levId, out var json)) return SendResult.Absent;
        if (_dedupe) _seen.Add(levId);
        if (!sink.OnEvent(levId, json)) return SendResult.Stopped;
        Sent++;
        return SendResult.Selected;
    }

    private bool IsMatch(ReadView view, ulong levId, Filter filter) =>
        levId <= SnapshotLevId && view.TryGetEvent(levId, out var ev) && !ev.IsExpiredAt(_now) && filter.Matches(ev) && Admits(ev);

    private bool Admits(in PackedEvent ev) => _gate is null || _gate.Admits(ev);

    private ref Candidate CandidateAt(int index)
    {
        if (index >= _candidates.Length) Array.Resize(ref _candidates, _candidates.Length * 2);
        return ref _candidates[index];
    }

    /// <summary>Reads the clock only every so many units of work: a read costs more than an index entry.</summary>
    private struct Budget
    {
        private readonly long _deadline;
        private readonly int _every;
        private int _work;

        /// <summary>Units spent in this slice.</summary>
        public long Total;

        public Budget(long budgetTicks, int every)
        {
            long start = Stopwatch.GetTimestamp();
            if (budgetTicks < 0) budgetTicks = 0;
            _deadline = budgetTicks >= long.MaxValue - start ? long.MaxValue : start + budgetTicks;
            _every = Math.Max(every, 1);
            _work = 0;
            Total = 0;
        }

        /// <summary>True when the slice is used up.</summary>
        public bool Spend(int units)
        {
            Total += units;
            _work += units;
            if (_work < _every) return false;
            _work = 0;
            return _deadline != long.MaxValue && Stopwatch.GetTimestamp() >= _deadline;
        }
    }

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
}
