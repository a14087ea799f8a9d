using System.Buffers;
using System.Text.Json;
using Relay.Load.Corpus;
using Relay.Load.Generation;

namespace Relay.Load.Scenarios;

/// <summary>
/// The REQ mix of the query scenario, drawn from what the corpus really contains: popular and rare
/// authors, referenced ids and pubkeys, hashtags, event ids and the corpus time range.
/// </summary>
public sealed class QueryMix
{
    public static readonly string[] Types =
    [
        "authors-popular", "authors-rare", "authors+kinds", "kinds", "#e", "#p", "#t", "ids", "time-window", "combo", "broad",
    ];

    // Relative weights, in the order of Types; broad {"kinds":[1],"limit":500} stays rare.
    private static readonly int[] s_weights = [12, 10, 12, 8, 12, 10, 8, 10, 10, 6, 2];
    private static readonly int[][] s_kindSets = [[1], [7], [0], [3], [30023], [1, 7], [0, 3]];

    private readonly EventCorpus _corpus;
    private readonly int _weightTotal;

    public QueryMix(EventCorpus corpus)
    {
        if (corpus.Count == 0) throw new ArgumentException("the query scenario needs a non-empty events file");
        _corpus = corpus;
        foreach (int w in s_weights) _weightTotal += w;
    }

    /// <summary>Writes <c>["REQ","&lt;subId&gt;",{filter}]</c>; returns the index of the query type in <see cref="Types"/>.</summary>
    public int Write(ref DeterministicRandom random, ReadOnlySpan<char> subscriptionId, IBufferWriter<byte> output)
    {
        int type = PickType(ref random);
        using var json = new Utf8JsonWriter(output);
        json.WriteStartArray();
        json.WriteStringValue("REQ");
        json.WriteStringValue(subscriptionId);
        json.WriteStartObject();
        string[] authors = _corpus.AuthorsByActivity;
        switch (Types[type])
        {
            case "authors-popular":
                Strings(json, "authors", authors, random.Next(1, 11), 0, Math.Max(1, authors.Length / 100), ref random);
                json.WriteNumber("limit", 100);
                break;
            case "authors-rare":
                Strings(json, "authors", authors, random.Next(1, 11), authors.Length / 2, authors.Length, ref random);
                json.WriteNumber("limit", 100);
                break;
            case "authors+kinds":
                Strings(json, "authors", authors, random.Next(1, 6), 0, Math.Max(1, authors.Length / 5), ref random);
                Kinds(json, s_kindSets[random.Next(s_kindSets.Length)]);
                json.WriteNumber("limit", 50);
                break;
            case "kinds":
                Kinds(json, s_kindSets[random.Next(s_kindSets.Length)]);
                json.WriteNumber("limit", 100);
                break;
            case "#e":
                Strings(json, "#e", _corpus.ETagValues, random.Next(1, 4), 0, Math.Max(1, _corpus.ETagValues.Length / 20), ref random);
                json.WriteNumber("limit", 200);
                break;
            case "#p":
                Strings(json, "#p", _corpus.PTagValues, 1, 0, _corpus.PTagValues.Length, ref random);
                json.WriteNumber("limit", 100);
                break;
            case "#t":
                Strings(json, "#t", _corpus.TTagValues, random.Next(1, 3), 0, _corpus.TTagValues.Length, ref random);
                json.WriteNumber("limit", 50);
                break;
            case "ids":
            {
                json.WriteStartArray("ids");
                int n = random.Next(1, 21);
                for (int i = 0; i < n; i++) json.WriteStringValue(_corpus.Ids[random.Next(_corpus.Count)].ToString());
                json.WriteEndArray();
                break;
            }
            case "time-window":
            {
                Kinds(json, [1]);
                long span = random.Chance(0.5) ? 3600 : 86_400;
                long since = _corpus.MinCreatedAt + (long)(random.NextDouble() * Math.Max(1, _corpus.MaxCreatedAt - _corpus.MinCreatedAt - span));
                json.WriteNumber("since", since);
                json.WriteNumber("until", since + span);
                json.WriteNumber("limit", 200);
                break;
            }
            case "combo":
                Strings(json, "authors", authors, random.Next(1, 11), 0, Math.Max(1, authors.Length / 10), ref random);
                Kinds(json, [1, 7]);
                json.WriteNumber("since", _corpus.MaxCreatedAt - 7 * 86_400);
                json.WriteNumber("limit", 100);
                break;
            default:
                Kinds(json, [1]);
                json.WriteNumber("limit", 500);
                break;
        }
        json.WriteEndObject();
        json.WriteEndArray();
        return type;
    }

    private int PickType(ref DeterministicRandom random)
    {
        int roll = random.Next(_weightTotal);
        for (int t = 0; t < s_weights.Length; t++)
        {
            if (roll < s_weights[t]) return t;
            roll -= s_weights[t];
        }
        return s_weights.Length - 1;
    }

    private static void Strings(Utf8JsonWriter json, string name, string[] pool, int count, int from, int to, ref DeterministicRandom random)
    {
        json.WriteStartArray(name);
        if (pool.Length > 0)
        {
            from = Math.Clamp(from, 0, pool.Length - 1);
            to = Math.Clamp(to, from + 1, pool.Length);
            for (int i = 0; i < count; i++) json.WriteStringValue(pool[random.Next(from, to)]);
        }
        json.WriteEndArray();
    }

    private static void Kinds(Utf8JsonWriter json, int[] kinds)
    {
        json.WriteStartArray("kinds");
        foreach (int kind in kinds) json.WriteNumberValue(kind);
        json.WriteEndArray();
    }
}
