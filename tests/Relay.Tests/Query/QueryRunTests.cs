using Relay.Native.Events;
using Relay.Native.Query;
using Relay.Native.Storage;
using Relay.Tests.Storage;
using World = Relay.Tests.Query.QueryDifferentialTests.World;

namespace Relay.Tests.Query;

/// <summary>
/// Time-sliced queries: a run paused after every created_at group, resumed in a fresh read
/// transaction each time, with the store changing in between, must still answer like
/// <see cref="QueryEngine.Run"/> on the snapshot it started from (see <see cref="QueryRun"/>).
/// </summary>
public sealed class QueryRunTests : IDisposable
{
    private const long WriteNow = 500;
    private const long QueryNow = 2000;
    private const int MaxLimit = 60;

    private readonly TempStore _db = new();
    private readonly Random _random = new(7);

    public void Dispose() => _db.Dispose();

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void Paused_run_in_fresh_views_sends_exactly_what_one_run_sends(int seed)
    {
        var random = new Random(seed);
        var world = new World(random);
        WriteInBatches(world.GenerateEvents(1500), random);

        int pausedRuns = 0;
        for (int q = 0; q < 300; q++)
        {
            var filters = RandomFilters(world, random);
            var expected = new CollectingSink();
            long expectedCount;
            ulong snapshot;
            using (var view = _db.Store.BeginRead())
            {
                QueryEngine.Run(view, filters, MaxLimit, QueryNow, expected);
                expectedCount = QueryEngine.Count(view, filters, QueryNow, long.MaxValue);
                snapshot = view.LatestLevId;
            }

            var actual = new CollectingSink();
            var run = Sliced(QueryRun.Start(filters, MaxLimit, QueryNow, snapshot));
            var count = Sliced(QueryRun.StartCount(filters, long.MaxValue, QueryNow, snapshot));
            int steps = 0;
            while (!run.IsFinished || !count.IsFinished)
            {
                using var view = _db.Store.BeginRead();
                run.Step(view, actual, budgetTicks: 0);
                count.Step(view, null, budgetTicks: 0);
                steps++;
            }
            if (steps > 2) pausedRuns++;

            Assert.Equal(expected.LevIds, actual.LevIds);
            Assert.Equal(expected.Ids, actual.Ids);
            Assert.Equal(expectedCount, count.Count);
        }
        Assert.True(pausedRuns > 100, $"only {pausedRuns} runs paused");
    }

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    [InlineData(23)]
    public void Paused_run_with_writes_between_steps_answers_from_its_snapshot_minus_removed_events(int seed)
    {
        var random = new Random(seed);
        var world = new World(random);
        WriteInBatches(world.GenerateEvents(1500), random);

        int queriesWithRemovals = 0;
        for (int q = 0; q < 150; q++)
        {
            var filters = RandomFilters(world, random);

            // Everything each filter could select on the snapshot, in order and without limit.
            var lists = new List<ulong>[filters.Length];
            var limits = new int[filters.Length];
            ulong snapshot;
            using (var view = _db.Store.BeginRead())
            {
                snapshot = view.LatestLevId;
                for (int f = 0; f < filters.Length; f++)
                {
                    var all = new CollectingSink();
                    QueryEngine.Run(view, new[] { Unlimited(filters[f]) }, int.MaxValue, QueryNow, all);
                    lists[f] = all.LevIds;
                    limits[f] = filters[f].Limit < 0 || filters[f].Limit > MaxLimit ? MaxLimit : filters[f].Limit;
                }
            }
            var candidates = lists.SelectMany(l => l).Distinct().ToList();

            var sink = new CollectingSink();
            var run = Sliced(QueryRun.Start(filters, MaxLimit, QueryNow, snapshot));
            var count = Sliced(QueryRun.StartCount(filters, long.MaxValue, QueryNow, snapshot));
            while (!run.IsFinished || !count.IsFinished)
            {
                using (var view = _db.Store.BeginRead())
                {
                    run.Step(view, sink, budgetTicks: 0);
                    count.Step(view, null, budgetTicks: 0);
                }
                ChangeTheStore(world, random, candidates);
            }

            var removed = new HashSet<ulong>();
            using (var view = _db.Store.BeginRead())
            {
                foreach (ulong levId in candidates)
                {
                    if (!view.TryGetEvent(levId, out _)) removed.Add(levId);
                }
            }
            if (removed.Count > 0) queriesWithRemovals++;

            Assert.All(sink.LevIds, levId => Assert.True(levId <= snapshot, $"levId {levId} is newer than the snapshot {snapshot}"));
            Assert.True(SnapshotExplains(lists, limits, removed, sink.LevIds),
                $"query {q}: output [{string.Join(",", sink.LevIds)}] is not the snapshot's answer minus removed events\n"
                + string.Join("\n", lists.Select((l, f) => $"filter {f} limit {limits[f]}: [{string.Join(",", l.Select(id => removed.Contains(id) ? $"({id})" : id.ToString()))}]")));
            Assert.InRange(count.Count, candidates.Count(id => !removed.Contains(id)), candidates.Count);
        }
        Assert.True(queriesWithRemovals > 50, $"only {queriesWithRemovals} queries saw removals");
    }

    [Fact]
    public void Events_stored_after_the_snapshot_are_left_to_live_delivery()
    {
        var alice = TestEvent.Key(_random);
        var stored = Enumerable.Range(0, 600).Select(i => TestEvent.Create(_random, alice, 1000 + i, 1)).ToArray();
        _db.WriteBatch(stored);
        var filters = new[] { Filters.Build(authors: new[] { alice }) };
        var run = Sliced(QueryRun.Start(filters, 1000, QueryNow, _db.Store.LastLevId));
        var sink = new CollectingSink();
        using (var view = _db.Store.BeginRead()) Assert.False(run.Step(view, sink, 0));

        // Newer, older and tied timestamps. The scan has buffered only its first chunk (256
        // entries), so the older ones are met by later refills in newer views.
        var late = new[] { 2000L, 1500, 1100, 1000, 500 }.Select(t => TestEvent.Create(_random, alice, t, 1)).ToArray();
        _db.WriteBatch(late);
        while (true)
        {
            using var view = _db.Store.BeginRead();
            if (run.Step(view, sink, 0)) break;
        }

        Assert.Equal(stored.Reverse().Select(e => e.IdHex), sink.Ids);
    }

    [Fact]
    public void Event_removed_before_the_scan_reaches_it_is_skipped_and_the_next_one_fills_the_limit()
    {
        var alice = TestEvent.Key(_random);
        var notes = Enumerable.Range(0, 10).Select(i => TestEvent.Create(_random, alice, 1000 - i, 1, 0, ('t', "x"))).ToArray();
        _db.WriteBatch(notes);
        var filters = new[] { Filters.Build(tags: new[] { ('t', new[] { "x" }) }, limit: 5) };
        var run = Sliced(QueryRun.Start(filters, 100, QueryNow, _db.Store.LastLevId));
        var sink = new CollectingSink();
        using (var view = _db.Store.BeginRead()) run.Step(view, sink, 0);
        Assert.Equal(new[] { notes[0].IdHex }, sink.Ids);

        var deletion = TestEvent.Create(_random, alice, 3000, EventKinds.Deletion, 0, ('e', notes[2].IdHex));
        _db.WriteBatch(new[] { deletion });
        while (true)
        {
            using var view = _db.Store.BeginRead();
            if (run.Step(view, sink, 0)) break;
        }

        Assert.Equal(new[] { 0, 1, 3, 4, 5 }.Select(i => notes[i].IdHex), sink.Ids);
    }

    [Fact]
    public void Ids_run_skips_an_event_removed_between_lookup_and_send()
    {
        var alice = TestEvent.Key(_random);
        var notes = Enumerable.Range(0, 4).Select(i => TestEvent.Create(_random, alice, 1000 - i, 1)).ToArray();
        var levIds = _db.WriteBatch(notes).Select(r => r.LevId).ToArray();
        var filters = new[] { Filters.Build(ids: notes.Select(n => n.Id).Append(notes[1].Id), limit: 3) };
        var run = Sliced(QueryRun.Start(filters, 100, QueryNow, _db.Store.LastLevId));
        var sink = new CollectingSink();
        int steps = 0;
        while (true)
        {
            using (var view = _db.Store.BeginRead())
            {
                if (run.Step(view, sink, 0)) break;
            }
            // After the five lookups (one per step), before anything was sent.
            if (++steps == 5)
            {
                Assert.Empty(sink.Ids);
                Assert.True(_db.Store.Delete(levIds[0]));
            }
        }

        Assert.Equal(new[] { 1, 2, 3 }.Select(i => notes[i].IdHex), sink.Ids);
    }

    [Fact]
    public void Clock_budget_pauses_a_long_scan_that_selects_nothing()
    {
        // A rare author+tag pair: the tag index is scanned and every entry is rejected by author.
        var alice = TestEvent.Key(_random);
        var bob = TestEvent.Key(_random);
        _db.WriteBatch(Enumerable.Range(0, 3000).Select(i => TestEvent.Create(_random, alice, 1000 + i, 1, 0, ('t', "nostr"))).ToArray());
        _db.WriteBatch(new[] { TestEvent.Create(_random, bob, 999, 1, 0, ('t', "nostr")) });
        var filters = new[] { Filters.Build(authors: new[] { bob }, tags: new[] { ('t', new[] { "nostr" }) }) };

        var run = QueryRun.Start(filters, 100, QueryNow, _db.Store.LastLevId);
        var sink = new CollectingSink();
        int steps = 0;
        while (true)
        {
            steps++;
            using var view = _db.Store.BeginRead();
            if (run.Step(view, sink, budgetTicks: 0)) break;
        }

        // The clock is read every 256 entries; with no budget each read ends the slice.
        Assert.InRange(steps, 3000 / 256, 3001 / 256 + 2);
        Assert.Single(sink.Ids);
        Assert.True(run.IsFinished);
    }

    [Fact]
    public void Sink_returning_false_finishes_the_run()
    {
        var alice = TestEvent.Key(_random);
        _db.WriteBatch(Enumerable.Range(0, 10).Select(i => TestEvent.Create(_random, alice, 1000 + i, 1)).ToArray());
        var run = Sliced(QueryRun.Start(new[] { Filters.Build() }, 100, QueryNow, _db.Store.LastLevId));
        var sink = new CollectingSink(stopAfter: 3);
        int steps = 0;
        while (true)
        {
            steps++;
            using var view = _db.Store.BeginRead();
            if (run.Step(view, sink, 0)) break;
        }
        Assert.Equal(3, steps);
        Assert.Equal(3, sink.Ids.Count);
    }

    [Fact]
    public void A_view_older_than_the_snapshot_is_refused()
    {
        _db.WriteBatch(new[] { TestEvent.Create(_random, TestEvent.Key(_random), 1000, 1) });
        var run = QueryRun.Start(new[] { Filters.Build() }, 100, QueryNow, _db.Store.LastLevId + 1);
        using var view = _db.Store.BeginRead();
        Assert.Throws<ArgumentException>(() => run.Step(view, new CollectingSink(), long.MaxValue));
    }

    [Fact]
    public void Restarted_run_steps_without_allocating_per_event()
    {
        var authors = Enumerable.Range(0, 5).Select(_ => TestEvent.Key(_random)).ToArray();
        _db.WriteBatch(Enumerable.Range(0, 1000)
            .Select(i => TestEvent.Create(_random, authors[i % 5], 1000 + i / 3, 1, 0, ('t', "t" + (i % 4))))
            .ToArray());
        var filters = new[]
        {
            Filters.Build(tags: new[] { ('t', new[] { "t0", "t1", "t2" }) }, limit: 400),
            Filters.Build(authors: authors, kinds: new[] { 1 }, limit: 400),
        };
        var sink = new CountingSink();
        using var view = _db.Store.BeginRead();
        var run = QueryRun.Start(filters, 500, QueryNow, view.LatestLevId);
        for (int i = 0; i < 3; i++)
        {
            run.Restart(filters, 500, QueryNow, view.LatestLevId);
            while (!run.Step(view, sink, 0)) { }
        }
        sink.Count = 0;

        long before = GC.GetAllocatedBytesForCurrentThread();
        run.Restart(filters, 500, QueryNow, view.LatestLevId);
        int steps = 0;
        while (!run.Step(view, sink, 0)) steps++;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(sink.Count > 400, $"sent {sink.Count}");
        Assert.True(steps > 0, "the run never paused");
        // One LMDB cursor object per step; anything per event would be >= 800 x 8 bytes.
        Assert.True(allocated < 256 * (steps + 2), $"allocated {allocated} bytes in {steps + 1} steps for {sink.Count} events");
    }

    /// <summary>A run that pauses at every chance (each created_at group, each id) when given no budget.</summary>
    private static QueryRun Sliced(QueryRun run)
    {
        run.WorkPerClockCheck = 1;
        return run;
    }

    private static Filter[] RandomFilters(World world, Random random) =>
        Enumerable.Range(0, random.Next(1, 4)).Select(_ => world.RandomFilter().Compiled).ToArray();

    private static Filter Unlimited(Filter f) => new()
    {
        Ids = f.Ids, Authors = f.Authors, Kinds = f.Kinds, Tags = f.Tags, Since = f.Since, Until = f.Until, Limit = -1,
    };

    private void WriteInBatches(List<TestEvent> events, Random random)
    {
        for (int written = 0; written < events.Count;)
        {
            int size = Math.Min(random.Next(1, 60), events.Count - written);
            _db.WriteBatch(events.GetRange(written, size), WriteNow);
            written += size;
        }
    }

    /// <summary>New events (replacements, NIP-09 deletions, backdated notes) or a removal of an event the query could select.</summary>
    private void ChangeTheStore(World world, Random random, List<ulong> candidates)
    {
        switch (random.Next(4))
        {
            case 0:
                _db.WriteBatch(world.MoreEvents(random.Next(1, 6)), WriteNow);
                break;
            case 1 when candidates.Count > 0:
                _db.Store.Delete(candidates[random.Next(candidates.Count)]);
                break;
        }
    }

    /// <summary>
    /// Whether <paramref name="output"/> is what <see cref="QueryEngine.Run"/> sends on the
    /// snapshot when each filter treats some removed events as absent, the absent set only
    /// growing from filter to filter (removal is for good). <paramref name="lists"/> holds each
    /// filter's matches on the snapshot, in order, without limit. Everything is forced except one
    /// case, which is tried both ways: an event sent by an earlier filter and removed since.
    /// </summary>
    private static bool SnapshotExplains(List<ulong>[] lists, int[] limits, HashSet<ulong> removed, List<ulong> output) =>
        Explains(lists, limits, removed, output, 0, 0, 0, 0, new HashSet<ulong>(), new HashSet<ulong>());

    private static bool Explains(List<ulong>[] lists, int[] limits, HashSet<ulong> removed, List<ulong> output,
        int f, int i, int selected, int sentCount, HashSet<ulong> sent, HashSet<ulong> absent)
    {
        while (true)
        {
            if (f == lists.Length) return sentCount == output.Count;
            var list = lists[f];
            if (selected == limits[f] || i == list.Count)
            {
                f++;
                i = 0;
                selected = 0;
                continue;
            }
            ulong levId = list[i++];
            if (absent.Contains(levId)) continue;
            if (sent.Contains(levId))
            {
                if (removed.Contains(levId)
                    && Explains(lists, limits, removed, output, f, i, selected, sentCount, new HashSet<ulong>(sent), new HashSet<ulong>(absent) { levId }))
                    return true;
                selected++;
                continue;
            }
            if (sentCount < output.Count && output[sentCount] == levId)
            {
                sent.Add(levId);
                sentCount++;
                selected++;
                continue;
            }
            if (!removed.Contains(levId)) return false;
            absent.Add(levId);
        }
    }

    private sealed class CountingSink : IQuerySink
    {
        public int Count;
        public bool OnEvent(ulong levId, ReadOnlySpan<byte> json) { Count++; return true; }
    }
}
