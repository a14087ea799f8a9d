using BenchmarkDotNet.Attributes;
using Relay.Native.Events;

namespace Relay.Benchmarks;

/// <summary>Walking the packed tags: done per event by the live index and by every tag condition.</summary>
[MemoryDiagnoser]
public class PackedEventBenchmarks
{
    private byte[] _note = [];
    private byte[] _contactList = [];

    [GlobalSetup]
    public void Setup()
    {
        _note = SampleEvents.Note(SampleEvents.Key(1), SampleEvents.Key(2));
        _contactList = SampleEvents.Note(SampleEvents.Key(1), SampleEvents.Key(2), kind: 3, pTags: 500);
    }

    [Benchmark]
    public int Enumerate_tags_of_note() => SumLengths(_note);

    [Benchmark]
    public int Enumerate_tags_of_500_follow_contact_list() => SumLengths(_contactList);

    private static int SumLengths(byte[] packed)
    {
        int sum = 0;
        foreach (var tag in new PackedEvent(packed).Tags) sum += tag.Letter + tag.Value.Length;
        return sum;
    }
}
