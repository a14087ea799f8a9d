using System.Numerics;
using System.Runtime.InteropServices;

namespace Relay.Server.Transport;

/// <summary>XOR masking (RFC 6455 section 5.3), in place, continuing across split buffers.</summary>
internal static class WsMask
{
    /// <param name="maskKey">The four key bytes read little-endian (see <see cref="WsFrameHeader.MaskKey"/>).</param>
    /// <param name="offset">How many payload bytes came before this span in the same frame.</param>
    /// <returns>The offset to pass for the next span of the same frame.</returns>
    public static int Apply(Span<byte> data, uint maskKey, int offset)
    {
        int next = (int)((offset + (long)data.Length) & 3);
        if (!BitConverter.IsLittleEndian)
        {
            for (int j = 0; j < data.Length; j++)
                data[j] ^= (byte)(maskKey >> (8 * ((offset + j) & 3)));
            return next;
        }

        // Rotating the key by the offset makes byte i of the span use key byte (offset + i) % 4;
        // every wide step below is a multiple of 4 bytes, so the rotation stays aligned.
        uint key = BitOperations.RotateRight(maskKey, 8 * (offset & 3));
        int i = 0;
        if (Vector.IsHardwareAccelerated && data.Length >= Vector<byte>.Count)
        {
            var keyVector = Vector.AsVectorByte(new Vector<uint>(key));
            for (; i <= data.Length - Vector<byte>.Count; i += Vector<byte>.Count)
            {
                var slice = data.Slice(i, Vector<byte>.Count);
                (new Vector<byte>(slice) ^ keyVector).CopyTo(slice);
            }
        }
        ulong key64 = key | ((ulong)key << 32);
        for (; i <= data.Length - 8; i += 8)
        {
            var slice = data.Slice(i, 8);
            MemoryMarshal.Write(slice, MemoryMarshal.Read<ulong>(slice) ^ key64);
        }
        for (; i < data.Length; i++)
            data[i] ^= (byte)(key >> (8 * (i & 3)));
        return next;
    }
}
