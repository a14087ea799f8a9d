using Relay.Server.Transport;

namespace Relay.Tests.Transport;

public class WsFrameCodecTests
{
    [Theory]
    [InlineData(0, 2)]
    [InlineData(125, 2)]
    [InlineData(126, 4)]
    [InlineData(65535, 4)]
    [InlineData(65536, 10)]
    [InlineData(5_000_000_000L, 10)]
    public void Header_uses_the_shortest_length_form(long payloadLength, int expectedHeaderLength)
    {
        Span<byte> header = stackalloc byte[WsFrameHeader.MaxLength];
        int written = WsFrameHeader.Write(header, WsOpcode.Text, fin: true, payloadLength);

        Assert.Equal(expectedHeaderLength, written);
        Assert.Equal(expectedHeaderLength, WsFrameHeader.GetLength(payloadLength, masked: false));
        Assert.Equal(WsHeaderStatus.Ok, WsFrameHeader.TryParse(header[..written], out var parsed));
        Assert.Equal(payloadLength, parsed.PayloadLength);
        Assert.Equal(written, parsed.HeaderLength);
        Assert.True(parsed.Fin);
        Assert.False(parsed.Masked);
        Assert.Equal(WsOpcode.Text, parsed.Opcode);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(300)]
    [InlineData(70000)]
    public void Masked_header_round_trips_key_opcode_and_fin(long payloadLength)
    {
        Span<byte> header = stackalloc byte[WsFrameHeader.MaxLength];
        int written = WsFrameHeader.Write(header, WsOpcode.Continuation, fin: false, payloadLength, maskKey: 0xA1B2C3D4);

        Assert.Equal(WsFrameHeader.GetLength(payloadLength, masked: true), written);
        Assert.Equal(WsHeaderStatus.Ok, WsFrameHeader.TryParse(header[..written], out var parsed));
        Assert.True(parsed.Masked);
        Assert.Equal(0xA1B2C3D4u, parsed.MaskKey);
        Assert.False(parsed.Fin);
        Assert.Equal(WsOpcode.Continuation, parsed.Opcode);
        Assert.Equal(payloadLength, parsed.PayloadLength);
    }

    [Fact]
    public void Header_matches_the_rfc_example_bytes()
    {
        // RFC 6455 section 5.7: a single-frame masked "Hello".
        byte[] frame = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
        Assert.Equal(WsHeaderStatus.Ok, WsFrameHeader.TryParse(frame, out var header));
        Assert.Equal(6, header.HeaderLength);
        Assert.Equal(5, header.PayloadLength);

        var payload = frame[6..];
        WsMask.Apply(payload, header.MaskKey, 0);
        Assert.Equal("Hello"u8.ToArray(), payload);
    }

    [Fact]
    public void Truncated_header_needs_more_data()
    {
        byte[] full = RawClient.EncodeFrame(0x81, new byte[70000]);
        for (int length = 0; length < 14; length++)
            Assert.Equal(WsHeaderStatus.NeedMoreData, WsFrameHeader.TryParse(full.AsSpan(0, length), out _));
        Assert.Equal(WsHeaderStatus.Ok, WsFrameHeader.TryParse(full.AsSpan(0, 14), out _));
    }

    [Fact]
    public void Sixty_four_bit_length_with_the_top_bit_set_is_invalid()
    {
        byte[] header = [0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4];
        Assert.Equal(WsHeaderStatus.Invalid, WsFrameHeader.TryParse(header, out _));
    }

    [Fact]
    public void Reserved_bits_are_reported()
    {
        byte[] header = [0xC1, 0x80, 1, 2, 3, 4];
        Assert.Equal(WsHeaderStatus.Ok, WsFrameHeader.TryParse(header, out var parsed));
        Assert.Equal(4, parsed.Rsv);
    }

    [Fact]
    public void Mask_matches_bytewise_xor_for_every_length_and_offset()
    {
        const uint key = 0x3D21FA37;
        var random = new Random(7);
        for (int length = 0; length < 200; length++)
        {
            for (int offset = 0; offset < 4; offset++)
            {
                var data = new byte[length];
                random.NextBytes(data);
                var expected = (byte[])data.Clone();
                for (int i = 0; i < length; i++)
                    expected[i] ^= (byte)(key >> (8 * ((offset + i) % 4)));

                int next = WsMask.Apply(data, key, offset);

                Assert.Equal(expected, data);
                Assert.Equal((offset + length) % 4, next);
            }
        }
    }

    [Fact]
    public void Mask_continues_across_split_buffers()
    {
        const uint key = 0x12345678;
        var data = new byte[1000];
        new Random(3).NextBytes(data);
        var whole = (byte[])data.Clone();
        WsMask.Apply(whole, key, 0);

        var pieces = (byte[])data.Clone();
        int offset = 0;
        offset = WsMask.Apply(pieces.AsSpan(0, 7), key, offset);
        offset = WsMask.Apply(pieces.AsSpan(7, 333), key, offset);
        WsMask.Apply(pieces.AsSpan(340), key, offset);

        Assert.Equal(whole, pieces);
    }

    [Fact]
    public void Masking_twice_restores_the_payload()
    {
        var data = new byte[777];
        new Random(5).NextBytes(data);
        var original = (byte[])data.Clone();
        WsMask.Apply(data, 0xDEADBEEF, 0);
        Assert.NotEqual(original, data);
        WsMask.Apply(data, 0xDEADBEEF, 0);
        Assert.Equal(original, data);
    }
}
