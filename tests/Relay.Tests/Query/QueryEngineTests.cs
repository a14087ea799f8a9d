using Relay.Native.Events;
using Relay.Native.Query;
using Relay.Tests.Storage;

namespace Relay.Tests.Query;

public sealed class QueryEngineTests : IDisposable
{
    private const long QueryNow = 10_000;
    private readonly TempStore _db = new();
    private readonly Random _random = new(42);
    private readonly byte[] _alice;
    private readonly byte[] _bob;

    public QueryEngineTests()
    {
        _alice = TestEvent.Key(_random);
        _bob = TestEvent.Key(_random);
    }

    public void Dispose() => _db.Dispose();

    private List<string> Run(int maxLimit, params Filter[] filters)
    {
        var sink = new CollectingSink();
        using var view = _db.Store.BeginRead();
        QueryEngine.Run(view, filters, maxLimit, QueryNow, sink);
        return sink.Ids;
    }

    private long Count(params Filter[] filters)
    {
        using var view = _db.Store.BeginRead();
        return QueryEngine.Count(view, filters, QueryNow, long.MaxValue);
    }

    [Fact]
    public void Events_come_newest_first_and_equal_timestamps_by_lowest_id()
    {
        var template = TestEvent.Create(_random, _alice, 1000, 1);
        var tieHigh = template.WithId(0xC0);
        var tieLow = template.WithId(0x20);
        var tieMid = template.WithId(0x80);
        var newest = TestEvent.Create(_random, _bob, 1001, 1);
        var oldest = TestEvent.Create(_random, _bob, 999, 1);
        _db.WriteBatch(new[] { tieHigh, oldest, tieLow, newest, tieMid });

        var expected = new[] { newest, tieLow, tieMid, tieHigh, oldest }.Select(e => e.IdHex).ToList();
        Assert.Equal(expected, Run(100, Filters.Build()));
        Assert.Equal(expected, Run(100, Filters.Build(kinds: new[] { 1 })));
        Assert.Equal(expected, Run(100, Filters.Build(authors: new[] { _alice, _bob })));
        Assert.Equal(expected.Take(2), Run(100, Filters.Build(limit: 2)));
    }

    [Fact]
    public void Limit_is_clamped_and_a_filter_without_limit_gets_the_maximum()
    {
        var events = Enumerable.Range(0, 30).Select(i => TestEvent.Create(_random, _alice, 1000 + i, 1)).ToArray();
        _db.WriteBatch(events);

        Assert.Equal(10, Run(10, Filters.Build()).Count);
        Assert.Equal(10, Run(10, Filters.Build(limit: 500)).Count);
        Assert.Equal(5, Run(10, Filters.Build(limit: 5)).Count);
        Assert.Empty(Run(10, Filters.Build(limit: 0)));
        Assert.Equal(events[29].IdHex, Run(10, Filters.Build())[0]);
    }

    [Fact]
    public void Since_and_until_are_inclusive()
    {
        var events = Enumerable.Range(0, 10).Select(i => TestEvent.Create(_random, _alice, 1000 + i, 1, 0, ('t', "x"))).ToArray();
        _db.WriteBatch(events);

        var expected = new[] { events[5].IdHex, events[4].IdHex, events[3].IdHex };
        Assert.Equal(expected, Run(100, Filters.Build(since: 1003, until: 1005)));
        Assert.Equal(expected, Run(100, Filters.Build(tags: new[] { ('t', new[] { "x" }) }, since: 1003, until: 1005)));
        Assert.Equal(expected, Run(100, Filters.Build(authors: new[] { _alice }, since: 1003, until: 1005)));
        Assert.Empty(Run(100, Filters.Build(since: 1006, until: 1005)));
        Assert.Empty(Run(100, Filters.Build(until: -1)));
    }

    [Fact]
    public void Several_filters_never_send_an_event_twice()
    {
        var a = TestEvent.Create(_random, _alice, 1000, 1, 0, ('t', "x"), ('t', "y"));
        var b = TestEvent.Create(_random, _bob, 1001, 1, 0, ('t', "y"));
        _db.WriteBatch(new[] { a, b });

        var ids = Run(100,
            Filters.Build(tags: new[] { ('t', new[] { "x", "y" }) }),
            Filters.Build(authors: new[] { _alice }),
            Filters.Build(ids: new[] { b.Id, a.Id }));

        Assert.Equal(new[] { b.IdHex, a.IdHex }, ids);
        Assert.Equal(2, Count(Filters.Build(tags: new[] { ('t', new[] { "x", "y" }) }), Filters.Build(authors: new[] { _alice })));
    }

    [Fact]
    public void Tag_values_match_exactly_whatever_their_encoding()
    {
        string hex = Convert.ToHexStringLower(TestEvent.Key(_random));
        string upperHex = hex.ToUpperInvariant();
        string longValue = new string('w', 500);
        string longSibling = new string('w', 499) + "v";
        var withHex = TestEvent.Create(_random, _alice, 1000, 1, 0, ('e', hex));
        var withUpper = TestEvent.Create(_random, _alice, 1000, 1, 0, ('e', upperHex));
        var withLong = TestEvent.Create(_random, _alice, 1000, 1, 0, ('r', longValue));
        var withSibling = TestEvent.Create(_random, _alice, 1000, 1, 0, ('r', longSibling));
        var withEmpty = TestEvent.Create(_random, _alice, 1000, 1, 0, ('r', ""));
        var withPrefix = TestEvent.Create(_random, _alice, 1000, 1, 0, ('r', "ab"));
        var withLonger = TestEvent.Create(_random, _alice, 1000, 1, 0, ('r', "abc"));
        _db.WriteBatch(new[] { withHex, withUpper, withLong, withSibling, withEmpty, withPrefix, withLonger });

        Assert.Equal(new[] { withHex.IdHex }, Run(100, Filters.Build(tags: new[] { ('e', new[] { hex }) })));
        Assert.Equal(new[] { withUpper.IdHex }, Run(100, Filters.Build(tags: new[] { ('e', new[] { upperHex }) })));
        Assert.Equal(new[] { withLong.IdHex }, Run(100, Filters.Build(tags: new[] { ('r', new[] { longValue }) })));
        Assert.Equal(new[] { withEmpty.IdHex }, Run(100, Filters.Build(tags: new[] { ('r', new[] { "" }) })));
        Assert.Equal(new[] { withPrefix.IdHex }, Run(100, Filters.Build(tags: new[] { ('r', new[] { "ab" }) })));
        Assert.Empty(Run(100, Filters.Build(tags: new[] { ('R', new[] { "ab" }) })));
    }

    [Fact]
    public void Ids_filter_returns_stored_matches_newest_first()
    {
        var old = TestEvent.Create(_random, _alice, 1000, 1);
        var recent = TestEvent.Create(_random, _bob, 2000, 1);
        var missing = TestEvent.Create(_random, _bob, 3000, 1);
        _db.WriteBatch(new[] { old, recent });

        Assert.Equal(new[] { recent.IdHex, old.IdHex }, Run(100, Filters.Build(ids: new[] { old.Id, missing.Id, recent.Id })));
        Assert.Equal(new[] { old.IdHex }, Run(100, Filters.Build(ids: new[] { old.Id, recent.Id }, authors: new[] { _alice })));
        Assert.Equal(new[] { recent.IdHex }, Run(100, Filters.Build(ids: new[] { old.Id, recent.Id }, limit: 1)));
    }

    [Fact]
    public void Expired_events_are_never_served_even_before_the_purge()
    {
        var expiring = TestEvent.Create(_random, _alice, 1000, 1, expiration: QueryNow, ('t', "x"));
        var lasting = TestEvent.Create(_random, _alice, 1000, 1, expiration: QueryNow + 1, ('t', "x"));
        _db.WriteBatch(new[] { expiring, lasting });

        Assert.Equal(new[] { lasting.IdHex }, Run(100, Filters.Build()));
        Assert.Equal(new[] { lasting.IdHex }, Run(100, Filters.Build(tags: new[] { ('t', new[] { "x" }) })));
        Assert.Equal(new[] { lasting.IdHex }, Run(100, Filters.Build(ids: new[] { expiring.Id, lasting.Id })));
        Assert.Equal(1, Count(Filters.Build()));
    }

    [Fact]
    public void Replaced_and_deleted_events_are_not_served()
    {
        var oldProfile = TestEvent.Create(_random, _alice, 1000, 0);
        var newProfile = TestEvent.Create(_random, _alice, 2000, 0);
        var note = TestEvent.Create(_random, _alice, 1000, 1);
        var deletion = TestEvent.Create(_random, _alice, 3000, EventKinds.Deletion, 0, ('e', note.IdHex));
        _db.WriteBatch(new[] { oldProfile, newProfile, note, deletion });

        Assert.Equal(new[] { deletion.IdHex, newProfile.IdHex }, Run(100, Filters.Build(authors: new[] { _alice })));
        Assert.Equal(new[] { newProfile.IdHex }, Run(100, Filters.Build(authors: new[] { _alice }, kinds: new[] { 0, 1 })));
    }

    [Fact]
    public void Sink_returning_false_stops_the_query()
    {
        _db.WriteBatch(Enumerable.Range(0, 10).Select(i => TestEvent.Create(_random, _alice, 1000 + i, 1)).ToArray());
        var sink = new CollectingSink(stopAfter: 3);
        using var view = _db.Store.BeginRead();
        QueryEngine.Run(view, new[] { Filters.Build(), Filters.Build(kinds: new[] { 1 }) }, 100, QueryNow, sink);
        Assert.Equal(3, sink.Ids.Count);
    }

    [Fact]
    public void Count_stops_at_the_maximum()
    {
        _db.WriteBatch(Enumerable.Range(0, 20).Select(i => TestEvent.Create(_random, _alice, 1000 + i, 1)).ToArray());
        using var view = _db.Store.BeginRead();
        Assert.Equal(20, QueryEngine.Count(view, new[] { Filters.Build() }, QueryNow, 1000));
        Assert.Equal(7, QueryEngine.Count(view, new[] { Filters.Build() }, QueryNow, 7));
        Assert.Equal(5, QueryEngine.Count(view, new[] { Filters.Build(since: 1015) }, QueryNow, 1000));
    }

    [Fact]
    public void Planner_prefers_ids_then_the_smallest_tag_then_author_kind_pairs()
    {
        var authors = Enumerable.Range(0, 40).Select(_ => TestEvent.Key(_random)).ToArray();
        var kinds = Enumerable.Range(1, 30).ToArray();

        Assert.Equal(QueryIndex.Ids, QueryPlanner.Choose(Filters.Build(ids: new[] { _alice }, authors: authors), out _));
        Assert.Equal(QueryIndex.Tag, QueryPlanner.Choose(Filters.Build(authors: authors, tags: new[] { ('t', new[] { "a", "b" }), ('p', new[] { "c" }) }), out var tag));
        Assert.Equal((byte)'p', tag!.Letter);
        Assert.Equal(QueryIndex.AuthorKind, QueryPlanner.Choose(Filters.Build(authors: authors.Take(33), kinds: kinds), out _));
        Assert.Equal(QueryIndex.Author, QueryPlanner.Choose(Filters.Build(authors: authors.Take(34), kinds: kinds), out _));
        Assert.Equal(QueryIndex.Kind, QueryPlanner.Choose(Filters.Build(kinds: kinds), out _));
        Assert.Equal(QueryIndex.CreatedAt, QueryPlanner.Choose(Filters.Build(since: 5), out _));
    }

    [Fact]
    public void Many_author_kind_cursors_merge_correctly()
    {
        var authors = Enumerable.Range(0, 30).Select(_ => TestEvent.Key(_random)).ToArray();
        int[] kinds = { 1, 6, 7, 8, 9, 16, 1111 }; // regular kinds only: nothing replaces anything
        var events = new List<TestEvent>();
        for (int i = 0; i < 600; i++)
            events.Add(TestEvent.Create(_random, authors[i % 30], 1000 + _random.Next(50), kinds[i % 7]));
        _db.WriteBatch(events);

        var filter = Filters.Build(authors: authors, kinds: kinds, limit: 250);
        var expected = events.OrderByDescending(e => e.CreatedAt).ThenBy(e => e.IdHex, StringComparer.Ordinal).Take(250).Select(e => e.IdHex);
        Assert.Equal(expected, Run(500, filter));
    }

    [Fact]
    public void Warmed_up_query_allocates_nothing_per_event()
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
        QueryEngine.Run(view, filters, 500, QueryNow, sink);
        QueryEngine.Run(view, filters, 500, QueryNow, sink);
        sink.Count = 0;

        long before = GC.GetAllocatedBytesForCurrentThread();
        QueryEngine.Run(view, filters, 500, QueryNow, sink);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // 400 per filter; the second filter's picks overlap the first's and are sent once.
        Assert.True(sink.Count > 400, $"sent {sink.Count}");
        // Two cursors (one per filter); anything per event would be >= 800 x 8 bytes.
        Assert.True(allocated < 1024, $"allocated {allocated} bytes for {sink.Count} events sent");
    }

    private sealed class CountingSink : IQuerySink
    {
        public int Count;
        public bool OnEvent(ulong levId, ReadOnlySpan<byte> json) { Count++; return true; }
    }
}
