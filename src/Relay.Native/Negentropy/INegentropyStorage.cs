namespace Relay.Native.Negentropy;

/// <summary>
/// A sorted set of <see cref="NegItem"/>s as the reconciler sees it: positions 0..Count-1 in
/// (timestamp, id) order. Ranges are half-open [begin, end) over positions.
/// </summary>
public interface INegentropyStorage
{
    long Count { get; }

    /// <summary>Sum of the ids at positions [begin, end).</summary>
    IdSum SumIds(long begin, long end);

    /// <summary>The first position in [begin, end] whose item is not below <paramref name="bound"/>, or <paramref name="end"/>.</summary>
    long FindLowerBound(long begin, long end, in NegBound bound);

    /// <summary>
    /// Copies items from position <paramref name="start"/> on into <paramref name="destination"/>;
    /// returns how many (at least one when <paramref name="start"/> &lt; Count and the destination is
    /// not empty, possibly fewer than asked even when more exist).
    /// </summary>
    int ReadItems(long start, Span<NegItem> destination);
}

public static class NegentropyStorageExtensions
{
    public static Fingerprint Fingerprint(this INegentropyStorage storage, long begin, long end) =>
        storage.SumIds(begin, end).ToFingerprint((ulong)(end - begin));

    public static NegItem GetItem(this INegentropyStorage storage, long index)
    {
        Span<NegItem> one = stackalloc NegItem[1];
        if (index < 0 || index >= storage.Count || storage.ReadItems(index, one) != 1) throw new ArgumentOutOfRangeException(nameof(index));
        return one[0];
    }

    internal static void CheckRange(long begin, long end, long count)
    {
        if (begin < 0 || begin > end || end > count) throw new ArgumentOutOfRangeException(nameof(begin), $"bad range [{begin}, {end}) of {count}");
    }
}
