using Relay.Native.Events;

namespace Relay.Native.Query;

/// <summary>
/// One NIP-01 filter, compiled: value sets sorted for binary search, tag values JSON-unescaped
/// UTF-8. A null set means "no condition"; the parser drops filters that have an empty set
/// (they can match nothing). Made once per REQ, then matched against many events without allocating.
/// </summary>
public sealed class Filter
{
    public Bytes32[]? Ids { get; init; }
    public Bytes32[]? Authors { get; init; }
    public int[]? Kinds { get; init; }
    public TagCondition[]? Tags { get; init; }
    public long Since { get; init; }
    public long Until { get; init; } = long.MaxValue;
    /// <summary>-1 when the filter has no limit.</summary>
    public int Limit { get; init; } = -1;

    /// <summary>Sorts and de-duplicates the value sets; call once after building.</summary>
    public Filter Normalize()
    {
        if (Ids is not null) SortDistinct(Ids);
        if (Authors is not null) SortDistinct(Authors);
        if (Kinds is not null) Array.Sort(Kinds);
        if (Tags is not null)
        {
            foreach (var t in Tags) Array.Sort(t.Values, static (a, b) => a.AsSpan().SequenceCompareTo(b));
        }
        return this;
    }

    public bool Matches(in PackedEvent ev)
    {
        long createdAt = ev.CreatedAt;
        if (createdAt < Since || createdAt > Until) return false;
        if (Ids is not null && !Contains(Ids, ev.Id)) return false;
        if (Authors is not null && !Contains(Authors, ev.PubKey)) return false;
        if (Kinds is not null && Array.BinarySearch(Kinds, ev.Kind) < 0) return false;
        if (Tags is not null)
        {
            foreach (var condition in Tags)
            {
                if (!condition.MatchesAny(ev)) return false;
            }
        }
        return true;
    }

    public static bool Contains(Bytes32[] sorted, ReadOnlySpan<byte> value)
    {
        int lo = 0, hi = sorted.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int c = sorted[mid].Span.SequenceCompareTo(value);
            if (c == 0) return true;
            if (c < 0) lo = mid + 1; else hi = mid - 1;
        }
        return false;
    }

    private static void SortDistinct(Bytes32[] values) => Array.Sort(values);
}

/// <summary><c>#x: [v1, v2, ...]</c>: the event must have a tag x whose first value is one of these.</summary>
public sealed class TagCondition
{
    public TagCondition(byte letter, byte[][] values) { Letter = letter; Values = values; }

    public byte Letter { get; }
    /// <summary>UTF-8, JSON-unescaped, sorted bytewise after <see cref="Filter.Normalize"/>.</summary>
    public byte[][] Values { get; }

    public bool MatchesAny(in PackedEvent ev)
    {
        foreach (var tag in ev.Tags)
        {
            if (tag.Letter == Letter && Contains(tag.Value)) return true;
        }
        return false;
    }

    public bool Contains(ReadOnlySpan<byte> value)
    {
        int lo = 0, hi = Values.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int c = Values[mid].AsSpan().SequenceCompareTo(value);
            if (c == 0) return true;
            if (c < 0) lo = mid + 1; else hi = mid - 1;
        }
        return false;
    }
}
