using BenchmarkDotNet.Attributes;
using Relay.Native.Events;
using Relay.Native.Query;

namespace Relay.Benchmarks;

/// <summary>Filter.Matches: the final check on every candidate the live index and the query scans produce.</summary>
[MemoryDiagnoser]
public class FilterMatchBenchmarks
{
    private byte[] _event = [];
    private Filter _authorsAndKinds = new();
    private Filter _tagHit = new();
    private Filter _authorMiss = new();

    [GlobalSetup]
    public void Setup()
    {
        var author = SampleEvents.Key(7);
        _event = SampleEvents.Note(SampleEvents.Key(1), author);

        // A follow feed: 500 authors, notes and reposts.
        var follows = new Bytes32[500];
        for (int i = 0; i < follows.Length; i++) follows[i] = SampleEvents.Key(100 + i);
        follows[250] = author;
        _authorsAndKinds = new Filter { Authors = follows, Kinds = [1, 6] }.Normalize();

        _tagHit = new Filter
        {
            Kinds = [1],
            Tags = [new TagCondition((byte)'t', ["bitcoin"u8.ToArray(), "nostr"u8.ToArray()])],
        }.Normalize();

        var others = (Bytes32[])follows.Clone();
        others[250] = SampleEvents.Key(99);
        _authorMiss = new Filter { Authors = others }.Normalize();
    }

    [Benchmark]
    public bool AuthorsAndKinds_hit() => _authorsAndKinds.Matches(new PackedEvent(_event));

    [Benchmark]
    public bool KindAndHashtag_hit() => _tagHit.Matches(new PackedEvent(_event));

    [Benchmark]
    public bool Authors_miss() => _authorMiss.Matches(new PackedEvent(_event));
}
