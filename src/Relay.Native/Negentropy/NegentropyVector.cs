namespace Relay.Native.Negentropy;

/// <summary>
/// Items held in memory, sorted once: the storage for filters no tree covers (built from a scan)
/// and for a sync client's local set. Every 64th position keeps the prefix sum of the ids before
/// it, so a range's sum costs at most ~128 additions however large the range, for 1 byte of
/// memory per item.
/// </summary>
public sealed class NegentropyVector : INegentropyStorage
{
    private const int BlockShift = 6;
    private const int BlockSize = 1 << BlockShift;

    private readonly NegItem[] _items;
    private readonly int _count;
    // _blockSums[k] = sum of the ids at positions [0, k * BlockSize).
    private readonly IdSum[] _blockSums;

    private NegentropyVector(NegItem[] items, int count)
    {
        _items = items;
        _count = count;
        _blockSums = new IdSum[(count >> BlockShift) + 1];
        var sum = IdSum.Zero;
        for (int i = 0; i < count; i++)
        {
            if ((i & (BlockSize - 1)) == 0) _blockSums[i >> BlockShift] = sum;
            sum.Add(items[i].Id);
        }
        if ((count & (BlockSize - 1)) == 0) _blockSums[count >> BlockShift] = sum;
    }

    public static NegentropyVector Empty { get; } = new([], 0);

    /// <summary>
    /// Takes ownership of <paramref name="items"/> (the first <paramref name="count"/>), sorts them and
    /// drops exact duplicates.
    /// </summary>
    public static NegentropyVector FromUnsorted(NegItem[] items, int count)
    {
        ArgumentNullException.ThrowIfNull(items);
        if ((uint)count > (uint)items.Length) throw new ArgumentOutOfRangeException(nameof(count));
        Array.Sort(items, 0, count);
        int unique = 0;
        for (int i = 0; i < count; i++)
        {
            if (unique > 0 && items[unique - 1].Equals(items[i])) continue;
            items[unique++] = items[i];
        }
        return new NegentropyVector(items, unique);
    }

    public static NegentropyVector FromUnsorted(IEnumerable<NegItem> items)
    {
        var array = items.ToArray();
        return FromUnsorted(array, array.Length);
    }

    public long Count => _count;

    public NegItem this[int index] => (uint)index < (uint)_count ? _items[index] : throw new ArgumentOutOfRangeException(nameof(index));

    public ReadOnlySpan<NegItem> Items => _items.AsSpan(0, _count);

    public IdSum SumIds(long begin, long end)
    {
        NegentropyStorageExtensions.CheckRange(begin, end, _count);
        int b = (int)begin, e = (int)end;
        var sum = IdSum.Zero;
        if (e - b <= 2 * BlockSize)
        {
            for (int i = b; i < e; i++) sum.Add(_items[i].Id);
            return sum;
        }
        sum = PrefixSum(e);
        var before = PrefixSum(b);
        sum.Subtract(before);
        return sum;
    }

    private IdSum PrefixSum(int position)
    {
        var sum = _blockSums[position >> BlockShift];
        for (int i = position & ~(BlockSize - 1); i < position; i++) sum.Add(_items[i].Id);
        return sum;
    }

    public long FindLowerBound(long begin, long end, in NegBound bound)
    {
        NegentropyStorageExtensions.CheckRange(begin, end, _count);
        long lo = begin, hi = end;
        while (lo < hi)
        {
            long mid = (lo + hi) >>> 1;
            if (NegBound.CompareItem(_items[mid], bound) < 0) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    public int ReadItems(long start, Span<NegItem> destination)
    {
        if (start < 0 || start > _count) throw new ArgumentOutOfRangeException(nameof(start));
        int n = (int)Math.Min(destination.Length, _count - start);
        _items.AsSpan((int)start, n).CopyTo(destination);
        return n;
    }
}

/// <summary>Collects items in any order, then seals them into a <see cref="NegentropyVector"/>.</summary>
public sealed class NegentropyVectorBuilder
{
    private NegItem[] _items;
    private int _count;

    public NegentropyVectorBuilder(int initialCapacity = 256) => _items = new NegItem[Math.Max(initialCapacity, 16)];

    public int Count => _count;

    public void Add(ulong timestamp, ReadOnlySpan<byte> id) => Add(new NegItem(timestamp, id));

    public void Add(in NegItem item)
    {
        if (_count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
        _items[_count++] = item;
    }

    /// <summary>Sorts and hands the items over; the builder is empty afterwards.</summary>
    public NegentropyVector Build()
    {
        var vector = NegentropyVector.FromUnsorted(_items, _count);
        _items = new NegItem[16];
        _count = 0;
        return vector;
    }
}
