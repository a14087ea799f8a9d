using Relay.Native.Events;
using Relay.Native.Negentropy;

namespace Relay.Tests.Negentropy;

public class WireFormatTests
{
    [Theory]
    [InlineData(0UL, "00")]
    [InlineData(1UL, "01")]
    [InlineData(127UL, "7f")]
    [InlineData(128UL, "8100")]
    [InlineData(16383UL, "ff7f")]
    [InlineData(16384UL, "818000")]
    [InlineData(ulong.MaxValue, "81ffffffffffffffff7f")]
    public void Varint_encodes_most_significant_digit_first_and_reads_back(ulong value, string hex)
    {
        Span<byte> buffer = stackalloc byte[NegVarint.MaxLength];
        int n = NegVarint.Write(buffer, value);
        Assert.Equal(hex, Convert.ToHexStringLower(buffer.Slice(0, n)));
        Assert.Equal(n, NegVarint.Length(value));
        Assert.Equal(NegTestKit.ReferenceVarint(value), buffer.Slice(0, n).ToArray());

        int position = 0;
        Assert.Equal(NegError.None, NegVarint.TryRead(buffer.Slice(0, n), ref position, out ulong read));
        Assert.Equal(value, read);
        Assert.Equal(n, position);
    }

    [Theory]
    [InlineData("", NegError.Truncated)]
    [InlineData("81", NegError.Truncated)]
    [InlineData("ffff", NegError.Truncated)]
    [InlineData("8001", NegError.VarintNotMinimal)]
    [InlineData("80", NegError.VarintNotMinimal)]
    [InlineData("82ffffffffffffffff7f", NegError.VarintOverflow)]
    [InlineData("ffffffffffffffffffff7f", NegError.VarintOverflow)]
    public void Malformed_varints_are_typed_errors(string hex, NegError expected)
    {
        int position = 0;
        Assert.Equal(expected, NegVarint.TryRead(Convert.FromHexString(hex), ref position, out _));
        Assert.Equal(0, position);
    }

    [Fact]
    public void Bounds_are_delta_encoded_with_zero_for_infinity()
    {
        var writer = new NegMessageWriter();
        writer.Begin();
        writer.WriteSkip(NegBound.AtTimestamp(10));
        writer.WriteSkip(new NegBound(10, [0xAB, 0xCD]));
        writer.WriteSkip(NegBound.AtTimestamp(15));
        writer.WriteSkip(NegBound.Infinity);
        // version | ts 1+10, len 0, skip | ts 1+0, len 2, ab cd, skip | ts 1+5, len 0, skip | ts 0 (inf), len 0, skip
        Assert.Equal("61" + "0b0000" + "0102abcd00" + "060000" + "000000", Convert.ToHexStringLower(writer.Written));
    }

    [Fact]
    public void Every_mode_round_trips_through_writer_and_reader()
    {
        var random = new Random(7);
        var fingerprint = Fingerprint.From(Enumerable.Range(1, 16).Select(i => (byte)i).ToArray());
        var ids = Enumerable.Range(0, 3).Select(_ => NegTestKit.RandomId(random)).ToArray();
        var prefix = new NegBound(1_700_000_000, [1, 2, 3]);
        var full = NegBound.AtItem(new NegItem(1_700_000_001, ids[0]));

        var writer = new NegMessageWriter(16);
        writer.Begin();
        writer.WriteSkip(NegBound.AtTimestamp(5));
        writer.WriteFingerprint(prefix, fingerprint);
        writer.WriteIdListHeader(full, ids.Length);
        foreach (var id in ids) writer.WriteId(id.Span);
        writer.WriteIdListHeader(NegBound.Infinity, 0);

        var reader = new NegMessageReader(writer.Written);
        Assert.Equal(NegError.None, reader.ReadVersion(out byte version));
        Assert.Equal(NegentropyProtocol.Version, version);

        Assert.Equal(NegError.None, reader.ReadRange(out var r1));
        Assert.Equal(NegMode.Skip, r1.Mode);
        Assert.Equal(NegBound.AtTimestamp(5), r1.UpperBound);

        Assert.Equal(NegError.None, reader.ReadRange(out var r2));
        Assert.Equal(NegMode.Fingerprint, r2.Mode);
        Assert.Equal(prefix, r2.UpperBound);
        Assert.Equal(3, r2.UpperBound.PrefixLength);
        Assert.Equal(fingerprint, r2.Fingerprint);

        Assert.Equal(NegError.None, reader.ReadRange(out var r3));
        Assert.Equal(NegMode.IdList, r3.Mode);
        Assert.Equal(full, r3.UpperBound);
        Assert.Equal(32, r3.UpperBound.PrefixLength);
        Assert.Equal(3, r3.IdCount);
        for (int i = 0; i < 3; i++) Assert.Equal(ids[i], Bytes32.From(r3.Id(i)));

        Assert.Equal(NegError.None, reader.ReadRange(out var r4));
        Assert.Equal(NegMode.IdList, r4.Mode);
        Assert.True(r4.UpperBound.IsInfinity);
        Assert.Equal(0, r4.IdCount);
        Assert.True(reader.End);
        Assert.Equal(NegError.None, NegMessageReader.Validate(writer.Written));
    }

    [Theory]
    [InlineData("", NegError.Empty)]
    [InlineData("00", NegError.InvalidVersion)]
    [InlineData("ff", NegError.InvalidVersion)]
    [InlineData("6101", NegError.Truncated)] // bound without its prefix length
    [InlineData("610121", NegError.IdPrefixTooLong)] // prefix length 33
    [InlineData("610102ab", NegError.Truncated)] // prefix shorter than announced
    [InlineData("61010003", NegError.UnknownMode)]
    [InlineData("6101000100112233", NegError.Truncated)] // fingerprint cut short
    [InlineData("610100020200", NegError.Truncated)] // IdList of 2 with no ids
    [InlineData("61010002ffffffffffffffff7f", NegError.Truncated)] // absurd IdList count
    [InlineData("6101008001", NegError.VarintNotMinimal)]
    [InlineData("610b0000" + "0101ff00" + "01010000", NegError.BoundsOutOfOrder)] // (10, ff..) then (10, 01..)
    public void Malformed_messages_are_typed_errors(string hex, NegError expected)
    {
        Assert.Equal(expected, NegMessageReader.Validate(Convert.FromHexString(hex)));
    }

    [Fact]
    public void Timestamps_past_infinity_saturate_instead_of_wrapping()
    {
        // Infinity, then a delta of 5 on top of it: still infinity (and not "out of order").
        var reader = new NegMessageReader(Convert.FromHexString("61" + "000000" + "060000"));
        Assert.Equal(NegError.None, reader.ReadVersion(out _));
        Assert.Equal(NegError.None, reader.ReadRange(out var first));
        Assert.Equal(NegError.None, reader.ReadRange(out var second));
        Assert.True(first.UpperBound.IsInfinity);
        Assert.True(second.UpperBound.IsInfinity);
    }

    [Fact]
    public void Responder_answers_another_protocol_version_with_its_own_version_byte_alone()
    {
        var responder = new NegentropyResponder();
        Assert.Equal(NegError.None, responder.Respond(NegentropyVector.Empty, [0x62, 0x01, 0x02]));
        Assert.Equal([NegentropyProtocol.Version], responder.Reply.ToArray());
    }

    [Fact]
    public void Client_refuses_a_reply_in_another_protocol_version()
    {
        var client = new NegentropyClient(NegentropyVector.Empty);
        client.Initiate();
        Assert.Equal(NegError.UnsupportedVersion, client.Reconcile([0x62], new List<Bytes32>(), new List<Bytes32>()));
        Assert.True(client.IsComplete);
    }

    [Fact]
    public void Random_and_mutated_input_never_throws_from_either_role()
    {
        var random = new Random(2024);
        var items = NegTestKit.RandomItems(random, 300, spread: 50);
        var storage = NegTestKit.Vector(items);
        var responder = new NegentropyResponder(NegentropyProtocol.MinFrameSizeLimit);

        // Valid messages to mutate: an initial message and a reply to it.
        var seedClient = new NegentropyClient(NegTestKit.Vector(items.Take(150)));
        byte[] initial = seedClient.Initiate().ToArray();
        Assert.Equal(NegError.None, responder.Respond(storage, initial));
        byte[] reply = responder.Reply.ToArray();

        int errors = 0;
        for (int i = 0; i < 6000; i++)
        {
            byte[] input = (i % 3) switch
            {
                0 => RandomBytes(random, random.Next(0, 80), versionFirst: random.Next(2) == 0),
                1 => Mutate(random, initial),
                _ => Mutate(random, reply),
            };
            var serverError = responder.Respond(storage, input);
            var client = new NegentropyClient(storage, NegentropyProtocol.MinFrameSizeLimit);
            client.Initiate();
            var clientError = client.Reconcile(input, new List<Bytes32>(), new List<Bytes32>());
            if (serverError != NegError.None) errors++;
            // Whatever the input, a successful reply is itself a well-formed message.
            if (serverError == NegError.None) Assert.Equal(NegError.None, NegMessageReader.Validate(responder.Reply));
            if (clientError == NegError.None && !client.IsComplete) Assert.Equal(NegError.None, NegMessageReader.Validate(client.NextMessage));
        }
        Assert.True(errors > 500, "the mutations should produce plenty of malformed input, got " + errors);
    }

    private static byte[] RandomBytes(Random random, int length, bool versionFirst)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        if (versionFirst && length > 0) bytes[0] = NegentropyProtocol.Version;
        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] message)
    {
        var bytes = (byte[])message.Clone();
        switch (random.Next(4))
        {
            case 0:
                return bytes.AsSpan(0, random.Next(bytes.Length + 1)).ToArray();
            case 1:
                for (int k = random.Next(1, 4); k > 0; k--) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return bytes;
            case 2:
                bytes[random.Next(1, bytes.Length)] = (byte)random.Next(256);
                return bytes;
            default:
                int at = random.Next(1, bytes.Length);
                return bytes.AsSpan(0, at).ToArray().Concat(RandomBytes(random, random.Next(1, 40), false)).Concat(bytes.AsSpan(at).ToArray()).ToArray();
        }
    }
}
