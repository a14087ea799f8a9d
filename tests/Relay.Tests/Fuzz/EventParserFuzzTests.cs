using System.Text;
using System.Text.Json;
using Relay.Native.Events;

namespace Relay.Tests.Fuzz;

public class EventParserFuzzTests
{
    private sealed record Parsed(EventParseStatus Status, byte[] Json, byte[] Packed, ParsedEventHeader Header, string? Error);

    private static Parsed Parse(byte[] input)
    {
        var packed = new byte[EventParser.MaxPackedSize(input.Length)];
        var json = new byte[EventParser.MaxJsonSize(input.Length)];
        var status = EventParser.Parse(input, EventLimits.Default, FuzzCorpus.Now, packed, out int packedLength,
            json, out int jsonLength, out var header, out string? error);
        return new Parsed(status, json[..jsonLength], packed[..packedLength], header, error);
    }

    [Fact]
    public void Corpus_events_are_accepted_and_already_normalized()
    {
        foreach (var ev in FuzzCorpus.Events)
        {
            var r = Parse(ev);
            Assert.True(r.Status == EventParseStatus.Ok, r.Error);
            Assert.Equal(Encoding.UTF8.GetString(ev), Encoding.UTF8.GetString(r.Json));
        }
    }

    [Fact]
    public void Mutated_events_never_throw_and_accepted_ones_are_consistent()
    {
        FuzzRun.Each("event-mutate", (random, fuzzCase) =>
        {
            var mutator = new Mutator(random, FuzzCorpus.Events);
            var input = mutator.Mutate(FuzzCorpus.Events[random.Next(FuzzCorpus.Events.Count)]);
            fuzzCase.Input(input);
            CheckInvariants(input, Parse(input));
        });
    }

    [Fact]
    public void Respelled_events_give_the_same_id_json_and_packed_record()
    {
        FuzzRun.Each("event-respell", (random, fuzzCase) =>
        {
            var original = FuzzCorpus.Events[random.Next(FuzzCorpus.Events.Count)];
            var input = EquivalentJson.ShuffleMembers(original, random, addUnknown: random.Next(2) == 0);
            input = EquivalentJson.Respell(input, random);
            fuzzCase.Input(input);

            var expected = Parse(original);
            var r = Parse(input);
            Assert.True(r.Status == EventParseStatus.Ok, r.Error);
            Assert.Equal(expected.Header.Id.ToString(), r.Header.Id.ToString());
            Assert.Equal(Encoding.UTF8.GetString(expected.Json), Encoding.UTF8.GetString(r.Json));
            Assert.Equal(expected.Packed, r.Packed);
            CheckInvariants(input, r);
        });
    }

    /// <summary>What must hold for any input: no exception got here, and the outputs agree with each other.</summary>
    private static void CheckInvariants(byte[] input, Parsed r)
    {
        if (r.Status != EventParseStatus.Ok)
        {
            Assert.NotNull(r.Error);
            Assert.StartsWith("invalid:", r.Error);
            Assert.Empty(r.Json);
            Assert.Empty(r.Packed);
            return;
        }
        Assert.Null(r.Error);
        Assert.True(r.Json.Length <= input.Length, "normalized JSON is longer than its input");

        // The packed record reads back to the header's fields and its tags fill it exactly.
        var packed = new PackedEvent(r.Packed);
        Assert.Equal(r.Header.Id.ToString(), Convert.ToHexStringLower(packed.Id));
        Assert.Equal(r.Header.PubKey.ToString(), Convert.ToHexStringLower(packed.PubKey));
        Assert.Equal(r.Header.CreatedAt, packed.CreatedAt);
        Assert.Equal(r.Header.Kind, packed.Kind);
        Assert.Equal(r.Header.Expiration, packed.Expiration);
        int tagBytes = 0, tagCount = 0;
        foreach (var tag in packed.Tags)
        {
            Assert.True(char.IsAsciiLetter((char)tag.Letter));
            tagBytes += 3 + tag.Value.Length;
            tagCount++;
        }
        Assert.Equal(packed.TagCount, tagCount);
        Assert.Equal(r.Packed.Length, PackedEvent.HeaderSize + tagBytes);

        // The normalized JSON is JSON, the same event, and a fixed point of the parser.
        using (var doc = JsonDocument.Parse(r.Json))
            Assert.Equal(r.Header.Id.ToString(), doc.RootElement.GetProperty("id").GetString());
        var again = Parse(r.Json);
        Assert.True(again.Status == EventParseStatus.Ok, again.Error);
        Assert.Equal(r.Header.Id.ToString(), again.Header.Id.ToString());
        Assert.Equal(r.Json, again.Json);
        Assert.Equal(r.Packed, again.Packed);
        Assert.Equal(r.Header.Sig.ToString(), again.Header.Sig.ToString());
    }
}
