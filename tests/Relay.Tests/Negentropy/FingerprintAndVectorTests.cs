using System.Numerics;
using Relay.Native.Events;
using Relay.Native.Negentropy;

namespace Relay.Tests.Negentropy;

public class FingerprintAndVectorTests
{
    [Fact]
    public void Id_sum_wraps_modulo_two_to_the_256()
    {
        var max = Bytes32.From(Enumerable.Repeat((byte)0xFF, 32).ToArray());
        var one = new byte[32];
        one[0] = 1;
        var sum = IdSum.Zero;
        sum.Add(max);
        sum.Add(one);
        Assert.Equal(IdSum.Zero, sum);
        sum.Subtract(one);
        Assert.Equal(IdSum.Read(max.Span), sum);
    }

    [Fact]
    public void Id_sum_matches_big_integer_arithmetic_and_subtraction_undoes_addition()
    {
        var random = new Random(21);
        var modulus = BigInteger.One << 256;
        var expected = BigInteger.Zero;
        var sum = IdSum.Zero;
        var added = new List<Bytes32>();
        var actual = new byte[32];
        for (int i = 0; i < 2000; i++)
        {
            var id = NegTestKit.RandomId(random);
            // Bias towards carries: many bytes 0xFF.
            if (i % 3 == 0)
            {
                var bytes = id.Span.ToArray();
                for (int b = 0; b < 31; b++) bytes[b] = 0xFF;
                id = Bytes32.From(bytes);
            }
            sum.Add(id);
            added.Add(id);
            expected = (expected + new BigInteger(id.Span, isUnsigned: true)) % modulus;
            sum.Write(actual);
            Assert.Equal(expected, new BigInteger(actual, isUnsigned: true));
        }
        foreach (var id in added) sum.Subtract(id);
        Assert.Equal(IdSum.Zero, sum);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(200)]
    public void Fingerprint_is_sha256_of_the_sum_and_varint_count(int count)
    {
        var items = NegTestKit.RandomItems(new Random(count + 1), count);
        var vector = NegTestKit.Vector(items);
        Assert.Equal(NegTestKit.ReferenceFingerprint(items), vector.Fingerprint(0, vector.Count).Span.ToArray());
    }

    [Fact]
    public void Vector_range_sums_and_lower_bounds_agree_with_a_linear_scan()
    {
        var random = new Random(31);
        var items = NegTestKit.RandomItems(random, 1500, spread: 400);
        var vector = NegTestKit.Vector(items);
        var sorted = items.OrderBy(x => x).ToArray();
        Assert.Equal(sorted, vector.Items.ToArray());

        for (int i = 0; i < 2000; i++)
        {
            int a = random.Next(sorted.Length + 1), b = random.Next(sorted.Length + 1);
            int begin = Math.Min(a, b), end = Math.Max(a, b);
            Assert.Equal(NegTestKit.ReferenceFingerprint(sorted[begin..end]), vector.Fingerprint(begin, end).Span.ToArray());
        }
        for (int i = 0; i < 2000; i++)
        {
            var bound = RandomBound(random, sorted);
            int expected = sorted.TakeWhile(x => NegBound.CompareItem(x, bound) < 0).Count();
            Assert.Equal(expected, vector.FindLowerBound(0, vector.Count, bound));
            int begin = random.Next(sorted.Length + 1);
            Assert.Equal(Math.Max(expected, begin), vector.FindLowerBound(begin, vector.Count, bound));
        }
    }

    [Fact]
    public void Vector_drops_exact_duplicates()
    {
        var items = NegTestKit.RandomItems(new Random(1), 10);
        var vector = NegentropyVector.FromUnsorted(items.Concat(items).ToList());
        Assert.Equal(10, vector.Count);
    }

    [Fact]
    public void Minimal_bound_separates_neighbours_with_the_shortest_prefix()
    {
        var a = new byte[32];
        var b = new byte[32];
        b[2] = 1;
        var previous = new NegItem(5, a);
        var current = new NegItem(5, b);
        var bound = NegBound.Between(previous, current);
        Assert.Equal(3, bound.PrefixLength);
        Assert.True(NegBound.CompareItem(previous, bound) < 0);
        Assert.True(NegBound.CompareItem(current, bound) >= 0);

        var later = NegBound.Between(previous, new NegItem(6, a));
        Assert.Equal(0, later.PrefixLength);
        Assert.Equal(6UL, later.Timestamp);
    }

    /// <summary>Exact items, timestamps alone, prefixes of items, and random prefixes.</summary>
    internal static NegBound RandomBound(Random random, IReadOnlyList<NegItem> sorted)
    {
        if (sorted.Count == 0 || random.Next(5) == 0)
        {
            var prefix = new byte[random.Next(33)];
            random.NextBytes(prefix);
            return random.Next(10) == 0 ? NegBound.Infinity : new NegBound((ulong)random.Next(2_000_000_000), prefix);
        }
        var item = sorted[random.Next(sorted.Count)];
        return random.Next(3) switch
        {
            0 => NegBound.AtItem(item),
            1 => NegBound.AtTimestamp(item.Timestamp + (ulong)random.Next(2)),
            _ => new NegBound(item.Timestamp, item.Id.Span.Slice(0, random.Next(33))),
        };
    }
}
