using System.Text;
using Relay.Native.Events;
using Relay.Native.Storage;

namespace Relay.Benchmarks;

/// <summary>
/// Realistic events for the storage and query benchmarks: notes, reactions, reposts and comments
/// with e/p/t tags and ~500 bytes of JSON, from a fixed pool of authors, deterministic per seed.
/// Signatures are random bytes: the store never checks them.
/// </summary>
internal sealed class StorageSampleEvents
{
    public const long FirstCreatedAt = 1_700_000_000;
    public const int Authors = 1000;
    public const int PopularRoots = 100;
    public static readonly string[] Hashtags = Enumerable.Range(0, 50).Select(i => "topic" + i).ToArray();

    private static readonly int[] KindPool = [1, 1, 1, 1, 1, 1, 1, 7, 7, 6, 1111];
    private const string Content =
        "Just shipped a new relay build; queries come straight from the LMDB indexes, newest first, " +
        "and the hot path allocates nothing. Feedback welcome! #nostr";

    private readonly Random _random;
    private readonly List<Bytes32> _ids = new();

    public StorageSampleEvents(int seed) => _random = new Random(seed);

    public static Bytes32 Author(int index) => SampleEvents.Key(10_000 + index);

    /// <summary>Ids of all events made so far, in order.</summary>
    public IReadOnlyList<Bytes32> Ids => _ids;

    /// <summary>The <paramref name="index"/>-th event: created_at grows ~3 s per event, with jitter.</summary>
    public WriteItem Next(int index)
    {
        Span<byte> bytes = stackalloc byte[32];
        _random.NextBytes(bytes);
        var id = Bytes32.From(bytes);
        var author = Author(_random.Next(Authors));
        long createdAt = FirstCreatedAt + index * 3L + _random.Next(30);
        int kind = KindPool[_random.Next(KindPool.Length)];

        // Replies and reactions point at one of the first, popular events a tenth of the time.
        var tags = new List<(char Letter, string Value)>();
        if (_ids.Count > 0 && (kind != 1 || _random.Next(3) == 0))
        {
            var target = _random.Next(10) == 0 ? _ids[_random.Next(Math.Min(PopularRoots, _ids.Count))] : _ids[_random.Next(_ids.Count)];
            tags.Add(('e', Hex.Encode(target.Span)));
        }
        for (int p = _random.Next(3); p > 0; p--) tags.Add(('p', Hex.Encode(Author(_random.Next(Authors)).Span)));
        if (kind == 1) tags.Add(('t', Hashtags[_random.Next(Hashtags.Length)]));
        _ids.Add(id);
        return Make(id, author, createdAt, kind, tags);
    }

    public static WriteItem Make(Bytes32 id, Bytes32 author, long createdAt, int kind, List<(char Letter, string Value)> tags)
    {
        int size = PackedEvent.HeaderSize;
        foreach (var (_, value) in tags) size += 3 + value.Length;
        var packed = new byte[size];
        var writer = new PackedEventWriter(packed, id.Span, author.Span, createdAt, kind, expiration: 0);
        foreach (var (letter, value) in tags)
        {
            if (!writer.TryAddTag((byte)letter, Encoding.UTF8.GetBytes(value))) throw new InvalidOperationException("packing failed");
        }

        var json = new StringBuilder(600);
        json.Append("{\"id\":\"").Append(Hex.Encode(id.Span)).Append("\",\"pubkey\":\"").Append(Hex.Encode(author.Span))
            .Append("\",\"created_at\":").Append(createdAt).Append(",\"kind\":").Append(kind).Append(",\"tags\":[");
        for (int i = 0; i < tags.Count; i++)
            json.Append(i == 0 ? "" : ",").Append("[\"").Append(tags[i].Letter).Append("\",\"").Append(tags[i].Value).Append("\"]");
        json.Append("],\"content\":\"").Append(kind == 7 ? "+" : Content).Append("\",\"sig\":\"")
            .Append(Convert.ToHexStringLower(SampleEvents.Key((int)(createdAt % 100_000)).Span)).Append(Convert.ToHexStringLower(id.Span))
            .Append("\"}");
        return new WriteItem(packed, Encoding.UTF8.GetBytes(json.ToString()));
    }
}
