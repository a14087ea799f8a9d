using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using Relay.Server.Transport;

namespace Relay.Benchmarks;

/// <summary>
/// The WebSocket framing on both sides of every message: decoding client frames with
/// <see cref="WsMessageAssembler"/> (a 700-byte EVENT as one frame, as one frame cut by a pipe
/// segment boundary, and as three fragments), and encoding server frames the way
/// <c>WsConnection.SendText</c> does (header, then the payload copied into the output pipe).
/// </summary>
[MemoryDiagnoser]
public class WebSocketFrameBenchmarks
{
    private const uint MaskKey = 0x3D21FA37;

    private readonly WsMessageAssembler _assembler = new(131072);
    private readonly ArrayBufferWriter<byte> _output = new(4096);
    private Pipe _pipe = null!;
    private byte[] _payload = [];
    private byte[] _singleFrame = [];
    private byte[] _singleFrameWork = [];
    private ReadOnlySequence<byte> _twoSegments;
    private byte[] _threeFragments = [];
    private byte[] _masked64k = [];

    [GlobalSetup]
    public void Setup()
    {
        _payload = SevenHundredBytes(SampleMessages.EventMessage(SampleEvents.SignedNote(1)));
        _singleFrame = Frame(0x81, _payload);
        _singleFrameWork = (byte[])_singleFrame.Clone();

        var cut = _singleFrame.Length / 2;
        _twoSegments = Segment.Sequence(_singleFrame.AsMemory(0, cut), _singleFrame.AsMemory(cut));

        int third = _payload.Length / 3;
        _threeFragments =
        [
            .. Frame(0x01, _payload.AsSpan(0, third)),
            .. Frame(0x00, _payload.AsSpan(third, third)),
            .. Frame(0x80, _payload.AsSpan(2 * third)),
        ];
        _masked64k = new byte[65536];
        new Random(1).NextBytes(_masked64k);

        _pipe = new Pipe(new PipeOptions(pool: BlockMemoryPool.Instance, minimumSegmentSize: BlockMemoryPool.BlockSize,
            pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));

        if (Decode_single_frame_700_bytes() != 700 || Decode_700_bytes_across_two_segments() != 700 || Decode_three_fragments_700_bytes() != 700)
            throw new InvalidOperationException("sample frames not decoded as one 700-byte message");
    }

    [GlobalCleanup]
    public void Cleanup() => _assembler.Dispose();

    /// <summary>Restoring the masked bytes that the next benchmark unmasks in place: subtract this from it.</summary>
    [Benchmark]
    public int Restore_frame_bytes_only()
    {
        _singleFrame.CopyTo(_singleFrameWork, 0);
        return _singleFrameWork.Length;
    }

    /// <summary>The common case: one frame in one pipe segment, unmasked in place, UTF-8 checked, no copy.</summary>
    [Benchmark]
    public int Decode_single_frame_700_bytes()
    {
        _singleFrame.CopyTo(_singleFrameWork, 0);
        var buffer = new ReadOnlySequence<byte>(_singleFrameWork);
        return ReadMessage(ref buffer);
    }

    /// <summary>One frame lying across two pipe segments: copied into the pooled message buffer.</summary>
    [Benchmark]
    public int Decode_700_bytes_across_two_segments()
    {
        var buffer = _twoSegments;
        return ReadMessage(ref buffer);
    }

    /// <summary>Text + continuation + final continuation, reassembled in the pooled message buffer.</summary>
    [Benchmark]
    public int Decode_three_fragments_700_bytes()
    {
        var buffer = new ReadOnlySequence<byte>(_threeFragments);
        return ReadMessage(ref buffer);
    }

    /// <summary>SendText's work for one frame: header, then header and payload appended to a buffer.</summary>
    [Benchmark]
    public int Encode_text_frame_700_bytes()
    {
        _output.ResetWrittenCount();
        Span<byte> header = stackalloc byte[WsFrameHeader.MaxLength];
        int headerLength = WsFrameHeader.Write(header, WsOpcode.Text, fin: true, _payload.Length);
        _output.Write(header[..headerLength]);
        _output.Write(_payload);
        return _output.WrittenCount;
    }

    /// <summary>The same through the connection's output pipe (block pool, no pausing), drained as the send loop would.</summary>
    [Benchmark]
    public long Encode_text_frame_700_bytes_through_pipe()
    {
        Span<byte> header = stackalloc byte[WsFrameHeader.MaxLength];
        int headerLength = WsFrameHeader.Write(header, WsOpcode.Text, fin: true, _payload.Length);
        var writer = _pipe.Writer;
        Append(writer, header[..headerLength]);
        Append(writer, _payload);
        var flush = writer.FlushAsync();
        if (flush.IsCompleted) flush.GetAwaiter().GetResult();
        if (!_pipe.Reader.TryRead(out var result)) throw new InvalidOperationException("nothing written");
        long length = result.Buffer.Length;
        _pipe.Reader.AdvanceTo(result.Buffer.End);
        return length;
    }

    /// <summary>A client-side (masked) header: what tests and the load generator write.</summary>
    [Benchmark]
    public int Write_masked_header()
    {
        Span<byte> header = stackalloc byte[WsFrameHeader.MaxLength];
        return WsFrameHeader.Write(header, WsOpcode.Text, fin: true, 700, MaskKey);
    }

    [Benchmark]
    public int Mask_700_bytes() => WsMask.Apply(_singleFrameWork.AsSpan(_singleFrameWork.Length - 700), MaskKey, 1);

    [Benchmark]
    public int Mask_64_KiB() => WsMask.Apply(_masked64k, MaskKey, 0);

    private int ReadMessage(ref ReadOnlySequence<byte> buffer)
    {
        while (true)
        {
            var kind = _assembler.TryReadFrame(ref buffer, out var frame);
            if (kind == WsFrameKind.Fragment) continue;
            if (kind != WsFrameKind.Text) return -1;
            int length = frame.Payload.Length;
            _assembler.ReleaseMessageBuffer();
            return length;
        }
    }

    private static void Append(PipeWriter writer, ReadOnlySpan<byte> source) => WsConnection.Append(writer, source);

    /// <summary>The EVENT message cut (at a character boundary) or padded with spaces to exactly 700 bytes of UTF-8.</summary>
    private static byte[] SevenHundredBytes(byte[] message)
    {
        var payload = new byte[700];
        payload.AsSpan().Fill((byte)' ');
        int length = Math.Min(message.Length, payload.Length);
        while (length > 0 && length < message.Length && (message[length] & 0xC0) == 0x80) length--;
        message.AsSpan(0, length).CopyTo(payload);
        return payload;
    }

    private static byte[] Frame(byte firstByte, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[WsFrameHeader.MaxLength];
        int headerLength = WsFrameHeader.Write(header, (WsOpcode)(firstByte & 0x0F), (firstByte & 0x80) != 0, payload.Length, MaskKey);
        var frame = new byte[headerLength + payload.Length];
        header[..headerLength].CopyTo(frame);
        payload.CopyTo(frame.AsSpan(headerLength));
        WsMask.Apply(frame.AsSpan(headerLength), MaskKey, 0);
        return frame;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        private Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Sequence(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second)
        {
            var head = new Segment(first, 0);
            var tail = new Segment(second, first.Length);
            head.Next = tail;
            return new ReadOnlySequence<byte>(head, 0, tail, second.Length);
        }
    }
}
