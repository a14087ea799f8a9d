using Relay.Native.Events;
using Relay.Native.Negentropy;

namespace Relay.Tests.Negentropy;

public class ReconciliationTests
{
    public enum Overlap { Identical, Disjoint, Overlapping }

    public static TheoryData<int, Overlap> Cases() => new()
    {
        { 0, Overlap.Identical },
        { 1, Overlap.Identical },
        { 1, Overlap.Disjoint },
        { 1000, Overlap.Identical },
        { 1000, Overlap.Disjoint },
        { 1000, Overlap.Overlapping },
        { 100_000, Overlap.Identical },
        { 100_000, Overlap.Disjoint },
        { 100_000, Overlap.Overlapping },
    };

    /// <summary>
    /// Client and server sets of about <paramref name="size"/> items each. Overlapping: a shared
    /// majority plus a few percent on each side only, scattered over the whole time range.
    /// </summary>
    private static (List<NegItem> Client, List<NegItem> Server) Sets(int size, Overlap overlap, int seed, int spread = 1_000_000)
    {
        var random = new Random(seed);
        switch (overlap)
        {
            case Overlap.Identical:
                var same = NegTestKit.RandomItems(random, size, spread: spread);
                return (same, new List<NegItem>(same));
            case Overlap.Disjoint:
                return (NegTestKit.RandomItems(random, size, spread: spread), NegTestKit.RandomItems(random, size, spread: spread));
            default:
                var shared = NegTestKit.RandomItems(random, size - size / 20, spread: spread);
                var client = shared.Concat(NegTestKit.RandomItems(random, size / 20, spread: spread)).ToList();
                var server = shared.Concat(NegTestKit.RandomItems(random, size / 25, spread: spread)).ToList();
                return (client, server);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Sync_finds_exactly_the_symmetric_difference(int size, Overlap overlap)
    {
        var (client, server) = Sets(size, overlap, seed: size * 3 + (int)overlap);
        var result = NegTestKit.Sync(NegTestKit.Vector(client), NegTestKit.Vector(server));
        NegTestKit.AssertFoundDifference(client, server, result);
        if (overlap == Overlap.Identical) Assert.Equal(1, result.Rounds);
    }

    public static TheoryData<int, Overlap> SmallFrameCases() => new()
    {
        { 0, Overlap.Identical },
        { 1, Overlap.Disjoint },
        { 1000, Overlap.Identical },
        { 1000, Overlap.Disjoint },
        { 1000, Overlap.Overlapping },
        // ~100 ids per 4 KB frame: a disjoint 20k needs hundreds of rounds.
        { 20_000, Overlap.Disjoint },
        { 20_000, Overlap.Overlapping },
    };

    [Theory]
    [MemberData(nameof(SmallFrameCases))]
    public void Sync_within_the_smallest_frames_still_finds_the_difference(int size, Overlap overlap)
    {
        var (client, server) = Sets(size, overlap, seed: size * 7 + (int)overlap);
        var result = NegTestKit.Sync(NegTestKit.Vector(client), NegTestKit.Vector(server),
            NegentropyProtocol.MinFrameSizeLimit, NegentropyProtocol.MinFrameSizeLimit);
        NegTestKit.AssertFoundDifference(client, server, result);
        if (size >= 1000 && overlap == Overlap.Disjoint) Assert.True(result.Rounds > 2, "small frames should need several rounds");
    }

    [Fact]
    public void Identical_sets_end_after_one_round_trip_with_an_empty_reply()
    {
        var items = NegTestKit.RandomItems(new Random(3), 5000);
        var client = new NegentropyClient(NegTestKit.Vector(items));
        var responder = new NegentropyResponder();
        Assert.Equal(NegError.None, responder.Respond(NegTestKit.Vector(items), client.Initiate()));
        Assert.Equal([NegentropyProtocol.Version], responder.Reply.ToArray());
        Assert.Equal(NegError.None, client.Reconcile(responder.Reply, new List<Bytes32>(), new List<Bytes32>()));
        Assert.True(client.IsComplete);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(20_000)]
    public void All_items_at_one_timestamp_are_told_apart_by_id_prefixes(int size)
    {
        // Every bound between buckets needs an id prefix; the overlap is scattered across ids.
        var (client, server) = Sets(size, Overlap.Overlapping, seed: 11, spread: 1);
        var result = NegTestKit.Sync(NegTestKit.Vector(client), NegTestKit.Vector(server),
            NegentropyProtocol.MinFrameSizeLimit, NegentropyProtocol.MinFrameSizeLimit);
        NegTestKit.AssertFoundDifference(client, server, result);
    }

    [Fact]
    public void Few_distinct_timestamps_with_ids_sharing_long_prefixes()
    {
        // Ids that differ only in their last bytes force the longest bound prefixes.
        var random = new Random(5);
        var common = new byte[32];
        random.NextBytes(common);
        List<NegItem> Make(int count)
        {
            var list = new List<NegItem>();
            for (int i = 0; i < count; i++)
            {
                var id = (byte[])common.Clone();
                id[30] = (byte)random.Next(256);
                id[31] = (byte)random.Next(256);
                list.Add(new NegItem((ulong)random.Next(3), id));
            }
            return list.DistinctBy(x => x.Id).ToList();
        }
        var all = Make(3200);
        var server = all.Take(all.Count - 200).ToList();
        var client = server.Where((_, i) => i % 7 != 0).Concat(all.Skip(all.Count - 200)).ToList();
        var result = NegTestKit.Sync(NegTestKit.Vector(client), NegTestKit.Vector(server));
        NegTestKit.AssertFoundDifference(client, server, result);
    }

    [Fact]
    public void Empty_client_learns_everything_and_empty_server_is_told_everything()
    {
        var items = NegTestKit.RandomItems(new Random(9), 10_000);
        var fromEmpty = NegTestKit.Sync(NegentropyVector.Empty, NegTestKit.Vector(items));
        Assert.Empty(fromEmpty.Have);
        Assert.Equal(items.Count, fromEmpty.Need.Count);
        var toEmpty = NegTestKit.Sync(NegTestKit.Vector(items), NegentropyVector.Empty);
        Assert.Empty(toEmpty.Need);
        Assert.Equal(items.Count, toEmpty.Have.Count);
    }

    [Fact]
    public void Server_reply_stops_at_the_frame_limit_and_fingerprints_the_rest()
    {
        // The client holds nothing, so the server answers with ids; 10,000 ids cannot fit in 4 KB.
        var server = NegTestKit.Vector(NegTestKit.RandomItems(new Random(13), 10_000));
        var client = new NegentropyClient(NegentropyVector.Empty);
        var responder = new NegentropyResponder(NegentropyProtocol.MinFrameSizeLimit);
        Assert.Equal(NegError.None, responder.Respond(server, client.Initiate()));
        var reply = responder.Reply.ToArray();
        Assert.True(reply.Length <= NegentropyProtocol.MinFrameSizeLimit);

        var reader = new NegMessageReader(reply);
        reader.ReadVersion(out _);
        var modes = new List<NegMode>();
        NegBound last = default;
        while (!reader.End)
        {
            Assert.Equal(NegError.None, reader.ReadRange(out var range));
            modes.Add(range.Mode);
            last = range.UpperBound;
        }
        Assert.Equal([NegMode.IdList, NegMode.Fingerprint], modes);
        Assert.True(last.IsInfinity);
    }

    [Fact]
    public void Initial_message_buckets_a_large_set_into_sixteen_fingerprints()
    {
        var items = NegTestKit.RandomItems(new Random(17), 1000);
        var vector = NegTestKit.Vector(items);
        var client = new NegentropyClient(vector);
        var reader = new NegMessageReader(client.Initiate());
        reader.ReadVersion(out _);
        long position = 0;
        int buckets = 0;
        while (!reader.End)
        {
            Assert.Equal(NegError.None, reader.ReadRange(out var range));
            Assert.Equal(NegMode.Fingerprint, range.Mode);
            long end = vector.FindLowerBound(position, vector.Count, range.UpperBound);
            Assert.Equal(vector.Fingerprint(position, end), range.Fingerprint);
            Assert.InRange(end - position, 62, 63);
            position = end;
            buckets++;
        }
        Assert.Equal(16, buckets);
        Assert.Equal(vector.Count, position);
    }

    [Fact]
    public void Frame_limit_below_the_minimum_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new NegentropyClient(NegentropyVector.Empty, 1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NegentropyResponder(4095));
        _ = new NegentropyResponder(0);
    }
}
