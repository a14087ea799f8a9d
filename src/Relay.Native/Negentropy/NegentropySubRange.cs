namespace Relay.Native.Negentropy;

/// <summary>
/// A window of another storage: the items with since ≤ timestamp ≤ until. This is how a NEG-OPEN
/// whose filter equals a tree's filter plus since/until is served from that tree.
/// </summary>
public sealed class NegentropySubRange : INegentropyStorage
{
    private readonly INegentropyStorage _base;
    private readonly long _begin;
    private readonly long _count;

    public NegentropySubRange(INegentropyStorage storage, ulong since, ulong until)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _base = storage;
        long total = storage.Count;
        _begin = since == 0 ? 0 : storage.FindLowerBound(0, total, NegBound.AtTimestamp(since));
        long end = until >= ulong.MaxValue - 1 ? total : storage.FindLowerBound(_begin, total, NegBound.AtTimestamp(until + 1));
        _count = Math.Max(0, end - _begin);
    }

    public long Count => _count;

    public IdSum SumIds(long begin, long end)
    {
        NegentropyStorageExtensions.CheckRange(begin, end, _count);
        return _base.SumIds(_begin + begin, _begin + end);
    }

    public long FindLowerBound(long begin, long end, in NegBound bound)
    {
        NegentropyStorageExtensions.CheckRange(begin, end, _count);
        return _base.FindLowerBound(_begin + begin, _begin + end, bound) - _begin;
    }

    public int ReadItems(long start, Span<NegItem> destination)
    {
        if (start < 0 || start > _count) throw new ArgumentOutOfRangeException(nameof(start));
        long n = Math.Min(destination.Length, _count - start);
        return n == 0 ? 0 : _base.ReadItems(_begin + start, destination.Slice(0, (int)n));
    }
}
