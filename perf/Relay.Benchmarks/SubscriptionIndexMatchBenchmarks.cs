using BenchmarkDotNet.Attributes;
using Relay.Native.Events;
using Relay.Native.Query;

namespace Relay.Benchmarks;

/// <summary>
/// SubscriptionIndex.Match with 10k live subscriptions shaped like a relay's: follow feeds (authors + kinds),
/// mention/thread watchers (#p / #e), hashtag feeds (#t), a few global kind feeds and a few "everything".
/// </summary>
[MemoryDiagnoser]
public class SubscriptionIndexMatchBenchmarks
{
    public sealed class Subscription(int number) { public int Number { get; } = number; }

    private readonly SubscriptionIndex<Subscription> _index = new();
    private readonly List<Subscription> _matches = new(1024);
    private byte[] _followedNote = [];
    private byte[] _unfollowedNote = [];
    private byte[] _hashtagNote = [];

    [Params(10_000)]
    public int Subscriptions { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        var authors = new Bytes32[5_000];
        for (int i = 0; i < authors.Length; i++) authors[i] = SampleEvents.Key(10_000 + i);

        for (int i = 0; i < Subscriptions; i++)
        {
            Filter filter;
            switch (i % 10)
            {
                case < 6:
                    var follows = new Bytes32[50];
                    for (int f = 0; f < follows.Length; f++) follows[f] = authors[random.Next(authors.Length)];
                    filter = new Filter { Authors = follows, Kinds = [1, 6] };
                    break;
                case < 8:
                    filter = new Filter { Tags = [new TagCondition((byte)'p', [SampleEvents.HexOf(authors[random.Next(authors.Length)])])] };
                    break;
                case 8:
                    filter = new Filter { Kinds = [1], Tags = [new TagCondition((byte)'t', ["topic"u8.ToArray(), System.Text.Encoding.UTF8.GetBytes($"topic{random.Next(200)}")])] };
                    break;
                default:
                    filter = i % 100 == 9 ? new Filter { Since = 1_700_000_000 } : new Filter { Kinds = [random.Next(2, 40_000)] };
                    break;
            }
            _index.Add(new Subscription(i), [filter.Normalize()]);
        }

        _followedNote = SampleEvents.Note(SampleEvents.Key(1), authors[17]);
        _unfollowedNote = SampleEvents.Note(SampleEvents.Key(2), SampleEvents.Key(3));
        _hashtagNote = SampleEvents.Note(SampleEvents.Key(4), SampleEvents.Key(5), pTags: 0);
    }

    [Benchmark]
    public int Match_note_from_followed_author() => Run(_followedNote);

    [Benchmark]
    public int Match_note_from_unknown_author() => Run(_unfollowedNote);

    [Benchmark]
    public int Match_note_with_hashtags() => Run(_hashtagNote);

    private int Run(byte[] packed)
    {
        _matches.Clear();
        _index.Match(new PackedEvent(packed), _matches);
        return _matches.Count;
    }
}
