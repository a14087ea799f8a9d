using Relay.Native.Events;
using Relay.Native.Query;
using Relay.Server.Config;

namespace Relay.Server.Policy;

/// <summary>
/// strfry's relay.filterValidation for REQ and COUNT, with its semantics: off unless enabled; the
/// number of filters (after filters that can match nothing are dropped) within min..max; at most
/// maxKindsPerFilter kinds per filter; with allowedKinds set, every kind a filter names must be in
/// it (a filter naming no kinds passes, as in strfry); with requireAuthorOrTag, every filter names
/// exactly one author, one #p or one #e value. Refusals are CLOSED <c>blocked:</c>.
/// </summary>
internal sealed class FilterRules
{
    private readonly FilterValidationConfig _config;
    private readonly KindSet _allowedKinds;

    public FilterRules(FilterValidationConfig config)
    {
        _config = config;
        _allowedKinds = KindSet.Of(config.AllowedKindList);
    }

    public string? Check(ReadOnlySpan<Filter> filters)
    {
        if (!_config.Enabled) return null;
        if (filters.Length < _config.MinFiltersPerReq || filters.Length > _config.MaxFiltersPerReq)
            return $"blocked: {filters.Length} filters in one request; this relay takes {_config.MinFiltersPerReq} to {_config.MaxFiltersPerReq}";
        foreach (var f in filters)
        {
            if (f.Kinds is not null)
            {
                int kinds = Distinct(f.Kinds);
                if (kinds > _config.MaxKindsPerFilter)
                    return $"blocked: {kinds} kinds in one filter; this relay takes at most {_config.MaxKindsPerFilter}";
                if (!_allowedKinds.IsEmpty)
                    foreach (int k in f.Kinds)
                        if (!_allowedKinds.Contains(k)) return $"blocked: kind {k} may not be requested here";
            }
            if (_config.RequireAuthorOrTag && !NamesOneAuthorOrTag(f))
                return "blocked: each filter must name exactly one author, #p or #e";
        }
        return null;
    }

    private static bool NamesOneAuthorOrTag(Filter f)
    {
        if (f.Authors is { Length: > 0 } authors && DistinctCount(authors) == 1) return true;
        if (f.Tags is null) return false;
        foreach (var t in f.Tags)
            if (t.Letter is (byte)'p' or (byte)'e' && DistinctValues(t.Values) == 1) return true;
        return false;
    }

    // The filter's arrays are sorted (Filter.Normalize), so duplicates sit side by side.
    private static int Distinct(int[] sorted)
    {
        int n = sorted.Length == 0 ? 0 : 1;
        for (int i = 1; i < sorted.Length; i++) if (sorted[i] != sorted[i - 1]) n++;
        return n;
    }

    private static int DistinctCount(Bytes32[] sorted)
    {
        int n = sorted.Length == 0 ? 0 : 1;
        for (int i = 1; i < sorted.Length; i++) if (sorted[i] != sorted[i - 1]) n++;
        return n;
    }

    private static int DistinctValues(byte[][] sorted)
    {
        int n = sorted.Length == 0 ? 0 : 1;
        for (int i = 1; i < sorted.Length; i++) if (!sorted[i].AsSpan().SequenceEqual(sorted[i - 1])) n++;
        return n;
    }
}
