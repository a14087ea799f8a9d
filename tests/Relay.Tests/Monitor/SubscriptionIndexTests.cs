using Relay.Native.Events;
using Relay.Native.Query;

namespace Relay.Tests.Monitor;

public class SubscriptionIndexTests
{
    private sealed class Sub(int number, Filter[] filters)
    {
        public int Number { get; } = number;
        public Filter[] Filters { get; } = filters;
        public override string ToString() => $"sub {Number}";
    }

    private sealed record SubKey(int Connection, string Id);

    [Fact]
    public void Matches_the_same_subscriptions_as_checking_every_filter()
    {
        var random = new RandomNostr(seed: 1);
        var index = new SubscriptionIndex<Sub>();
        var subs = new List<Sub>();
        for (int i = 0; i < 3000; i++)
        {
            var sub = new Sub(i, random.Filters());
            subs.Add(sub);
            index.Add(sub, sub.Filters);
        }

        int nonEmpty = AssertAgreesWithBruteForce(index, subs, random, events: 2000);

        // Guards the test itself: pools small enough that most events do match something.
        Assert.True(nonEmpty > 1000, $"only {nonEmpty} events matched anything");
    }

    [Fact]
    public void Removed_subscriptions_are_no_longer_matched()
    {
        var random = new RandomNostr(seed: 2);
        var index = new SubscriptionIndex<Sub>();
        var subs = new List<Sub>();
        for (int i = 0; i < 2000; i++)
        {
            var sub = new Sub(i, random.Filters());
            subs.Add(sub);
            index.Add(sub, sub.Filters);
        }

        var remaining = new List<Sub>();
        foreach (var sub in subs)
        {
            if (sub.Number % 3 == 0) Assert.True(index.Remove(sub));
            else remaining.Add(sub);
        }

        Assert.Equal(remaining.Count, index.Count);
        Assert.False(index.Remove(subs[0]));
        AssertAgreesWithBruteForce(index, remaining, random, events: 1000);
    }

    [Fact]
    public void Index_left_empty_by_removals_examines_no_filter()
    {
        var random = new RandomNostr(seed: 3);
        var index = new SubscriptionIndex<Sub>();
        var subs = new List<Sub>();
        for (int i = 0; i < 500; i++)
        {
            var sub = new Sub(i, random.Filters());
            subs.Add(sub);
            index.Add(sub, sub.Filters);
        }
        Assert.True(index.BucketCount > 50);
        // Removal in a different order than insertion exercises the swap-remove bookkeeping.
        for (int i = subs.Count - 1; i >= 0; i -= 2) Assert.True(index.Remove(subs[i]));
        for (int i = 0; i < subs.Count; i += 2) Assert.True(index.Remove(subs[i]));

        Assert.Equal(0, index.Count);
        Assert.Equal(0, index.BucketCount);
        var matches = new List<Sub>();
        for (int i = 0; i < 200; i++) index.Match(new PackedEvent(random.Event()), matches);
        Assert.Empty(matches);
        Assert.Equal(0, index.CandidatesExamined);
    }

    [Fact]
    public void Subscription_is_reported_once_when_several_filters_match()
    {
        var author = RandomNostr.Bytes32Of(7);
        var id = RandomNostr.Bytes32Of(9);
        var sub = new Sub(1,
        [
            new Filter { Ids = [id] },
            new Filter { Authors = [author] },
            new Filter { Kinds = [1] },
            new Filter { Tags = [new TagCondition((byte)'t', ["nostr"u8.ToArray()])] },
            new Filter(),
        ]);
        var index = new SubscriptionIndex<Sub>();
        index.Add(sub, sub.Filters);

        var matches = new List<Sub>();
        index.Match(new PackedEvent(RandomNostr.Pack(id, author, 1000, 1, [((byte)'t', "nostr"u8.ToArray())])), matches);

        Assert.Equal([sub], matches);
    }

    [Fact]
    public void Filter_reached_through_two_tags_of_one_event_is_evaluated_once()
    {
        byte[] a = "aa"u8.ToArray(), b = "bb"u8.ToArray();
        var sub = new Sub(1, [new Filter { Tags = [new TagCondition((byte)'p', [a, b])] }.Normalize()]);
        var index = new SubscriptionIndex<Sub>();
        index.Add(sub, sub.Filters);

        var matches = new List<Sub>();
        index.Match(new PackedEvent(RandomNostr.Pack(RandomNostr.Bytes32Of(1), RandomNostr.Bytes32Of(2), 1000, 1,
            [((byte)'p', a), ((byte)'p', b), ((byte)'p', a)])), matches);

        Assert.Equal([sub], matches);
        Assert.Equal(1, index.CandidatesExamined);
    }

    [Fact]
    public void Filter_failing_since_is_not_matched_although_its_indexed_field_is()
    {
        var author = RandomNostr.Bytes32Of(7);
        var sub = new Sub(1, [new Filter { Authors = [author], Since = 2000 }]);
        var index = new SubscriptionIndex<Sub>();
        index.Add(sub, sub.Filters);

        var matches = new List<Sub>();
        index.Match(new PackedEvent(RandomNostr.Pack(RandomNostr.Bytes32Of(1), author, 1999, 1, [])), matches);
        Assert.Empty(matches);
        index.Match(new PackedEvent(RandomNostr.Pack(RandomNostr.Bytes32Of(1), author, 2000, 1, [])), matches);
        Assert.Equal([sub], matches);
    }

    [Fact]
    public void Adding_an_equal_subscription_replaces_its_filters()
    {
        var index = new SubscriptionIndex<SubKey>();
        index.Add(new SubKey(1, "feed"), [new Filter { Kinds = [1] }]);
        index.Add(new SubKey(1, "feed"), [new Filter { Kinds = [7] }]);

        var matches = new List<SubKey>();
        index.Match(new PackedEvent(RandomNostr.Pack(RandomNostr.Bytes32Of(1), RandomNostr.Bytes32Of(2), 1000, 1, [])), matches);
        Assert.Empty(matches);
        index.Match(new PackedEvent(RandomNostr.Pack(RandomNostr.Bytes32Of(1), RandomNostr.Bytes32Of(2), 1000, 7, [])), matches);
        Assert.Equal([new SubKey(1, "feed")], matches);

        Assert.Equal(1, index.Count);
        Assert.True(index.Remove(new SubKey(1, "feed")));
        Assert.Equal(0, index.Count);
    }

    [Fact]
    public void Match_allocates_nothing_after_warm_up()
    {
        var random = new RandomNostr(seed: 4);
        var index = new SubscriptionIndex<Sub>();
        for (int i = 0; i < 2000; i++)
        {
            var sub = new Sub(i, random.Filters());
            index.Add(sub, sub.Filters);
        }
        var events = new byte[500][];
        for (int i = 0; i < events.Length; i++) events[i] = random.Event();
        var matches = new List<Sub>(capacity: 4096);

        MatchAll(index, events, matches);
        long before = GC.GetAllocatedBytesForCurrentThread();
        long found = 0;
        for (int round = 0; round < 10; round++) found += MatchAll(index, events, matches);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(found > 0);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Event_touching_few_of_10k_subscriptions_examines_only_those()
    {
        var random = new RandomNostr(seed: 5, pubKeyCount: 10_000);
        var index = new SubscriptionIndex<Sub>();
        var subs = new Sub[10_000];
        for (int i = 0; i < subs.Length; i++)
        {
            // Everyone follows one author's notes; a few also watch all reactions.
            Filter[] filters = i % 1000 == 0
                ? [new Filter { Authors = [random.PubKey(i)], Kinds = [1] }, new Filter { Kinds = [7] }]
                : [new Filter { Authors = [random.PubKey(i)], Kinds = [1] }];
            subs[i] = new Sub(i, filters);
            index.Add(subs[i], filters);
        }

        var matches = new List<Sub>();
        index.Match(new PackedEvent(RandomNostr.Pack(RandomNostr.Bytes32Of(1), random.PubKey(4321), 1000, 1, [])), matches);
        Assert.Equal([subs[4321]], matches);
        Assert.Equal(1, index.CandidatesExamined);

        matches.Clear();
        index.Match(new PackedEvent(RandomNostr.Pack(RandomNostr.Bytes32Of(1), random.PubKey(4321), 1000, 7, [])), matches);
        Assert.Equal(10, matches.Count);
        Assert.Equal(1 + 1 + 10, index.CandidatesExamined);
    }

    private static long MatchAll(SubscriptionIndex<Sub> index, byte[][] events, List<Sub> matches)
    {
        long found = 0;
        foreach (var e in events)
        {
            matches.Clear();
            index.Match(new PackedEvent(e), matches);
            found += matches.Count;
        }
        return found;
    }

    private static int AssertAgreesWithBruteForce(SubscriptionIndex<Sub> index, List<Sub> subs, RandomNostr random, int events)
    {
        var matches = new List<Sub>();
        int nonEmpty = 0;
        for (int e = 0; e < events; e++)
        {
            var packed = random.Event();
            var ev = new PackedEvent(packed);

            var expected = new List<int>();
            foreach (var sub in subs)
            {
                foreach (var filter in sub.Filters)
                {
                    if (filter.Matches(ev)) { expected.Add(sub.Number); break; }
                }
            }

            matches.Clear();
            index.Match(ev, matches);
            var actual = matches.Select(s => s.Number).ToList();
            actual.Sort();

            Assert.Equal(expected, actual);
            if (expected.Count > 0) nonEmpty++;
        }
        return nonEmpty;
    }
}
