using System.Buffers.Binary;

namespace Relay.Server.Transport;

internal enum WsHeaderStatus
{
    NeedMoreData,
    Ok,
    /// <summary>A 64-bit length with its most significant bit set, which RFC 6455 forbids.</summary>
    Invalid,
}

/// <summary>
/// RFC 6455 section 5.2 frame header: 2 bytes, then a 16- or 64-bit extended length, then a 4-byte mask key.
/// The mask key is kept as the four wire bytes read little-endian, so key byte i is (MaskKey >> 8*i).
/// </summary>
internal readonly struct WsFrameHeader
{
    public const int MaxLength = 14;

    public WsFrameHeader(bool fin, byte rsv, WsOpcode opcode, bool masked, long payloadLength, uint maskKey, int headerLength)
    {
        Fin = fin;
        Rsv = rsv;
        Opcode = opcode;
        Masked = masked;
        PayloadLength = payloadLength;
        MaskKey = maskKey;
        HeaderLength = headerLength;
    }

    public bool Fin { get; }

    /// <summary>RSV1..3 as the low three bits; non-zero is an error since no extension is negotiated.</summary>
    public byte Rsv { get; }

    public WsOpcode Opcode { get; }
    public bool Masked { get; }
    public long PayloadLength { get; }
    public uint MaskKey { get; }
    public int HeaderLength { get; }

    public bool IsControl => ((byte)Opcode & 0x8) != 0;

    public static WsHeaderStatus TryParse(ReadOnlySpan<byte> data, out WsFrameHeader header)
    {
        header = default;
        if (data.Length < 2)
            return WsHeaderStatus.NeedMoreData;
        byte b0 = data[0], b1 = data[1];
        bool masked = (b1 & 0x80) != 0;
        int length7 = b1 & 0x7F;
        int extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
        int headerLength = 2 + extended + (masked ? 4 : 0);
        if (data.Length < headerLength)
            return WsHeaderStatus.NeedMoreData;

        long payloadLength = length7;
        if (extended == 2)
        {
            payloadLength = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
        }
        else if (extended == 8)
        {
            ulong length64 = BinaryPrimitives.ReadUInt64BigEndian(data[2..]);
            if (length64 > long.MaxValue)
                return WsHeaderStatus.Invalid;
            payloadLength = (long)length64;
        }
        uint maskKey = masked ? BinaryPrimitives.ReadUInt32LittleEndian(data[(2 + extended)..]) : 0;
        header = new WsFrameHeader((b0 & 0x80) != 0, (byte)((b0 >> 4) & 0x7), (WsOpcode)(b0 & 0x0F), masked, payloadLength, maskKey, headerLength);
        return WsHeaderStatus.Ok;
    }

    public static int GetLength(long payloadLength, bool masked) =>
        (payloadLength < 126 ? 2 : payloadLength <= ushort.MaxValue ? 4 : 10) + (masked ? 4 : 0);

    /// <summary>Writes a header (shortest length form). Pass a mask key only for client-side frames.</summary>
    public static int Write(Span<byte> destination, WsOpcode opcode, bool fin, long payloadLength, uint? maskKey = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        destination[0] = (byte)((fin ? 0x80 : 0) | (byte)opcode);
        byte maskBit = maskKey.HasValue ? (byte)0x80 : (byte)0;
        int position;
        if (payloadLength < 126)
        {
            destination[1] = (byte)(maskBit | (byte)payloadLength);
            position = 2;
        }
        else if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = (byte)(maskBit | 126);
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
            position = 4;
        }
        else
        {
            destination[1] = (byte)(maskBit | 127);
            BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
            position = 10;
        }
        if (maskKey is { } key)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[position..], key);
            position += 4;
        }
        return position;
    }
}
