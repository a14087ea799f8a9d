using System.Buffers;
using System.Net;
using System.Text;

namespace Relay.Server.Transport;

internal enum HttpParseStatus
{
    NeedMoreData,
    Complete,
    Invalid,
    TooLarge,
}

/// <summary>Reads one HTTP/1.x request head (request line + headers) from the start of a receive buffer.</summary>
internal static class HttpRequestParser
{
    /// <summary>Request line and headers together; a longer head is answered with 431.</summary>
    public const int MaxHeadBytes = 16 * 1024;

    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;

    /// <param name="end">On <see cref="HttpParseStatus.Complete"/>, the position just after the blank line.</param>
    public static HttpParseStatus TryParse(ReadOnlySequence<byte> buffer, IPAddress remoteAddress, out HttpRequestInfo? request, out SequencePosition end)
    {
        request = null;
        end = buffer.Start;
        var window = buffer.Length > MaxHeadBytes ? buffer.Slice(0, MaxHeadBytes) : buffer;
        var reader = new SequenceReader<byte>(window);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> head, HeadEnd, advancePastDelimiter: true))
            return buffer.Length >= MaxHeadBytes ? HttpParseStatus.TooLarge : HttpParseStatus.NeedMoreData;
        end = buffer.GetPosition(reader.Consumed);

        // Latin-1 maps every byte to one char, so nothing is lost and validation below sees raw bytes.
        string text = Encoding.Latin1.GetString(head);
        request = Parse(text, remoteAddress);
        return request is null ? HttpParseStatus.Invalid : HttpParseStatus.Complete;
    }

    private static HttpRequestInfo? Parse(string head, IPAddress remoteAddress)
    {
        string[] lines = head.Split("\r\n");
        string[] requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3)
            return null;
        string method = requestLine[0], target = requestLine[1], version = requestLine[2];
        if (method.Length == 0 || !IsToken(method) || target.Length == 0 || !IsVisible(target))
            return null;
        if (version != "HTTP/1.1" && version != "HTTP/1.0")
            return null;

        var headers = new List<KeyValuePair<string, string>>(Math.Max(0, lines.Length - 1));
        for (int i = 1; i < lines.Length; i++)
        {
            string line = lines[i];
            int colon = line.IndexOf(':');
            // A leading space would be an obsolete folded continuation line (RFC 9112 rejects it).
            if (colon <= 0)
                return null;
            string name = line[..colon];
            if (!IsToken(name))
                return null;
            string value = line[(colon + 1)..].Trim(' ', '\t');
            if (value.Contains('\r') || value.Contains('\n') || value.Contains('\0'))
                return null;
            headers.Add(new(name, value));
        }
        return new HttpRequestInfo(method, target, version, headers, remoteAddress);
    }

    private static bool IsToken(string s)
    {
        foreach (char c in s)
        {
            bool ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9')
                || "!#$%&'*+-.^_`|~".Contains(c);
            if (!ok)
                return false;
        }
        return true;
    }

    private static bool IsVisible(string s)
    {
        foreach (char c in s)
        {
            if (c <= ' ' || c >= 0x7f)
                return false;
        }
        return true;
    }
}
