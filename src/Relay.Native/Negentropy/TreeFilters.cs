using System.Text;
using Relay.Native.Events;
using Relay.Native.Protocol;
using Relay.Native.Query;

namespace Relay.Native.Negentropy;

/// <summary>Parsing and comparing the filters that define negentropy trees.</summary>
internal static class TreeFilters
{
    // A tree may well be "everything by these 5,000 authors"; REQ limits do not apply here.
    private static readonly FilterLimits Limits = new() { MaxFilters = 16, MaxValuesPerField = 1_000_000, MaxTagConditions = 52 };

    /// <summary>One filter object with no since/until/limit (a tree holds the whole selection; windows are cut at query time).</summary>
    public static bool TryParse(string json, out Filter filter, out string error)
    {
        filter = null!;
        if (!FilterParser.TryParse(Encoding.UTF8.GetBytes(json), Limits, out var filters, out string? parseError))
        {
            error = parseError ?? "invalid: malformed filter";
            return false;
        }
        if (filters.Length != 1)
        {
            error = filters.Length == 0 ? "invalid: this filter matches nothing" : "invalid: a tree is defined by exactly one filter";
            return false;
        }
        var f = filters[0];
        if (f.Since != 0 || f.Until != long.MaxValue || f.Limit >= 0)
        {
            error = "invalid: a tree filter must not have since, until or limit";
            return false;
        }
        filter = f;
        error = "";
        return true;
    }

    /// <summary>Same events selected, since/until/limit aside. Both filters must be normalized (sorted).</summary>
    public static bool SameSelection(Filter a, Filter b) =>
        SameSet(a.Ids, b.Ids) && SameSet(a.Authors, b.Authors) && SameKinds(a.Kinds, b.Kinds) && SameTags(a.Tags, b.Tags);

    private static bool SameSet(Bytes32[]? a, Bytes32[]? b)
    {
        if (a is null || b is null) return a is null && b is null;
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            if (i == a.Length || j == b.Length || a[i] != b[j]) return false;
            var value = a[i];
            while (i < a.Length && a[i] == value) i++;
            while (j < b.Length && b[j] == value) j++;
        }
        return true;
    }

    private static bool SameKinds(int[]? a, int[]? b)
    {
        if (a is null || b is null) return a is null && b is null;
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            if (i == a.Length || j == b.Length || a[i] != b[j]) return false;
            int value = a[i];
            while (i < a.Length && a[i] == value) i++;
            while (j < b.Length && b[j] == value) j++;
        }
        return true;
    }

    private static bool SameTags(TagCondition[]? a, TagCondition[]? b)
    {
        int na = a?.Length ?? 0, nb = b?.Length ?? 0;
        if (na != nb) return false;
        // Letters are unique within a filter (the parser refuses repeats), so match them up by letter.
        for (int i = 0; i < na; i++)
        {
            var condition = a![i];
            TagCondition? other = null;
            foreach (var candidate in b!)
            {
                if (candidate.Letter == condition.Letter) other = candidate;
            }
            if (other is null || !SameValues(condition.Values, other.Values)) return false;
        }
        return true;
    }

    private static bool SameValues(byte[][] a, byte[][] b)
    {
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            if (i == a.Length || j == b.Length || !a[i].AsSpan().SequenceEqual(b[j])) return false;
            var value = a[i];
            while (i < a.Length && a[i].AsSpan().SequenceEqual(value)) i++;
            while (j < b.Length && b[j].AsSpan().SequenceEqual(value)) j++;
        }
        return true;
    }
}
