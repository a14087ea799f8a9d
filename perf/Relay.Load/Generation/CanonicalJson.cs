using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Relay.Load.Generation;

/// <summary>
/// NIP-01 string escaping, used for both the id preimage and the stored event so the two cannot
/// disagree: <c>\n \" \\ \r \t \b \f</c> in short form, other control characters as <c>\u00XX</c>,
/// everything else (including '/', DEL and non-ASCII) as verbatim UTF-8.
/// </summary>
public static class CanonicalJson
{
    private static ReadOnlySpan<byte> HexDigits => "0123456789abcdef"u8;

    public static void WriteString(ArrayBufferWriter<byte> output, string value)
    {
        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        byte[] rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            int length = Encoding.UTF8.GetBytes(value, rented);
            WriteString(output, rented.AsSpan(0, length));
        }
        finally { ArrayPool<byte>.Shared.Return(rented); }
    }

    /// <summary>Writes a quoted, escaped JSON string from raw UTF-8.</summary>
    public static void WriteString(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> utf8)
    {
        // Worst case every byte becomes \u00XX.
        Span<byte> dest = output.GetSpan(utf8.Length * 6 + 2);
        int w = 0;
        dest[w++] = (byte)'"';
        foreach (byte b in utf8)
        {
            switch (b)
            {
                case (byte)'"': dest[w++] = (byte)'\\'; dest[w++] = (byte)'"'; break;
                case (byte)'\\': dest[w++] = (byte)'\\'; dest[w++] = (byte)'\\'; break;
                case (byte)'\n': dest[w++] = (byte)'\\'; dest[w++] = (byte)'n'; break;
                case (byte)'\r': dest[w++] = (byte)'\\'; dest[w++] = (byte)'r'; break;
                case (byte)'\t': dest[w++] = (byte)'\\'; dest[w++] = (byte)'t'; break;
                case (byte)'\b': dest[w++] = (byte)'\\'; dest[w++] = (byte)'b'; break;
                case (byte)'\f': dest[w++] = (byte)'\\'; dest[w++] = (byte)'f'; break;
                case < 0x20:
                    dest[w++] = (byte)'\\'; dest[w++] = (byte)'u'; dest[w++] = (byte)'0'; dest[w++] = (byte)'0';
                    dest[w++] = HexDigits[b >> 4]; dest[w++] = HexDigits[b & 0xF];
                    break;
                default: dest[w++] = b; break;
            }
        }
        dest[w++] = (byte)'"';
        output.Advance(w);
    }

    /// <summary>Escapes a string for embedding inside another JSON string value (kind 0 metadata).</summary>
    public static string Escape(string value)
    {
        var output = new ArrayBufferWriter<byte>(value.Length + 16);
        WriteString(output, value);
        return Encoding.UTF8.GetString(output.WrittenSpan[1..^1]);
    }

    public static void WriteAscii(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> ascii) => output.Write(ascii);

    public static void WriteNumber(ArrayBufferWriter<byte> output, long value)
    {
        Span<byte> dest = output.GetSpan(20);
        Utf8Formatter.TryFormat(value, dest, out int written);
        output.Advance(written);
    }

    public static void WriteHexString(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        Span<byte> dest = output.GetSpan(bytes.Length * 2 + 2);
        dest[0] = (byte)'"';
        Relay.Native.Events.Hex.EncodeLower(bytes, dest.Slice(1));
        dest[bytes.Length * 2 + 1] = (byte)'"';
        output.Advance(bytes.Length * 2 + 2);
    }
}
