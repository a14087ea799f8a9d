using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Relay.Load.WebSockets;

/// <summary>RFC 6455 frame header, as parsed from a receive buffer.</summary>
public readonly record struct FrameHeader(bool Fin, byte Opcode, bool Masked, uint MaskKey, long PayloadLength, int HeaderLength);

/// <summary>RFC 6455 framing shared by the client and the self-test relay. No extensions.</summary>
public static class WebSocketFrame
{
    public const byte Continuation = 0, Text = 1, Binary = 2, Close = 8, Ping = 9, Pong = 10;

    /// <summary>Parses a frame header; false when the buffer does not hold the whole header yet.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> buffer, out FrameHeader header)
    {
        header = default;
        if (buffer.Length < 2) return false;
        bool fin = (buffer[0] & 0x80) != 0;
        byte opcode = (byte)(buffer[0] & 0x0F);
        bool masked = (buffer[1] & 0x80) != 0;
        long length = buffer[1] & 0x7F;
        int position = 2;
        if (length == 126)
        {
            if (buffer.Length < 4) return false;
            length = BinaryPrimitives.ReadUInt16BigEndian(buffer.Slice(2));
            position = 4;
        }
        else if (length == 127)
        {
            if (buffer.Length < 10) return false;
            ulong big = BinaryPrimitives.ReadUInt64BigEndian(buffer.Slice(2));
            if (big > int.MaxValue) throw new InvalidDataException("WebSocket frame too large");
            length = (long)big;
            position = 10;
        }
        uint maskKey = 0;
        if (masked)
        {
            if (buffer.Length < position + 4) return false;
            maskKey = BinaryPrimitives.ReadUInt32LittleEndian(buffer.Slice(position));
            position += 4;
        }
        header = new FrameHeader(fin, opcode, masked, maskKey, length, position);
        return true;
    }

    /// <summary>
    /// Appends one frame whose payload is the concatenation of up to three parts (e.g.
    /// <c>["EVENT",</c> + event JSON + <c>]</c>), masked with <paramref name="maskKey"/> when client-sent.
    /// </summary>
    public static void Write(IBufferWriter<byte> output, byte opcode, bool masked, uint maskKey,
        ReadOnlySpan<byte> part1, ReadOnlySpan<byte> part2 = default, ReadOnlySpan<byte> part3 = default, bool fin = true)
    {
        int length = part1.Length + part2.Length + part3.Length;
        int headerLength = 2 + (length < 126 ? 0 : length <= ushort.MaxValue ? 2 : 8) + (masked ? 4 : 0);
        Span<byte> dest = output.GetSpan(headerLength + length);
        dest[0] = (byte)((fin ? 0x80 : 0) | opcode);
        byte maskBit = masked ? (byte)0x80 : (byte)0;
        int position;
        if (length < 126) { dest[1] = (byte)(maskBit | length); position = 2; }
        else if (length <= ushort.MaxValue) { dest[1] = (byte)(maskBit | 126); BinaryPrimitives.WriteUInt16BigEndian(dest.Slice(2), (ushort)length); position = 4; }
        else { dest[1] = (byte)(maskBit | 127); BinaryPrimitives.WriteUInt64BigEndian(dest.Slice(2), (ulong)length); position = 10; }
        if (masked) { BinaryPrimitives.WriteUInt32LittleEndian(dest.Slice(position), maskKey); position += 4; }
        Span<byte> payload = dest.Slice(position, length);
        part1.CopyTo(payload);
        part2.CopyTo(payload.Slice(part1.Length));
        part3.CopyTo(payload.Slice(part1.Length + part2.Length));
        if (masked) ApplyMask(payload, maskKey);
        output.Advance(headerLength + length);
    }

    /// <summary>XORs the payload with the 4-byte key (the key's bytes in wire order), 8 bytes at a time.</summary>
    public static void ApplyMask(Span<byte> payload, uint maskKey)
    {
        ulong wide = maskKey | ((ulong)maskKey << 32);
        int i = 0;
        Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(payload);
        for (int w = 0; w < words.Length; w++) words[w] ^= wide;
        i = words.Length * 8;
        for (; i < payload.Length; i++) payload[i] ^= (byte)(maskKey >> (8 * (i & 3)));
    }
}
