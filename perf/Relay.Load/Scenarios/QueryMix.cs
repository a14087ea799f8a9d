using System.Buffers;
using System.Text.Json;
using Relay.Load.Corpus;
using Relay.Load.Generation;

namespace Relay.Load.Scenarios;

/// <summary>
/// A weighted set of REQ types drawn from what the corpus really contains. Deterministic in the
/// random stream, so a seed gives the same REQs on every run and against every relay.
/// </summary>
public abstract class QueryMix
{
    /// <summary><c>default</c>: the original mix (~60 events per REQ on 100k events); <c>feed150</c>: client-like feeds (~150).</summary>
    public static readonly string[] Names = ["default", "feed150"];

    private readonly int[] _weights;
    private readonly int _weightTotal;

    protected QueryMix(EventCorpus corpus, string[] types, int[] weights)
    {
        if (corpus.Count == 0) throw new ArgumentException("the query scenario needs a non-empty events file");
        if (types.Length != weights.Length) throw new ArgumentException("one weight per query type");
        Corpus = corpus;
        Types = types;
        _weights = weights;
        foreach (int w in weights) _weightTotal += w;
    }

    public static QueryMix Create(string name, EventCorpus corpus) => name switch
    {
        "default" => new DefaultQueryMix(corpus),
        "feed150" => new FeedQueryMix(corpus),
        _ => throw new ArgumentException($"unknown query mix '{name}' (known: {string.Join(", ", Names)})"),
    };

    public abstract string Name { get; }
    public string[] Types { get; }
    protected EventCorpus Corpus { get; }

    /// <summary>Draws the next filter; <paramref name="type"/> is its index in <see cref="Types"/>.</summary>
    public QueryFilter Next(ref DeterministicRandom random, out int type)
    {
        type = PickType(ref random);
        return Build(type, ref random);
    }

    protected abstract QueryFilter Build(int type, ref DeterministicRandom random);

    /// <summary>Writes <c>["REQ","&lt;subId&gt;",{filter}]</c>; returns the index of the query type in <see cref="Types"/>.</summary>
    public int Write(ref DeterministicRandom random, ReadOnlySpan<char> subscriptionId, IBufferWriter<byte> output)
    {
        QueryFilter filter = Next(ref random, out int type);
        using var json = new Utf8JsonWriter(output);
        json.WriteStartArray();
        json.WriteStringValue("REQ");
        json.WriteStringValue(subscriptionId);
        filter.Write(json);
        json.WriteEndArray();
        return type;
    }

    private int PickType(ref DeterministicRandom random)
    {
        int roll = random.Next(_weightTotal);
        for (int t = 0; t < _weights.Length; t++)
        {
            if (roll < _weights[t]) return t;
            roll -= _weights[t];
        }
        return _weights.Length - 1;
    }

    /// <summary><paramref name="count"/> draws from <c>pool[from..to)</c>, clamped to the pool; empty when the pool is.</summary>
    protected static List<string> Draw(string[] pool, int count, int from, int to, ref DeterministicRandom random)
    {
        var values = new List<string>(count);
        if (pool.Length == 0) return values;
        from = Math.Clamp(from, 0, pool.Length - 1);
        to = Math.Clamp(to, from + 1, pool.Length);
        for (int i = 0; i < count; i++) values.Add(pool[random.Next(from, to)]);
        return values;
    }
}
