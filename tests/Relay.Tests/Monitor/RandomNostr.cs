using System.Text;
using Relay.Native.Events;
using Relay.Native.Query;

namespace Relay.Tests.Monitor;

/// <summary>
/// Random events and filters drawn from small pools of values, so that random filters actually hit
/// random events often enough for a differential test to mean something.
/// </summary>
internal sealed class RandomNostr
{
    private static readonly int[] KindPool = [0, 1, 3, 5, 7, 1984, 20001, 30023];
    private static readonly byte[] LetterPool = "eptdQ"u8.ToArray();

    private readonly Random _random;
    private readonly Bytes32[] _ids;
    private readonly Bytes32[] _pubKeys;
    private readonly byte[][] _tagValues;

    public RandomNostr(int seed, int idCount = 30, int pubKeyCount = 20)
    {
        _random = new Random(seed);
        _ids = RandomBytes32(idCount);
        _pubKeys = RandomBytes32(pubKeyCount);
        _tagValues =
        [
            .. Enumerable.Range(0, 6).Select(_ => Encoding.UTF8.GetBytes(Hex.Encode(RandomBytes32(1)[0].Span))),
            "nostr"u8.ToArray(), "bitcoin"u8.ToArray(), "30023:abc:post"u8.ToArray(), "ünïcode"u8.ToArray(), [],
        ];
    }

    public Bytes32 PubKey(int i) => _pubKeys[i];

    public byte[] Event()
    {
        var tags = new List<(byte, byte[])>();
        int tagCount = _random.Next(0, 6);
        for (int i = 0; i < tagCount; i++) tags.Add((Pick(LetterPool), Pick(_tagValues)));
        return Pack(Pick(_ids), Pick(_pubKeys), 1000 + _random.Next(0, 100), Pick(KindPool), tags);
    }

    public Filter[] Filters()
    {
        var filters = new Filter[_random.Next(1, 4)];
        for (int i = 0; i < filters.Length; i++) filters[i] = Filter();
        return filters;
    }

    public Filter Filter()
    {
        TagCondition[]? tags = null;
        if (Chance(0.35))
        {
            tags = new TagCondition[_random.Next(1, 3)];
            for (int i = 0; i < tags.Length; i++)
            {
                // Now and then a letter no packed tag can carry: such a condition must never match.
                byte letter = Chance(0.03) ? (byte)'#' : Pick(LetterPool);
                tags[i] = new TagCondition(letter, Some(_tagValues));
            }
        }
        return new Filter
        {
            Ids = Chance(0.2) ? Some(_ids) : null,
            Authors = Chance(0.35) ? Some(_pubKeys) : null,
            Kinds = Chance(0.45) ? Some(KindPool) : null,
            Tags = tags,
            Since = Chance(0.2) ? 1000 + _random.Next(0, 100) : 0,
            Until = Chance(0.2) ? 1000 + _random.Next(0, 100) : long.MaxValue,
        }.Normalize();
    }

    public static byte[] Pack(Bytes32 id, Bytes32 pubKey, long createdAt, int kind, IEnumerable<(byte Letter, byte[] Value)> tags)
    {
        var buffer = new byte[PackedEvent.HeaderSize + 4096];
        var writer = new PackedEventWriter(buffer, id.Span, pubKey.Span, createdAt, kind, expiration: 0);
        foreach (var (letter, value) in tags) Assert.True(writer.TryAddTag(letter, value));
        return writer.Written.ToArray();
    }

    public static Bytes32 Bytes32Of(byte fill)
    {
        Span<byte> b = stackalloc byte[32];
        b.Fill(fill);
        return Bytes32.From(b);
    }

    /// <summary>1-3 values from the pool, with an occasional repeat and, rarely, an empty set.</summary>
    private T[] Some<T>(T[] pool)
    {
        if (Chance(0.02)) return [];
        var values = new T[_random.Next(1, 4)];
        for (int i = 0; i < values.Length; i++) values[i] = Pick(pool);
        return values;
    }

    private T Pick<T>(T[] pool) => pool[_random.Next(pool.Length)];
    private bool Chance(double p) => _random.NextDouble() < p;

    private Bytes32[] RandomBytes32(int count)
    {
        var values = new Bytes32[count];
        var bytes = new byte[32];
        for (int i = 0; i < count; i++)
        {
            _random.NextBytes(bytes);
            values[i] = Bytes32.From(bytes);
        }
        return values;
    }
}
