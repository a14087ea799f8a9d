using System.Text;
using System.Text.Json;
using Relay.Native.Events;
using Relay.Native.Query;

namespace Relay.Native.Protocol;

/// <summary>How much one REQ or COUNT may ask for.</summary>
public sealed class FilterLimits
{
    public static FilterLimits Default { get; } = new();

    /// <summary>Filters in one REQ (strfry's <c>relay.maxReqFilterSize</c>).</summary>
    public int MaxFilters { get; init; } = 200;
    /// <summary>Values in one array: ids, authors, kinds, or one tag's values.</summary>
    public int MaxValuesPerField { get; init; } = 1000;
    /// <summary><c>#x</c> conditions in one filter (strfry's <c>relay.maxTagsPerFilter</c>).</summary>
    public int MaxTagConditions { get; init; } = 3;
}

/// <summary>
/// Compiles the filters of a REQ or COUNT (<see cref="ClientMessage.FiltersJson"/>) into
/// <see cref="Filter"/>s. Runs once per subscription, so it allocates freely; what it produces is
/// what the hot paths (index scans, live matching) use without allocating.
/// </summary>
public static class FilterParser
{
    /// <summary>
    /// False with <paramref name="error"/> the CLOSED message (<c>invalid:</c>, or <c>unsupported:</c>
    /// for a key this relay does not implement, such as NIP-50's <c>search</c>). Filters that can
    /// match nothing (an empty array in any field) are left out, so <paramref name="filters"/> may be
    /// empty: the REQ then gets its EOSE straight away.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> filtersJson, FilterLimits limits, out Filter[] filters, out string? error)
    {
        ArgumentNullException.ThrowIfNull(limits);
        filters = [];
        var parsed = new List<Filter>();
        int count = 0;
        int pos = SkipWhitespace(filtersJson, 0);
        try
        {
            while (pos < filtersJson.Length)
            {
                if (++count > limits.MaxFilters)
                {
                    error = "invalid: too many filters (at most " + limits.MaxFilters + ")";
                    return false;
                }
                // Filters are comma-separated values, not one JSON value: read each with its own reader.
                var reader = new Utf8JsonReader(filtersJson.Slice(pos));
                error = ParseOne(ref reader, limits, out Filter? filter);
                if (error is not null) return false;
                if (filter is not null) parsed.Add(filter.Normalize());
                pos = SkipWhitespace(filtersJson, pos + (int)reader.BytesConsumed);
                if (pos == filtersJson.Length) break;
                if (filtersJson[pos] != (byte)',')
                {
                    error = "invalid: malformed filters";
                    return false;
                }
                pos = SkipWhitespace(filtersJson, pos + 1);
                if (pos == filtersJson.Length)
                {
                    error = "invalid: malformed filters";
                    return false;
                }
            }
        }
        catch (JsonException)
        {
            error = "invalid: malformed filters";
            return false;
        }
        catch (InvalidOperationException)
        {
            error = "invalid: filter string is not valid UTF-16";
            return false;
        }
        filters = parsed.ToArray();
        error = null;
        return true;
    }

    /// <summary>Reads one filter object; <paramref name="filter"/> is null when it can match nothing.</summary>
    private static string? ParseOne(ref Utf8JsonReader reader, FilterLimits limits, out Filter? filter)
    {
        filter = null;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return "invalid: filter is not a JSON object";

        Bytes32[]? ids = null, authors = null;
        int[]? kinds = null;
        List<TagCondition>? tags = null;
        long since = 0, until = long.MaxValue;
        int limit = -1;
        bool matchesNothing = false;
        int seen = 0;
        ulong seenTags = 0;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            int key = IdentifyKey(ref reader, out byte tagLetter, out string? unsupported);
            if (unsupported is not null) return unsupported;
            if (key == KeyTag)
            {
                ulong bit = 1UL << (tagLetter - 'A');
                if ((seenTags & bit) != 0) return "invalid: duplicate filter key '#" + (char)tagLetter + "'";
                seenTags |= bit;
            }
            else
            {
                if ((seen & key) != 0) return "invalid: duplicate filter key '" + KeyName(key) + "'";
                seen |= key;
            }
            reader.Read();
            string? error;
            switch (key)
            {
                case KeyIds:
                    error = ReadHexValues(ref reader, limits, "ids", out ids);
                    if (ids is { Length: 0 }) matchesNothing = true;
                    break;
                case KeyAuthors:
                    error = ReadHexValues(ref reader, limits, "authors", out authors);
                    if (authors is { Length: 0 }) matchesNothing = true;
                    break;
                case KeyKinds:
                    error = ReadKinds(ref reader, limits, out kinds);
                    if (kinds is { Length: 0 }) matchesNothing = true;
                    break;
                case KeySince:
                    error = ReadTimestamp(ref reader, "since", out since);
                    break;
                case KeyUntil:
                    error = ReadTimestamp(ref reader, "until", out until);
                    break;
                case KeyLimit:
                    error = ReadTimestamp(ref reader, "limit", out long rawLimit);
                    limit = (int)Math.Min(rawLimit, int.MaxValue);
                    break;
                default:
                    tags ??= [];
                    if (tags.Count == limits.MaxTagConditions)
                        return "invalid: too many tag conditions in one filter (at most " + limits.MaxTagConditions + ")";
                    error = ReadTagValues(ref reader, limits, tagLetter, out TagCondition? condition);
                    if (condition is not null)
                    {
                        tags.Add(condition);
                        if (condition.Values.Length == 0) matchesNothing = true;
                    }
                    break;
            }
            if (error is not null) return error;
        }

        if (matchesNothing) return null;
        filter = new Filter
        {
            Ids = ids,
            Authors = authors,
            Kinds = kinds,
            Tags = tags?.ToArray(),
            Since = since,
            Until = until,
            Limit = limit,
        };
        return null;
    }

    private const int KeyIds = 1, KeyAuthors = 2, KeyKinds = 4, KeySince = 8, KeyUntil = 16, KeyLimit = 32, KeyTag = 64;

    private static int IdentifyKey(ref Utf8JsonReader reader, out byte tagLetter, out string? unsupported)
    {
        tagLetter = 0;
        unsupported = null;
        if (reader.ValueTextEquals("ids"u8)) return KeyIds;
        if (reader.ValueTextEquals("authors"u8)) return KeyAuthors;
        if (reader.ValueTextEquals("kinds"u8)) return KeyKinds;
        if (reader.ValueTextEquals("since"u8)) return KeySince;
        if (reader.ValueTextEquals("until"u8)) return KeyUntil;
        if (reader.ValueTextEquals("limit"u8)) return KeyLimit;
        string name = reader.GetString() ?? "";
        if (name.Length == 2 && name[0] == '#' && char.IsAsciiLetter(name[1]))
        {
            tagLetter = (byte)name[1];
            return KeyTag;
        }
        if (name.Length > 32) name = name.Substring(0, 32) + "...";
        unsupported = "unsupported: filter key '" + name + "'";
        return 0;
    }

    private static string KeyName(int key) => key switch
    {
        KeyIds => "ids",
        KeyAuthors => "authors",
        KeyKinds => "kinds",
        KeySince => "since",
        KeyUntil => "until",
        _ => "limit",
    };

    private static string? ReadHexValues(ref Utf8JsonReader reader, FilterLimits limits, string field, out Bytes32[]? values)
    {
        values = null;
        if (reader.TokenType != JsonTokenType.StartArray) return "invalid: '" + field + "' must be an array of 64-character lowercase hex strings";
        var list = new List<Bytes32>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (list.Count == limits.MaxValuesPerField) return TooManyValues(field, limits);
            Bytes32 value = default;
            if (!EventParser.TryReadHex(ref reader, value))
                return "invalid: '" + field + "' must be an array of 64-character lowercase hex strings";
            list.Add(value);
        }
        list.Sort();
        values = Distinct(list);
        return null;
    }

    private static string? ReadKinds(ref Utf8JsonReader reader, FilterLimits limits, out int[]? kinds)
    {
        const string Error = "invalid: 'kinds' must be an array of integers from 0 to 65535";
        kinds = null;
        if (reader.TokenType != JsonTokenType.StartArray) return Error;
        var list = new List<int>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (list.Count == limits.MaxValuesPerField) return TooManyValues("kinds", limits);
            if (!EventParser.TryReadInteger(ref reader, out long kind) || kind > ushort.MaxValue) return Error;
            list.Add((int)kind);
        }
        list.Sort();
        kinds = Distinct(list);
        return null;
    }

    /// <summary>A non-negative integer; values past a long saturate, as "until the end of time" is what they mean.</summary>
    private static string? ReadTimestamp(ref Utf8JsonReader reader, string field, out long value)
    {
        value = 0;
        if (reader.TokenType != JsonTokenType.Number) return "invalid: '" + field + "' must be a non-negative integer";
        ReadOnlySpan<byte> digits = reader.ValueSpan;
        foreach (byte b in digits)
        {
            uint d = (uint)(b - '0');
            if (d > 9) return "invalid: '" + field + "' must be a non-negative integer";
            value = value > (long.MaxValue - d) / 10 ? long.MaxValue : value * 10 + d;
        }
        return null;
    }

    private static string? ReadTagValues(ref Utf8JsonReader reader, FilterLimits limits, byte letter, out TagCondition? condition)
    {
        condition = null;
        string field = "#" + (char)letter;
        // NIP-01: #e and #p hold ids and pubkeys, so only exact 64-character lowercase hex can match.
        bool hexOnly = letter is (byte)'e' or (byte)'p';
        if (reader.TokenType != JsonTokenType.StartArray) return "invalid: '" + field + "' must be an array of strings";
        var values = new List<byte[]>();
        Span<byte> hex = stackalloc byte[32];
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (values.Count == limits.MaxValuesPerField) return TooManyValues(field, limits);
            if (reader.TokenType != JsonTokenType.String) return "invalid: '" + field + "' must be an array of strings";
            byte[] value = new byte[reader.ValueSpan.Length];
            int length = reader.CopyString(value);
            if (length != value.Length) value = value.AsSpan(0, length).ToArray();
            if (hexOnly && !Hex.TryDecodeLower(value, hex))
                return "invalid: '" + field + "' values must be 64-character lowercase hex strings";
            values.Add(value);
        }
        values.Sort(static (a, b) => a.AsSpan().SequenceCompareTo(b));
        var distinct = new List<byte[]>(values.Count);
        foreach (byte[] v in values)
        {
            if (distinct.Count == 0 || !distinct[^1].AsSpan().SequenceEqual(v)) distinct.Add(v);
        }
        condition = new TagCondition(letter, distinct.ToArray());
        return null;
    }

    private static T[] Distinct<T>(List<T> sorted) where T : IEquatable<T>
    {
        var result = new List<T>(sorted.Count);
        foreach (T v in sorted)
        {
            if (result.Count == 0 || !result[^1].Equals(v)) result.Add(v);
        }
        return result.ToArray();
    }

    private static string TooManyValues(string field, FilterLimits limits) =>
        "invalid: too many values in '" + field + "' (at most " + limits.MaxValuesPerField + ")";

    private static int SkipWhitespace(ReadOnlySpan<byte> json, int pos)
    {
        while (pos < json.Length && json[pos] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r') pos++;
        return pos;
    }
}
