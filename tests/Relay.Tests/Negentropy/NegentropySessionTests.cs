using System.Text;
using Relay.Native.Events;
using Relay.Native.Negentropy;
using Relay.Native.Protocol;
using Relay.Native.Query;
using Relay.Tests.Storage;

namespace Relay.Tests.Negentropy;

/// <summary>The relay's per-NEG-OPEN session over a real store: tree-backed and scanned.</summary>
public sealed class NegentropySessionTests : IDisposable
{
    private readonly TempStore _db = new();
    private readonly List<TestEvent> _events;

    public NegentropySessionTests()
    {
        var random = new Random(99);
        var authors = Enumerable.Range(0, 4).Select(_ => TestEvent.Key(random)).ToArray();
        _events = Enumerable.Range(0, 3000)
            .Select(_ => TestEvent.Create(random, authors[random.Next(4)], 1000 + random.Next(5000), random.Next(3) == 0 ? 7 : 1, 0))
            .ToList();
        foreach (var chunk in _events.Chunk(500)) _db.WriteBatch(chunk);
    }

    public void Dispose() => _db.Dispose();

    private static Filter ParseFilter(string json)
    {
        Assert.True(FilterParser.TryParse(Encoding.UTF8.GetBytes(json), FilterLimits.Default, out var filters, out var error), error);
        return Assert.Single(filters);
    }

    private static NegItem Item(TestEvent e) => new((ulong)e.CreatedAt, e.Id);

    /// <summary>Steps with a fresh view each time, as a worker would between time slices; returns the steps taken.</summary>
    private int Drive(NegentropySession session, long budgetTicks = long.MaxValue)
    {
        int steps = 0;
        while (true)
        {
            using var view = _db.Store.BeginRead();
            steps++;
            if (session.Step(view, budgetTicks) != NegentropySessionStatus.Working) return steps;
            Assert.True(steps < 100_000);
        }
    }

    /// <summary>A whole sync of <paramref name="client"/> against the session.</summary>
    private NegTestKit.SyncResult SyncAgainst(Func<ReadOnlySpan<byte>, NegentropySession> open, List<NegItem> client, int clientLimit, out NegentropySession session)
    {
        var initiator = new NegentropyClient(NegTestKit.Vector(client), clientLimit);
        session = open(initiator.Initiate());
        var have = new List<Bytes32>();
        var need = new List<Bytes32>();
        for (int round = 1; ; round++)
        {
            Drive(session);
            Assert.Equal(NegentropySessionStatus.Replied, session.Status);
            Assert.Equal(NegError.None, initiator.Reconcile(session.Reply, have, need));
            if (initiator.IsComplete) return new NegTestKit.SyncResult(have, need, round, 0, 0);
            Assert.True(session.Submit(initiator.NextMessage));
        }
    }

    private List<NegItem> ClientSet(Func<TestEvent, bool> selection, int seed)
    {
        var random = new Random(seed);
        return _events.Where(selection).Where((_, i) => i % 10 != 3).Select(Item)
            .Concat(NegTestKit.RandomItems(random, 150, first: 1000, spread: 5000)).ToList();
    }

    [Theory]
    [InlineData(NegentropyProtocol.MinFrameSizeLimit)]
    [InlineData(NegentropyProtocol.ClientFrameSizeLimit)]
    public void Tree_backed_session_syncs_a_client_to_the_exact_difference(int clientLimit)
    {
        var trees = new NegentropyTrees(_db.Store);
        var client = ClientSet(_ => true, 1);
        var result = SyncAgainst(message =>
        {
            using var view = _db.Store.BeginRead();
            return NegentropySession.Open(trees, view, ParseFilter("{}"), 0, message);
        }, client, clientLimit, out var session);
        Assert.True(session.UsesTree);
        Assert.Equal(1UL, session.TreeId);
        NegTestKit.AssertFoundDifference(client, _events.Select(Item), result);
    }

    [Fact]
    public void Scanned_session_syncs_a_client_to_the_exact_difference_of_its_filter()
    {
        var trees = new NegentropyTrees(_db.Store);
        var client = ClientSet(e => e.Kind == 1, 2);
        var result = SyncAgainst(message =>
        {
            using var view = _db.Store.BeginRead();
            return NegentropySession.Open(trees, view, ParseFilter("{\"kinds\":[1]}"), 0, message,
                new NegentropySessionOptions { FrameSizeLimit = NegentropyProtocol.MinFrameSizeLimit });
        }, client, NegentropyProtocol.MinFrameSizeLimit, out var session);
        Assert.False(session.UsesTree);
        Assert.Equal(_events.Count(e => e.Kind == 1), session.ScannedEvents);
        NegTestKit.AssertFoundDifference(client, _events.Where(e => e.Kind == 1).Select(Item), result);
    }

    [Fact]
    public void Tree_window_and_scan_give_the_same_reply_for_a_since_until_filter()
    {
        var window = _events.Where(e => e.CreatedAt >= 2000 && e.CreatedAt <= 4000).Select(Item).ToList();
        var client = new NegentropyClient(NegTestKit.Vector(window.Where((_, i) => i % 3 != 0)));
        byte[] initial = client.Initiate().ToArray();
        var filter = ParseFilter("{\"since\":2000,\"until\":4000}");

        using var view = _db.Store.BeginRead();
        var fromTree = NegentropySession.ForTree(1, filter.Since, filter.Until, initial);
        var fromScan = NegentropySession.ForScan(filter, view, 0, initial);
        Assert.Equal(NegentropySessionStatus.Replied, fromTree.Step(view, long.MaxValue));
        Assert.Equal(NegentropySessionStatus.Replied, fromScan.Step(view, long.MaxValue));
        Assert.Equal(fromScan.Reply.ToArray(), fromTree.Reply.ToArray());
        Assert.Equal(window.Count, fromScan.ScannedEvents);

        var expected = new NegentropyResponder();
        Assert.Equal(NegError.None, expected.Respond(NegTestKit.Vector(window), initial));
        Assert.Equal(expected.Reply.ToArray(), fromTree.Reply.ToArray());
    }

    [Fact]
    public void Scan_pauses_when_its_budget_is_spent_and_resumes_to_the_same_reply()
    {
        var client = new NegentropyClient(NegTestKit.Vector(_events.Take(1000).Select(Item)));
        byte[] initial = client.Initiate().ToArray();
        NegentropySession Open()
        {
            using var view = _db.Store.BeginRead();
            return NegentropySession.ForScan(new Filter(), view, 0, initial);
        }

        var sliced = Open();
        int steps = Drive(sliced, budgetTicks: 0);
        var whole = Open();
        Assert.Equal(1, Drive(whole));

        Assert.True(steps > 5, $"a zero budget should pause the 3000-event scan several times, took {steps} steps");
        Assert.Equal(NegentropySessionStatus.Replied, sliced.Status);
        Assert.Equal(whole.Reply.ToArray(), sliced.Reply.ToArray());
        Assert.Equal(_events.Count, sliced.ScannedEvents);
    }

    [Fact]
    public void Scan_over_the_event_limit_fails_with_blocked()
    {
        var client = new NegentropyClient(NegentropyVector.Empty);
        using var view = _db.Store.BeginRead();
        var session = NegentropySession.ForScan(new Filter(), view, 0, client.Initiate(), new NegentropySessionOptions { MaxSyncEvents = 2999 });
        Assert.Equal(NegentropySessionStatus.Failed, session.Step(view, long.MaxValue));
        Assert.Equal("blocked: too many query results", session.ErrorReason);

        var exactly = NegentropySession.ForScan(new Filter(), view, 0, [NegentropyProtocol.Version], new NegentropySessionOptions { MaxSyncEvents = 3000 });
        Assert.Equal(NegentropySessionStatus.Replied, exactly.Step(view, long.MaxValue));
    }

    [Fact]
    public void Malformed_message_fails_the_session_with_an_invalid_reason()
    {
        using var view = _db.Store.BeginRead();
        var session = NegentropySession.ForTree(1, 0, long.MaxValue, [NegentropyProtocol.Version, 0x01]);
        Assert.Equal(NegentropySessionStatus.Failed, session.Step(view, long.MaxValue));
        Assert.Equal(NegError.Truncated, session.Error);
        Assert.StartsWith("invalid: ", session.ErrorReason);
        Assert.False(session.Submit([NegentropyProtocol.Version]));
    }

    [Fact]
    public void Message_before_the_reply_fails_the_session()
    {
        using var view = _db.Store.BeginRead();
        var session = NegentropySession.ForScan(new Filter(), view, 0, [NegentropyProtocol.Version]);
        Assert.False(session.Submit([NegentropyProtocol.Version]));
        Assert.Equal(NegentropySessionStatus.Failed, session.Status);
    }

    [Fact]
    public void Another_protocol_version_gets_the_version_byte_reply()
    {
        using var view = _db.Store.BeginRead();
        var session = NegentropySession.ForTree(1, 0, long.MaxValue, [0x62, 0x00]);
        Assert.Equal(NegentropySessionStatus.Replied, session.Step(view, long.MaxValue));
        Assert.Equal([NegentropyProtocol.Version], session.Reply.ToArray());
    }

    [Fact]
    public void Removing_the_tree_closes_its_sessions()
    {
        var trees = new NegentropyTrees(_db.Store);
        ulong id = trees.Add("{\"kinds\":[7]}");
        trees.Build(id);
        var session = NegentropySession.ForTree(id, 0, long.MaxValue, new NegentropyClient(NegentropyVector.Empty).Initiate());
        Assert.Equal(1, Drive(session));
        Assert.Equal(NegentropySessionStatus.Replied, session.Status);
        trees.Remove(id);
        Assert.True(session.Submit([NegentropyProtocol.Version]));
        Drive(session);
        Assert.Equal(NegentropySessionStatus.Failed, session.Status);
        Assert.StartsWith("closed: ", session.ErrorReason);
    }

    [Fact]
    public void Sync_local_set_is_the_tree_window_or_a_scan()
    {
        var trees = new NegentropyTrees(_db.Store);
        using var view = _db.Store.BeginRead();
        var window = NegentropyScan.OpenLocalSet(trees, view, ParseFilter("{\"since\":2000,\"until\":2999}"), 0);
        Assert.IsType<NegentropySubRange>(window);
        Assert.Equal(_events.Count(e => e.CreatedAt is >= 2000 and <= 2999), window!.Count);

        var scanned = NegentropyScan.OpenLocalSet(trees, view, ParseFilter("{\"kinds\":[7]}"), 0);
        var expected = NegTestKit.Vector(_events.Where(e => e.Kind == 7).Select(Item));
        Assert.IsType<NegentropyVector>(scanned);
        Assert.Equal(expected.Items.ToArray(), ((NegentropyVector)scanned!).Items.ToArray());

        Assert.Null(NegentropyScan.OpenLocalSet(trees, view, ParseFilter("{\"kinds\":[7]}"), 0, maxEvents: 10));
    }

    [Fact]
    public void A_read_restriction_forces_a_scan_and_narrows_the_set()
    {
        var trees = new NegentropyTrees(_db.Store);
        var onlyAuthor = _events[0].PubKey;
        using var view = _db.Store.BeginRead();
        var session = NegentropySession.Open(trees, view, new Filter(), 0, new NegentropyClient(NegentropyVector.Empty).Initiate(),
            include: (in PackedEvent ev) => ev.PubKey.SequenceEqual(onlyAuthor));
        Assert.False(session.UsesTree);
        Assert.Equal(NegentropySessionStatus.Replied, session.Step(view, long.MaxValue));
        Assert.Equal(_events.Count(e => e.PubKey.SequenceEqual(onlyAuthor)), session.ScannedEvents);
    }
}
