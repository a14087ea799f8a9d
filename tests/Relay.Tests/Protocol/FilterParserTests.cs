using System.Text;
using Relay.Native.Events;
using Relay.Native.Protocol;
using Relay.Native.Query;
using Relay.Tests.Events;
using static Relay.Tests.Events.NostrToolsVectors;

namespace Relay.Tests.Protocol;

public class FilterParserTests
{
    private static readonly string A = new('a', 64), B = new('b', 64), C = new('c', 64);

    private static (bool Ok, Filter[] Filters, string? Error) Parse(string filtersJson, FilterLimits? limits = null)
    {
        bool ok = FilterParser.TryParse(Encoding.UTF8.GetBytes(filtersJson), limits ?? FilterLimits.Default, out var filters, out string? error);
        return (ok, filters, error);
    }

    private static Filter Single(string filtersJson)
    {
        var (ok, filters, error) = Parse(filtersJson);
        Assert.True(ok, error);
        return Assert.Single(filters);
    }

    [Fact]
    public void Every_field_is_compiled()
    {
        var f = Single($$"""{"ids":["{{B}}","{{A}}"],"authors":["{{C}}"],"kinds":[7,1,7],"#e":["{{A}}"],"#t":["nostr","b\u00e9"],"since":10,"until":20,"limit":5}""");

        Assert.Equal([A, B], f.Ids!.Select(x => x.ToString()));
        Assert.Equal([C], f.Authors!.Select(x => x.ToString()));
        Assert.Equal([1, 7], f.Kinds!);
        Assert.Equal(10, f.Since);
        Assert.Equal(20, f.Until);
        Assert.Equal(5, f.Limit);
        Assert.Equal(2, f.Tags!.Length);
        Assert.Equal((byte)'e', f.Tags[0].Letter);
        Assert.Equal([A], f.Tags[0].Values.Select(v => Encoding.UTF8.GetString(v)));
        Assert.Equal((byte)'t', f.Tags[1].Letter);
        // Unescaped UTF-8, sorted bytewise.
        Assert.Equal(["bé", "nostr"], f.Tags[1].Values.Select(v => Encoding.UTF8.GetString(v)));
    }

    [Fact]
    public void Empty_filter_has_no_conditions()
    {
        var f = Single("{}");

        Assert.Null(f.Ids);
        Assert.Null(f.Authors);
        Assert.Null(f.Kinds);
        Assert.Null(f.Tags);
        Assert.Equal(0, f.Since);
        Assert.Equal(long.MaxValue, f.Until);
        Assert.Equal(-1, f.Limit);
    }

    [Fact]
    public void Several_filters_separated_by_commas_and_whitespace_are_all_read()
    {
        var (ok, filters, error) = Parse(" {\"kinds\":[1]} ,\n{\"kinds\":[2]},{\"limit\":0} ");

        Assert.True(ok, error);
        Assert.Equal(3, filters.Length);
        Assert.Equal([1], filters[0].Kinds!);
        Assert.Equal([2], filters[1].Kinds!);
        Assert.Equal(0, filters[2].Limit);
    }

    [Fact]
    public void No_filters_at_all_is_an_empty_list()
    {
        var (ok, filters, _) = Parse("");

        Assert.True(ok);
        Assert.Empty(filters);
    }

    [Theory]
    [InlineData("""{"ids":[]}""")]
    [InlineData("""{"authors":[],"kinds":[1]}""")]
    [InlineData("""{"kinds":[]}""")]
    [InlineData("""{"#t":[]}""")]
    public void Filter_with_an_empty_array_matches_nothing_and_is_dropped(string filter)
    {
        var (ok, filters, error) = Parse(filter + ",{\"kinds\":[3]}");

        Assert.True(ok, error);
        Assert.Equal([3], Assert.Single(filters).Kinds!);
    }

    [Fact]
    public void Dropped_filters_are_still_validated()
    {
        Assert.False(Parse("""{"ids":[],"kinds":["x"]}""").Ok);
    }

    [Theory]
    [InlineData("""{"limit":99999999999999999999999}""", int.MaxValue, long.MaxValue)]
    [InlineData("""{"until":99999999999999999999999}""", -1, long.MaxValue)]
    [InlineData("""{"until":0}""", -1, 0L)]
    public void Integers_too_big_for_their_field_saturate(string filter, int limit, long until)
    {
        var f = Single(filter);

        Assert.Equal(limit, f.Limit);
        Assert.Equal(until, f.Until);
    }

    public static TheoryData<string, string> Rejected => new()
    {
        { """{"ids":["ABCD"]}""", "invalid: 'ids' must be an array of 64-character lowercase hex strings" },
        { $$"""{"ids":["{{A.ToUpperInvariant()}}"]}""", "invalid: 'ids' must be an array of 64-character lowercase hex strings" },
        { $$"""{"ids":["{{A[..63]}}"]}""", "invalid: 'ids' must be an array of 64-character lowercase hex strings" },
        { """{"ids":"aa"}""", "invalid: 'ids' must be an array of 64-character lowercase hex strings" },
        { """{"authors":[1]}""", "invalid: 'authors' must be an array of 64-character lowercase hex strings" },
        { """{"authors":[null]}""", "invalid: 'authors' must be an array of 64-character lowercase hex strings" },
        { """{"kinds":[-1]}""", "invalid: 'kinds' must be an array of integers from 0 to 65535" },
        { """{"kinds":[65536]}""", "invalid: 'kinds' must be an array of integers from 0 to 65535" },
        { """{"kinds":[1.5]}""", "invalid: 'kinds' must be an array of integers from 0 to 65535" },
        { """{"kinds":["1"]}""", "invalid: 'kinds' must be an array of integers from 0 to 65535" },
        { """{"kinds":1}""", "invalid: 'kinds' must be an array of integers from 0 to 65535" },
        { """{"since":-1}""", "invalid: 'since' must be a non-negative integer" },
        { """{"since":1.5}""", "invalid: 'since' must be a non-negative integer" },
        { """{"until":1e3}""", "invalid: 'until' must be a non-negative integer" },
        { """{"until":"now"}""", "invalid: 'until' must be a non-negative integer" },
        { """{"limit":null}""", "invalid: 'limit' must be a non-negative integer" },
        { """{"limit":1e99999}""", "invalid: 'limit' must be a non-negative integer" },
        { """{"#e":["abc"]}""", "invalid: '#e' values must be 64-character lowercase hex strings" },
        { $$"""{"#p":["{{A.ToUpperInvariant()}}"]}""", "invalid: '#p' values must be 64-character lowercase hex strings" },
        { """{"#t":[1]}""", "invalid: '#t' must be an array of strings" },
        { """{"#t":"x"}""", "invalid: '#t' must be an array of strings" },
        { """{"#t":["\ud800"]}""", "invalid: filter string is not valid UTF-16" },
        { """{"search":"nostr"}""", "unsupported: filter key 'search'" },
        { """{"#tt":["x"]}""", "unsupported: filter key '#tt'" },
        { """{"#1":["x"]}""", "unsupported: filter key '#1'" },
        { """{"t":["x"]}""", "unsupported: filter key 't'" },
        { """{"kinds":[1],"kinds":[2]}""", "invalid: duplicate filter key 'kinds'" },
        { """{"#t":["a"],"#t":["b"]}""", "invalid: duplicate filter key '#t'" },
        { """{"#a":["1"],"#b":["2"],"#c":["3"],"#d":["4"]}""", "invalid: too many tag conditions in one filter (at most 3)" },
        { "[]", "invalid: filter is not a JSON object" },
        { "1", "invalid: filter is not a JSON object" },
        { "{}{}", "invalid: malformed filters" },
        { "{},", "invalid: malformed filters" },
        { "{},,{}", "invalid: malformed filters" },
        { "{\"kinds\":[1]", "invalid: malformed filters" },
        { "{\"x\":" + new string('[', 10000) + "}", "unsupported: filter key 'x'" },
        { "{\"kinds\":" + new string('[', 10000) + "}", "invalid: 'kinds' must be an array of integers from 0 to 65535" },
    };

    [Theory]
    [MemberData(nameof(Rejected))]
    public void Bad_filter_is_rejected_with_a_closed_message(string filtersJson, string error)
    {
        var r = Parse(filtersJson);

        Assert.False(r.Ok);
        Assert.Equal(error, r.Error);
    }

    [Fact]
    public void Limits_on_filters_and_values_are_enforced()
    {
        var limits = new FilterLimits { MaxFilters = 2, MaxValuesPerField = 3, MaxTagConditions = 1 };

        Assert.True(Parse("{},{}", limits).Ok);
        Assert.Equal("invalid: too many filters (at most 2)", Parse("{},{},{}", limits).Error);
        Assert.True(Parse("""{"kinds":[1,2,3]}""", limits).Ok);
        Assert.Equal("invalid: too many values in 'kinds' (at most 3)", Parse("""{"kinds":[1,2,3,4]}""", limits).Error);
        Assert.Equal("invalid: too many values in '#t' (at most 3)", Parse("""{"#t":["1","2","3","4"]}""", limits).Error);
        Assert.Equal("invalid: too many values in 'ids' (at most 3)", Parse($$"""{"ids":["{{A}}","{{A}}","{{A}}","{{A}}"]}""", limits).Error);
        Assert.True(Parse("""{"#t":["x"]}""", limits).Ok);
        Assert.Equal("invalid: too many tag conditions in one filter (at most 1)", Parse("""{"#t":["x"],"#p":[]}""", limits).Error);
    }

    [Fact]
    public void Compiled_filter_matches_the_parsed_event()
    {
        var ev = EventParserTests.Parse(ControlsNormalized);
        Assert.Equal(EventParseStatus.Ok, ev.Status);
        var packed = new PackedEvent(ev.Packed);

        Assert.True(Single($$"""{"authors":["{{PubKey}}"],"kinds":[1],"#t":["tag\u0000with\u001fcontrols\u007f"]}""").Matches(packed));
        Assert.True(Single($$"""{"#p":["{{PubKey}}"],"#d":[""],"since":1700000000,"until":1700000000}""").Matches(packed));
        Assert.False(Single($$"""{"#p":["{{A}}"]}""").Matches(packed));
        Assert.False(Single("""{"kinds":[0,3]}""").Matches(packed));
        Assert.False(Single("""{"since":1700000001}""").Matches(packed));
    }
}
