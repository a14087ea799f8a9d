using System.Buffers;

namespace Relay.Native.Events;

/// <summary>
/// NIP-01's string escaping: the one serialization every client hashes to get an event id.
/// Only <c>\n \" \\ \r \t \b \f</c> get short escapes, other bytes below 0x20 become <c>\u00xx</c>
/// (lowercase, as JavaScript's JSON.stringify writes them), and everything else, DEL, U+2028/2029,
/// '/' and all non-ASCII included, is copied verbatim.
/// </summary>
public static class CanonicalJson
{
    private static readonly SearchValues<byte> NeedsEscape = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000a\u000b\u000c\u000d\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\"\\"u8);

    private static ReadOnlySpan<byte> HexDigits => "0123456789abcdef"u8;

    /// <summary>Upper bound of <see cref="WriteString"/>'s output for <paramref name="utf8Length"/> bytes of text.</summary>
    public static int MaxQuotedLength(int utf8Length) => 2 + 6 * utf8Length;

    /// <summary>Writes <c>"text"</c> escaped canonically; returns the bytes written.</summary>
    /// <exception cref="ArgumentException">The destination is too small (the caller sizes it).</exception>
    public static int WriteString(ReadOnlySpan<byte> utf8, Span<byte> destination)
    {
        int pos = 0;
        destination[pos++] = (byte)'"';
        pos += WriteEscaped(utf8, destination.Slice(pos));
        destination[pos++] = (byte)'"';
        return pos;
    }

    /// <summary>Writes the escaped text without quotes; returns the bytes written.</summary>
    public static int WriteEscaped(ReadOnlySpan<byte> utf8, Span<byte> destination)
    {
        int pos = 0;
        while (true)
        {
            int next = utf8.IndexOfAny(NeedsEscape);
            if (next < 0)
            {
                utf8.CopyTo(destination.Slice(pos));
                return pos + utf8.Length;
            }
            utf8.Slice(0, next).CopyTo(destination.Slice(pos));
            pos += next;
            byte c = utf8[next];
            byte shortEscape = c switch
            {
                (byte)'\n' => (byte)'n',
                (byte)'"' => (byte)'"',
                (byte)'\\' => (byte)'\\',
                (byte)'\r' => (byte)'r',
                (byte)'\t' => (byte)'t',
                (byte)'\b' => (byte)'b',
                (byte)'\f' => (byte)'f',
                _ => 0,
            };
            if (shortEscape != 0)
            {
                destination[pos] = (byte)'\\';
                destination[pos + 1] = shortEscape;
                pos += 2;
            }
            else
            {
                var u = destination.Slice(pos, 6);
                u[0] = (byte)'\\'; u[1] = (byte)'u'; u[2] = (byte)'0'; u[3] = (byte)'0';
                u[4] = HexDigits[c >> 4];
                u[5] = HexDigits[c & 0xF];
                pos += 6;
            }
            utf8 = utf8.Slice(next + 1);
        }
    }
}
