using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Relay.Native.Protocol;

namespace Relay.Tests.Fuzz;

public class ClientMessageReaderFuzzTests
{
    [Fact]
    public void Corpus_messages_are_read()
    {
        foreach (var message in FuzzCorpus.Messages)
            Assert.True(ClientMessageReader.TryRead(message, out _, out string? notice), notice);
    }

    [Theory]
    [InlineData("[\"CLOS\\udc00E\",\"sub\"]")]
    [InlineData("[\"\\ud800\",{}]")]
    [InlineData("[\"EVENT\\ud83d\",{}]")]
    public void Message_type_with_a_lone_surrogate_escape_is_refused_with_a_notice(string message)
    {
        // Found by the mutation fuzzer: comparing the verb unescapes it, and that threw.
        Assert.False(ClientMessageReader.TryRead(System.Text.Encoding.UTF8.GetBytes(message), out var msg, out string? notice));
        Assert.Equal(ClientMessageReader.LoneSurrogate, notice);
        Assert.False(msg.ReplyWithClosed);
    }

    [Fact]
    public void Mutated_messages_never_throw_and_slices_lie_within_the_message()
    {
        FuzzRun.Each("reader-mutate", (random, fuzzCase) =>
        {
            var mutator = new Mutator(random, FuzzCorpus.Messages);
            var input = mutator.Mutate(FuzzCorpus.Messages[random.Next(FuzzCorpus.Messages.Count)]);
            fuzzCase.Input(input);
            Check(input);
        });
    }

    [Fact]
    public void Respelled_messages_are_read_the_same_way()
    {
        FuzzRun.Each("reader-respell", (random, fuzzCase) =>
        {
            var original = FuzzCorpus.Messages[random.Next(FuzzCorpus.Messages.Count)];
            var input = EquivalentJson.Respell(original, random);
            fuzzCase.Input(input);
            Assert.True(ClientMessageReader.TryRead(original, out var expected, out _));
            var expectedVerb = expected.Verb;
            Assert.True(ClientMessageReader.TryRead(input, out var msg, out string? notice), notice);
            Assert.Equal(expectedVerb, msg.Verb);
            Check(input);
        });
    }

    private static void Check(byte[] input)
    {
        bool ok = ClientMessageReader.TryRead(input, out ClientMessage msg, out string? notice);
        if (!ok)
        {
            Assert.False(string.IsNullOrEmpty(notice));
            Assert.True(msg.EventJson.IsEmpty && msg.FiltersJson.IsEmpty);
            if (msg.ReplyWithClosed)
                AssertWithin(input, msg.SubscriptionIdRaw);
            else
                Assert.True(msg.SubscriptionIdRaw.IsEmpty);
            return;
        }

        Assert.Null(notice);
        AssertWithin(input, msg.EventJson);
        AssertWithin(input, msg.FiltersJson);
        AssertWithin(input, msg.SubscriptionIdRaw);
        switch (msg.Verb)
        {
            case ClientVerb.Event:
            case ClientVerb.Auth:
                Assert.True(msg.EventJson.Length >= 2 && msg.EventJson[0] == '{' && msg.EventJson[^1] == '}');
                Assert.True(msg.SubscriptionIdRaw.IsEmpty && msg.FiltersJson.IsEmpty);
                break;
            case ClientVerb.Req:
            case ClientVerb.Count:
                Assert.False(msg.SubscriptionIdRaw.IsEmpty);
                Assert.True(msg.FiltersJson.IsEmpty || (msg.FiltersJson[0] == '{' && msg.FiltersJson[^1] == '}'));
                // What the reader cut out must be something the filter parser can be handed.
                FilterParser.TryParse(msg.FiltersJson, FilterLimits.Default, out _, out _);
                break;
            case ClientVerb.Close:
                Assert.False(msg.SubscriptionIdRaw.IsEmpty);
                break;
            default:
                Assert.Fail("accepted a message with verb " + msg.Verb);
                break;
        }
    }

    /// <summary>The span is empty, or a slice of the input's own memory (nothing was copied or made up).</summary>
    private static void AssertWithin(byte[] input, ReadOnlySpan<byte> slice)
    {
        if (slice.IsEmpty) return;
        Assert.True(input.AsSpan().Overlaps(slice, out int offset), "slice does not point into the message");
        Assert.InRange(offset, 0, input.Length - slice.Length);
        Assert.True(Unsafe.AreSame(ref input[offset], ref MemoryMarshal.GetReference(slice)));
    }
}
