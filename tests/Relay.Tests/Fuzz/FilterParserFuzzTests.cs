using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Relay.Native.Events;
using Relay.Native.Protocol;
using Relay.Native.Query;

namespace Relay.Tests.Fuzz;

public class FilterParserFuzzTests
{
    private static readonly IReadOnlyList<byte[]> Donors = FuzzCorpus.Filters.Select(Encoding.UTF8.GetBytes).ToArray();

    [Fact]
    public void Corpus_filters_are_accepted()
    {
        foreach (var f in Donors)
            Assert.True(FilterParser.TryParse(f, FilterLimits.Default, out _, out string? error), error);
    }

    [Fact]
    public void Mutated_filters_never_throw_and_accepted_ones_are_normalized()
    {
        FuzzRun.Each("filter-mutate", (random, fuzzCase) =>
        {
            var input = new Mutator(random, Donors).Mutate(Donors[random.Next(Donors.Count)]);
            fuzzCase.Input(input);
            var limits = random.Next(4) == 0
                ? new FilterLimits { MaxFilters = 2, MaxValuesPerField = 2, MaxTagConditions = 1 }
                : FilterLimits.Default;
            if (!FilterParser.TryParse(input, limits, out Filter[] filters, out string? error))
            {
                Assert.True(error is not null && (error.StartsWith("invalid:") || error.StartsWith("unsupported:")), error);
                Assert.Empty(filters);
                return;
            }
            Assert.Null(error);
            Assert.InRange(filters.Length, 0, limits.MaxFilters);
            foreach (var filter in filters) AssertNormalized(filter, limits);
        });
    }

    [Fact]
    public void Respelled_filters_compile_to_the_same_filters()
    {
        FuzzRun.Each("filter-respell", (random, fuzzCase) =>
        {
            var original = Donors[random.Next(Donors.Count)];
            var input = EquivalentJson.Respell(Reorder(original, random), random);
            fuzzCase.Input(input);
            Assert.True(FilterParser.TryParse(original, FilterLimits.Default, out var expected, out _));
            Assert.True(FilterParser.TryParse(input, FilterLimits.Default, out var actual, out string? error), error);
            Assert.Equal(expected.Select(Describe), actual.Select(Describe));
        });
    }

    private static void AssertNormalized(Filter filter, FilterLimits limits)
    {
        // An empty set can match nothing, and such filters are dropped rather than kept.
        if (filter.Ids is { } ids) AssertStrictlyAscending(ids, limits);
        if (filter.Authors is { } authors) AssertStrictlyAscending(authors, limits);
        if (filter.Kinds is { } kinds)
        {
            Assert.InRange(kinds.Length, 1, limits.MaxValuesPerField);
            for (int i = 0; i < kinds.Length; i++)
            {
                Assert.InRange(kinds[i], 0, ushort.MaxValue);
                if (i > 0) Assert.True(kinds[i - 1] < kinds[i], "kinds not sorted and distinct");
            }
        }
        if (filter.Tags is { } tags)
        {
            Assert.InRange(tags.Length, 1, limits.MaxTagConditions);
            Assert.Equal(tags.Length, tags.Select(t => t.Letter).Distinct().Count());
            foreach (var tag in tags)
            {
                Assert.True(char.IsAsciiLetter((char)tag.Letter));
                Assert.InRange(tag.Values.Length, 1, limits.MaxValuesPerField);
                for (int i = 0; i < tag.Values.Length; i++)
                {
                    Assert.True(Utf8.IsValid(tag.Values[i]), "tag value is not UTF-8");
                    if (tag.Letter is (byte)'e' or (byte)'p')
                        Assert.True(tag.Values[i].Length == 64 && Hex.TryDecodeLower(tag.Values[i], new byte[32]));
                    if (i > 0) Assert.True(tag.Values[i - 1].AsSpan().SequenceCompareTo(tag.Values[i]) < 0, "tag values not sorted and distinct");
                }
            }
        }
        Assert.True(filter.Since >= 0 && filter.Until >= 0 && filter.Limit >= -1);

        // Normalizing again changes nothing.
        string before = Describe(filter);
        Assert.Equal(before, Describe(filter.Normalize()));
    }

    private static void AssertStrictlyAscending(Bytes32[] values, FilterLimits limits)
    {
        Assert.InRange(values.Length, 1, limits.MaxValuesPerField);
        for (int i = 1; i < values.Length; i++)
            Assert.True(values[i - 1].CompareTo(values[i]) < 0, "ids/authors not sorted and distinct");
    }

    private static string Describe(Filter f)
    {
        var sb = new StringBuilder();
        sb.Append("ids=").AppendJoin(',', f.Ids?.Select(v => v.ToString()) ?? ["-"]);
        sb.Append(";authors=").AppendJoin(',', f.Authors?.Select(v => v.ToString()) ?? ["-"]);
        sb.Append(";kinds=").AppendJoin(',', f.Kinds?.Select(k => k.ToString()) ?? ["-"]);
        foreach (var t in (f.Tags ?? []).OrderBy(t => t.Letter))
            sb.Append(";#").Append((char)t.Letter).Append('=').AppendJoin(',', t.Values.Select(Convert.ToHexString));
        sb.Append(";since=").Append(f.Since).Append(";until=").Append(f.Until).Append(";limit=").Append(f.Limit);
        return sb.ToString();
    }

    /// <summary>Same filters, keys in another order, array values shuffled and some repeated.</summary>
    private static byte[] Reorder(byte[] filtersJson, Random random)
    {
        byte[] wrapped = [.. "["u8, .. filtersJson, .. "]"u8];
        using var doc = JsonDocument.Parse(wrapped);
        var filters = new List<string>();
        foreach (var filter in doc.RootElement.EnumerateArray())
        {
            var members = new List<string>();
            foreach (var p in filter.EnumerateObject())
            {
                string value = p.Value.GetRawText();
                if (p.Value.ValueKind == JsonValueKind.Array && p.Value.GetArrayLength() > 0)
                {
                    var items = p.Value.EnumerateArray().Select(v => v.GetRawText()).ToList();
                    if (random.Next(2) == 0) items.Add(items[random.Next(items.Count)]);
                    Shuffle(items, random);
                    value = "[" + string.Join(",", items) + "]";
                }
                members.Add(JsonSerializer.Serialize(p.Name) + ":" + value);
            }
            Shuffle(members, random);
            filters.Add("{" + string.Join(",", members) + "}");
        }
        return Encoding.UTF8.GetBytes(string.Join(random.Next(2) == 0 ? "," : " ,\n", filters));
    }

    private static void Shuffle<T>(List<T> list, Random random)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}
