using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;
using Relay.Server.Transport;
using Relay.Tests.Transport;

namespace Relay.Tests.Fuzz;

public class WsMessageAssemblerFuzzTests
{
    /// <summary>What the assembler reported for one frame: its kind, a copy of the payload, the status.</summary>
    private readonly record struct Delivered(WsFrameKind Kind, string PayloadHex, ushort Status)
    {
        public override string ToString() => $"{Kind} {Status} {PayloadHex}";
    }

    private static readonly ushort[] KnownErrors =
        [WsCloseStatus.ProtocolError, WsCloseStatus.UnsupportedData, WsCloseStatus.InvalidPayload, WsCloseStatus.MessageTooBig];

    [Fact]
    public void Valid_stream_split_anywhere_delivers_exactly_the_messages_sent()
    {
        FuzzRun.Each("ws-valid", (random, fuzzCase) =>
        {
            var stream = ValidStream.Generate(random, out int longest);
            // Mostly a cap every message fits under; sometimes one that a message breaks.
            int cap = random.Next(4) == 0 ? random.Next(0, longest + 1) : longest + random.Next(0, 100);
            var expected = stream.Expected(cap);
            fuzzCase.Input(stream.Bytes);

            var delivered = Feed(stream.Bytes, cap, random);

            Assert.Equal(expected, delivered);
        }, weight: 0.5);
    }

    [Fact]
    public void Mutated_streams_never_throw_and_deliver_only_capped_utf8_text()
    {
        FuzzRun.Each("ws-mutate", (random, fuzzCase) =>
        {
            var bytes = random.Next(10) == 0 ? RandomBytes(random) : Mutate(ValidStream.Generate(random, out _).Bytes, random);
            fuzzCase.Input(bytes);
            Feed(bytes, random.Next(0, 6000), random);
        }, weight: 0.5);
    }

    [Fact]
    public void Close_frame_arriving_in_pieces_is_read_once_complete()
    {
        // A regression guard for the simplest split: the 2-byte header apart from its mask key.
        var frame = Encode(0x88, [0x03, 0xE8, (byte)'o', (byte)'k'], 0x11223344);
        var delivered = FeedInPieces(frame, 1024, [1, 2, 3, 6, 7]);
        Assert.Equal([new Delivered(WsFrameKind.Close, Convert.ToHexString([0x03, 0xE8, (byte)'o', (byte)'k']), 1000)], delivered);
    }

    /// <summary>
    /// Plays a pipe: bytes arrive in random amounts, what is unread is handed over cut into random
    /// segments, and reading stops at the first error as the connection does. Checks on every call what
    /// must hold for any input; returns what was delivered.
    /// </summary>
    private static List<Delivered> Feed(byte[] pristine, int cap, Random random)
    {
        var work = (byte[])pristine.Clone();   // text frames are unmasked in place
        var delivered = new List<Delivered>();
        using var assembler = new WsMessageAssembler(cap);
        int consumed = 0, arrived = 0;
        while (true)
        {
            if (arrived == work.Length && consumed == arrived) break;
            arrived = Math.Min(work.Length, arrived + 1 + random.Next(random.Next(2) == 0 ? 16 : 4096));
            var buffer = RandomSegments(work, consumed, arrived, random);
            while (true)
            {
                long before = buffer.Length;
                var kind = assembler.TryReadFrame(ref buffer, out var frame);
                if (kind == WsFrameKind.NeedMoreData)
                {
                    Assert.Equal(before, buffer.Length);
                    break;
                }
                if (kind == WsFrameKind.Error)
                {
                    Assert.Contains(frame.Status, KnownErrors);
                    delivered.Add(new Delivered(kind, "", frame.Status));
                    return delivered;
                }
                // Every frame read moves on by at least a header, so a receive loop cannot spin.
                Assert.True(buffer.Length <= before - 2, $"{kind} did not consume its frame");
                consumed += (int)(before - buffer.Length);
                switch (kind)
                {
                    case WsFrameKind.Text:
                        Assert.True(frame.Payload.Length <= cap, $"message of {frame.Payload.Length} bytes over the cap of {cap}");
                        Assert.True(Utf8.IsValid(frame.Payload), "message is not UTF-8");
                        break;
                    case WsFrameKind.Ping:
                    case WsFrameKind.Pong:
                    case WsFrameKind.Close:
                        Assert.InRange(frame.Payload.Length, 0, 125);
                        break;
                    case WsFrameKind.Fragment:
                        Assert.True(frame.Payload.IsEmpty);
                        break;
                    default:
                        Assert.Fail("unexpected frame kind " + kind);
                        break;
                }
                delivered.Add(new Delivered(kind, Convert.ToHexString(frame.Payload), frame.Status));
                if (kind == WsFrameKind.Text) assembler.ReleaseMessageBuffer();
                if (kind == WsFrameKind.Close) return delivered;   // the connection reads nothing after it
            }
            if (arrived == work.Length) break;
        }
        return delivered;
    }

    private static List<Delivered> FeedInPieces(byte[] bytes, int cap, int[] arrivals)
    {
        var delivered = new List<Delivered>();
        using var assembler = new WsMessageAssembler(cap);
        int consumed = 0;
        foreach (int arrived in arrivals.Append(bytes.Length))
        {
            var buffer = new ReadOnlySequence<byte>(bytes, consumed, arrived - consumed);
            while (true)
            {
                long before = buffer.Length;
                var kind = assembler.TryReadFrame(ref buffer, out var frame);
                if (kind == WsFrameKind.NeedMoreData) break;
                consumed += (int)(before - buffer.Length);
                delivered.Add(new Delivered(kind, Convert.ToHexString(frame.Payload), frame.Status));
                if (kind == WsFrameKind.Error) return delivered;
            }
        }
        return delivered;
    }

    private static ReadOnlySequence<byte> RandomSegments(byte[] work, int start, int end, Random random)
    {
        if (end - start < 2 || random.Next(4) == 0) return new ReadOnlySequence<byte>(work, start, end - start);
        var cuts = new SortedSet<int>();
        int count = 1 + random.Next(4);
        for (int i = 0; i < count; i++) cuts.Add(random.Next(1, end - start));
        var parts = new List<ReadOnlyMemory<byte>>();
        int from = start;
        foreach (int cut in cuts)
        {
            parts.Add(work.AsMemory(from, start + cut - from));
            from = start + cut;
        }
        parts.Add(work.AsMemory(from, end - from));
        return TestSegment.Sequence(parts.ToArray());
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(1, 300)];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Byte-level damage, aimed at headers half the time (they are where lengths and opcodes live).</summary>
    private static byte[] Mutate(byte[] stream, Random random)
    {
        var bytes = new List<byte>(stream);
        int rounds = 1 + random.Next(3);
        for (int r = 0; r < rounds && bytes.Count > 0; r++)
        {
            int at = random.Next(2) == 0 ? random.Next(Math.Min(bytes.Count, 14)) : random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: bytes[at] = (byte)random.Next(256); break;
                case 2: bytes[at] = (byte)(random.Next(2) == 0 ? 0x7E | (bytes[at] & 0x80) : 0x7F | (bytes[at] & 0x80)); break;
                case 3: bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(8))); break;
                case 4: bytes.InsertRange(at, RandomBytes(random).Take(1 + random.Next(8))); break;
                default: bytes.RemoveRange(at, bytes.Count - at); break;
            }
        }
        return bytes.ToArray();
    }

    internal static byte[] Encode(byte firstByte, ReadOnlySpan<byte> payload, uint maskKey)
    {
        Span<byte> header = stackalloc byte[WsFrameHeader.MaxLength];
        int headerLength = WsFrameHeader.Write(header, (WsOpcode)(firstByte & 0x0F), (firstByte & 0x80) != 0, payload.Length, maskKey);
        var frame = new byte[headerLength + payload.Length];
        header[..headerLength].CopyTo(frame);
        payload.CopyTo(frame.AsSpan(headerLength));
        WsMask.Apply(frame.AsSpan(headerLength), maskKey, 0);
        return frame;
    }

    /// <summary>A stream of valid client frames and the frame-by-frame reading it must produce.</summary>
    private sealed class ValidStream
    {
        private readonly List<(byte FirstByte, byte[] Payload)> _frames = new();
        private readonly List<byte> _bytes = new();

        public byte[] Bytes => _bytes.ToArray();

        public static ValidStream Generate(Random random, out int longest)
        {
            var stream = new ValidStream();
            longest = 0;
            int messages = 1 + random.Next(6);
            for (int m = 0; m < messages; m++)
            {
                byte[] text = RandomText(random);
                longest = Math.Max(longest, text.Length);
                int fragments = random.Next(3) == 0 ? 1 + random.Next(4) : 1;
                var cuts = Enumerable.Range(0, fragments - 1).Select(_ => random.Next(text.Length + 1)).Order().ToList();
                int from = 0;
                for (int f = 0; f < fragments; f++)
                {
                    int to = f == fragments - 1 ? text.Length : cuts[f];
                    byte opcode = f == 0 ? (byte)0x1 : (byte)0x0;
                    byte fin = f == fragments - 1 ? (byte)0x80 : (byte)0;
                    stream.Add((byte)(fin | opcode), text[from..to], random);
                    from = to;
                    // Control frames may come between the fragments of a message.
                    if (random.Next(4) == 0) stream.Add(random.Next(2) == 0 ? (byte)0x89 : (byte)0x8A, RandomBinary(random, 125), random);
                }
            }
            if (random.Next(3) == 0)
            {
                byte[] reason = Encoding.UTF8.GetBytes(random.Next(2) == 0 ? "" : "bye é");
                byte[] payload = random.Next(4) == 0 ? [] : [.. new byte[] { 0x03, 0xE8 }, .. reason];
                stream.Add(0x88, payload, random);
            }
            return stream;
        }

        private void Add(byte firstByte, byte[] payload, Random random)
        {
            _frames.Add((firstByte, payload));
            _bytes.AddRange(Encode(firstByte, payload, (uint)random.Next() ^ ((uint)random.Next(2) << 31)));
        }

        /// <summary>What reading the frames in order gives with this message cap.</summary>
        public List<Delivered> Expected(int cap)
        {
            var result = new List<Delivered>();
            var message = new List<byte>();
            foreach (var (firstByte, payload) in _frames)
            {
                int opcode = firstByte & 0x0F;
                bool fin = (firstByte & 0x80) != 0;
                if (opcode >= 0x8)
                {
                    var kind = opcode == 0x9 ? WsFrameKind.Ping : opcode == 0xA ? WsFrameKind.Pong : WsFrameKind.Close;
                    ushort status = kind == WsFrameKind.Close && payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : (ushort)0;
                    result.Add(new Delivered(kind, Convert.ToHexString(payload), status));
                    continue;
                }
                if (opcode == 0x1) message.Clear();
                message.AddRange(payload);
                if (message.Count > cap)
                {
                    result.Add(new Delivered(WsFrameKind.Error, "", WsCloseStatus.MessageTooBig));
                    return result;
                }
                result.Add(fin
                    ? new Delivered(WsFrameKind.Text, Convert.ToHexString(message.ToArray()), 0)
                    : new Delivered(WsFrameKind.Fragment, "", 0));
            }
            return result;
        }

        private static byte[] RandomText(Random random)
        {
            int length = random.Next(4) switch
            {
                0 => random.Next(0, 8),
                1 => random.Next(8, 200),
                2 => random.Next(200, 1500),
                _ => random.Next(1500, 6000),
            };
            string[] pieces = ["a", "{", "\"", "é", "日", "🎉", " ", "0"];
            var bytes = new List<byte>(length + 4);
            while (bytes.Count < length)
                bytes.AddRange(Encoding.UTF8.GetBytes(pieces[random.Next(pieces.Length)]));
            return bytes.ToArray();
        }

        private static byte[] RandomBinary(Random random, int max)
        {
            var bytes = new byte[random.Next(max + 1)];
            random.NextBytes(bytes);
            return bytes;
        }
    }
}
