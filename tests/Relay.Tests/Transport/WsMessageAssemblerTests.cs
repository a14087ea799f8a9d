using System.Runtime.CompilerServices;
using System.Buffers;
using System.Text;
using Relay.Server.Transport;

namespace Relay.Tests.Transport;

public class WsMessageAssemblerTests
{
    private static byte[] Frame(byte firstByte, string text) => RawClient.EncodeFrame(firstByte, Encoding.UTF8.GetBytes(text));

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    [Fact]
    public void Single_frame_in_one_segment_is_unmasked_in_place()
    {
        using var assembler = new WsMessageAssembler(1024);
        var bytes = Frame(0x81, "[\"REQ\",\"a\",{}]");
        var buffer = new ReadOnlySequence<byte>(bytes);

        Assert.Equal(WsFrameKind.Text, assembler.TryReadFrame(ref buffer, out var frame));
        Assert.Equal("[\"REQ\",\"a\",{}]", Encoding.UTF8.GetString(frame.Payload));
        Assert.True(buffer.IsEmpty);
        // The span is the receive buffer itself: no copy was made.
        Assert.True(Unsafe.AreSame(ref bytes[6], ref System.Runtime.InteropServices.MemoryMarshal.GetReference(frame.Payload)));
    }

    [Fact]
    public void Frame_split_across_segments_is_reassembled()
    {
        using var assembler = new WsMessageAssembler(1024);
        var bytes = Frame(0x81, "hello across segments");
        var buffer = TestSegment.Split(bytes, 1, 4, 9, 20);

        Assert.Equal(WsFrameKind.Text, assembler.TryReadFrame(ref buffer, out var frame));
        Assert.Equal("hello across segments", Encoding.UTF8.GetString(frame.Payload));
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Incomplete_frame_needs_more_data_and_leaves_the_buffer()
    {
        using var assembler = new WsMessageAssembler(1024);
        var bytes = Frame(0x81, "hello");
        var buffer = new ReadOnlySequence<byte>(bytes, 0, bytes.Length - 1);

        Assert.Equal(WsFrameKind.NeedMoreData, assembler.TryReadFrame(ref buffer, out _));
        Assert.Equal(bytes.Length - 1, buffer.Length);
    }

    [Fact]
    public void Fragments_with_an_interleaved_ping_form_one_message()
    {
        using var assembler = new WsMessageAssembler(1024);
        var buffer = new ReadOnlySequence<byte>(Concat(
            Frame(0x01, "frag"), Frame(0x89, "p"), Frame(0x00, "ment"), Frame(0x80, "ed")));

        Assert.Equal(WsFrameKind.Fragment, assembler.TryReadFrame(ref buffer, out _));
        Assert.Equal(WsFrameKind.Ping, assembler.TryReadFrame(ref buffer, out var ping));
        Assert.Equal("p", Encoding.UTF8.GetString(ping.Payload));
        Assert.Equal(WsFrameKind.Fragment, assembler.TryReadFrame(ref buffer, out _));
        Assert.Equal(WsFrameKind.Text, assembler.TryReadFrame(ref buffer, out var text));
        Assert.Equal("fragmented", Encoding.UTF8.GetString(text.Payload));
    }

    [Fact]
    public void Utf8_is_checked_on_the_whole_message_not_per_fragment()
    {
        using var assembler = new WsMessageAssembler(1024);
        // "é" is C3 A9: each fragment alone is invalid UTF-8, together they are valid.
        var buffer = new ReadOnlySequence<byte>(Concat(
            RawClient.EncodeFrame(0x01, [0x61, 0xC3]), RawClient.EncodeFrame(0x80, [0xA9])));

        Assert.Equal(WsFrameKind.Fragment, assembler.TryReadFrame(ref buffer, out _));
        Assert.Equal(WsFrameKind.Text, assembler.TryReadFrame(ref buffer, out var text));
        Assert.Equal("aé", Encoding.UTF8.GetString(text.Payload));
    }

    [Theory]
    [InlineData(new byte[] { 0xC3 })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })] // a UTF-16 surrogate encoded as UTF-8
    [InlineData(new byte[] { 0xFF })]
    public void Invalid_utf8_fails_with_1007(byte[] payload)
    {
        using var assembler = new WsMessageAssembler(1024);
        var buffer = new ReadOnlySequence<byte>(RawClient.EncodeFrame(0x81, payload));
        Assert.Equal(WsFrameKind.Error, assembler.TryReadFrame(ref buffer, out var frame));
        Assert.Equal(WsCloseStatus.InvalidPayload, frame.Status);
    }

    [Fact]
    public void Oversized_frame_fails_from_its_header_alone()
    {
        using var assembler = new WsMessageAssembler(1000);
        var header = RawClient.EncodeFrame(0x81, [], declaredLength: 1001);
        var buffer = new ReadOnlySequence<byte>(header);
        Assert.Equal(WsFrameKind.Error, assembler.TryReadFrame(ref buffer, out var frame));
        Assert.Equal(WsCloseStatus.MessageTooBig, frame.Status);
    }

    [Fact]
    public void Message_at_exactly_the_cap_is_accepted()
    {
        using var assembler = new WsMessageAssembler(1000);
        var buffer = new ReadOnlySequence<byte>(Concat(
            RawClient.EncodeFrame(0x01, new byte[600]), RawClient.EncodeFrame(0x80, new byte[400])));
        Assert.Equal(WsFrameKind.Fragment, assembler.TryReadFrame(ref buffer, out _));
        Assert.Equal(WsFrameKind.Text, assembler.TryReadFrame(ref buffer, out var text));
        Assert.Equal(1000, text.Payload.Length);
    }

    [Fact]
    public void Fragments_adding_up_past_the_cap_fail_with_1009()
    {
        using var assembler = new WsMessageAssembler(1000);
        var buffer = new ReadOnlySequence<byte>(Concat(
            RawClient.EncodeFrame(0x01, new byte[600]), RawClient.EncodeFrame(0x80, new byte[401])));
        Assert.Equal(WsFrameKind.Fragment, assembler.TryReadFrame(ref buffer, out _));
        Assert.Equal(WsFrameKind.Error, assembler.TryReadFrame(ref buffer, out var frame));
        Assert.Equal(WsCloseStatus.MessageTooBig, frame.Status);
    }

    public static TheoryData<string, byte[], ushort> ProtocolViolations => new()
    {
        { "unmasked", RawClient.EncodeFrame(0x81, [0x61], masked: false), WsCloseStatus.ProtocolError },
        { "rsv1", RawClient.EncodeFrame(0xC1, [0x61]), WsCloseStatus.ProtocolError },
        { "rsv3", RawClient.EncodeFrame(0x91, [0x61]), WsCloseStatus.ProtocolError },
        { "opcode 3", RawClient.EncodeFrame(0x83, [0x61]), WsCloseStatus.ProtocolError },
        { "opcode 11", RawClient.EncodeFrame(0x8B, [0x61]), WsCloseStatus.ProtocolError },
        { "continuation first", RawClient.EncodeFrame(0x80, [0x61]), WsCloseStatus.ProtocolError },
        { "fragmented ping", RawClient.EncodeFrame(0x09, [0x61]), WsCloseStatus.ProtocolError },
        { "long ping", RawClient.EncodeFrame(0x89, new byte[126]), WsCloseStatus.ProtocolError },
        { "one-byte close", RawClient.EncodeFrame(0x88, [0x03]), WsCloseStatus.ProtocolError },
        { "close 1005", RawClient.EncodeFrame(0x88, [0x03, 0xED]), WsCloseStatus.ProtocolError },
        { "close 999", RawClient.EncodeFrame(0x88, [0x03, 0xE7]), WsCloseStatus.ProtocolError },
        { "close bad reason", RawClient.EncodeFrame(0x88, [0x03, 0xE8, 0xFF]), WsCloseStatus.InvalidPayload },
        { "binary", RawClient.EncodeFrame(0x82, [0x61]), WsCloseStatus.UnsupportedData },
    };

    [Theory]
    [MemberData(nameof(ProtocolViolations))]
    public void Protocol_violation_is_an_error_with_its_close_code(string name, byte[] frameBytes, ushort expected)
    {
        using var assembler = new WsMessageAssembler(1024);
        var buffer = new ReadOnlySequence<byte>(frameBytes);
        Assert.True(WsFrameKind.Error == assembler.TryReadFrame(ref buffer, out var frame), name);
        Assert.Equal(expected, frame.Status);
    }

    [Fact]
    public void New_data_frame_inside_a_fragmented_message_is_a_protocol_error()
    {
        using var assembler = new WsMessageAssembler(1024);
        var buffer = new ReadOnlySequence<byte>(Concat(Frame(0x01, "a"), Frame(0x81, "b")));
        Assert.Equal(WsFrameKind.Fragment, assembler.TryReadFrame(ref buffer, out _));
        Assert.Equal(WsFrameKind.Error, assembler.TryReadFrame(ref buffer, out var frame));
        Assert.Equal(WsCloseStatus.ProtocolError, frame.Status);
    }

    [Fact]
    public void Close_frame_reports_the_peer_code()
    {
        using var assembler = new WsMessageAssembler(1024);
        var buffer = new ReadOnlySequence<byte>(Concat(RawClient.EncodeFrame(0x88, [0x0F, 0xA0, 0x62]), RawClient.EncodeFrame(0x88, [])));
        Assert.Equal(WsFrameKind.Close, assembler.TryReadFrame(ref buffer, out var withCode));
        Assert.Equal(4000, withCode.Status);
        Assert.Equal(WsFrameKind.Close, assembler.TryReadFrame(ref buffer, out var empty));
        Assert.Equal(0, empty.Status);
    }

    [Fact]
    public void Reading_messages_allocates_nothing_once_warm()
    {
        using var assembler = new WsMessageAssembler(64 * 1024);
        var pristine = Concat(
            Frame(0x81, "[\"EVENT\",{\"id\":\"00\"}]"),
            RawClient.EncodeFrame(0x01, new byte[5000].Select(_ => (byte)'x').ToArray()),
            Frame(0x89, "ping"),
            RawClient.EncodeFrame(0x80, new byte[3000].Select(_ => (byte)'y').ToArray()));
        var work = new byte[pristine.Length];
        var split = TestSegment.Split(work, 10, 3000, 7000);

        int Run()
        {
            int texts = 0;
            pristine.CopyTo(work, 0);   // frames are unmasked in place, so restore them each round
            var buffer = split;
            while (true)
            {
                var kind = assembler.TryReadFrame(ref buffer, out var frame);
                if (kind == WsFrameKind.NeedMoreData)
                    return texts;
                if (kind == WsFrameKind.Text)
                {
                    texts++;
                    assembler.ReleaseMessageBuffer();
                }
                if (kind == WsFrameKind.Error)
                    throw new InvalidOperationException("unexpected error frame");
            }
        }

        for (int i = 0; i < 100; i++)
            Assert.Equal(2, Run());
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            Run();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }
}
