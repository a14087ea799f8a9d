using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Relay.Native.Events;

namespace Relay.Load.Generation;

/// <summary>
/// Appends the pieces of an event's JSON to a buffer writer. String escaping is Relay.Native's
/// <see cref="CanonicalJson"/>, the same code the relay hashes with, so the id preimage and the
/// stored event cannot disagree with what a relay computes.
/// </summary>
public static class JsonBuffer
{
    /// <summary>Writes <c>"value"</c>, escaped the NIP-01 way.</summary>
    public static void WriteString(IBufferWriter<byte> output, string value)
    {
        byte[] rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(value.Length));
        try
        {
            int length = Encoding.UTF8.GetBytes(value, rented);
            WriteString(output, rented.AsSpan(0, length));
        }
        finally { ArrayPool<byte>.Shared.Return(rented); }
    }

    /// <summary>Writes <c>"utf8"</c>, escaped the NIP-01 way.</summary>
    public static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<byte> utf8)
    {
        Span<byte> destination = output.GetSpan(CanonicalJson.MaxQuotedLength(utf8.Length));
        output.Advance(CanonicalJson.WriteString(utf8, destination));
    }

    /// <summary>Escapes a string for embedding inside another JSON string value (kind 0 metadata).</summary>
    public static string Escape(string value)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(value);
        var escaped = new byte[CanonicalJson.MaxQuotedLength(utf8.Length)];
        int length = CanonicalJson.WriteEscaped(utf8, escaped);
        return Encoding.UTF8.GetString(escaped, 0, length);
    }

    public static void WriteAscii(IBufferWriter<byte> output, ReadOnlySpan<byte> ascii) => output.Write(ascii);

    public static void WriteNumber(IBufferWriter<byte> output, long value)
    {
        Span<byte> destination = output.GetSpan(20);
        Utf8Formatter.TryFormat(value, destination, out int written);
        output.Advance(written);
    }

    /// <summary>Writes <c>"hex"</c> of the bytes, lowercase.</summary>
    public static void WriteHexString(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        int length = bytes.Length * 2 + 2;
        Span<byte> destination = output.GetSpan(length);
        destination[0] = (byte)'"';
        Hex.EncodeLower(bytes, destination.Slice(1));
        destination[length - 1] = (byte)'"';
        output.Advance(length);
    }
}
