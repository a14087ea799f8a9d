using System.Text;

namespace Relay.Server.Transport;

/// <summary>Serializes the few responses the relay gives to plain HTTP: 101, NIP-11, CORS preflight, pages, errors.</summary>
internal static class HttpResponseWriter
{
    public const string DefaultPage = "Please use a Nostr client to connect.\n";

    // NIP-11: browsers fetch the document cross-origin, so both the GET and its preflight need these.
    private static readonly KeyValuePair<string, string>[] CorsHeaders =
    [
        new("Access-Control-Allow-Origin", "*"),
        new("Access-Control-Allow-Headers", "*"),
        new("Access-Control-Allow-Methods", "GET, OPTIONS"),
    ];

    public static byte[] SwitchingProtocols(string acceptKey) => Encoding.ASCII.GetBytes(
        "HTTP/1.1 101 Switching Protocols\r\n" +
        "Upgrade: websocket\r\n" +
        "Connection: Upgrade\r\n" +
        "Sec-WebSocket-Accept: " + acceptKey + "\r\n\r\n");

    public static HttpResponse Nip11(ReadOnlyMemory<byte> document) => new()
    {
        StatusCode = 200,
        ContentType = "application/nostr+json",
        Body = document,
        Headers = CorsHeaders,
    };

    public static HttpResponse Preflight() => new() { StatusCode = 204, ContentType = "", Headers = CorsHeaders };

    public static HttpResponse Page() => HttpResponse.Text(200, DefaultPage);

    public static HttpResponse Error(int status)
    {
        var response = HttpResponse.Text(status, status + " " + ReasonPhrase(status) + "\n");
        return status switch
        {
            426 => new() { StatusCode = 426, ContentType = response.ContentType, Body = response.Body, Headers = [new("Sec-WebSocket-Version", "13")] },
            405 => new() { StatusCode = 405, ContentType = response.ContentType, Body = response.Body, Headers = [new("Allow", "GET, OPTIONS")] },
            _ => response,
        };
    }

    /// <summary>Head and body in one buffer; the body is left out for HEAD requests and for 204/304.</summary>
    public static byte[] Serialize(HttpResponse response, bool includeBody)
    {
        bool bodyAllowed = response.StatusCode != 204 && response.StatusCode != 304;
        var head = new StringBuilder(256);
        head.Append("HTTP/1.1 ").Append(response.StatusCode).Append(' ').Append(ReasonPhrase(response.StatusCode)).Append("\r\n");
        if (response.ContentType.Length > 0)
            head.Append("Content-Type: ").Append(response.ContentType).Append("\r\n");
        if (bodyAllowed)
            head.Append("Content-Length: ").Append(response.Body.Length).Append("\r\n");
        if (response.Headers is { } extra)
        {
            foreach (var header in extra)
                head.Append(header.Key).Append(": ").Append(header.Value).Append("\r\n");
        }
        head.Append("Connection: close\r\n\r\n");

        int headLength = Encoding.ASCII.GetByteCount(head.ToString());
        int bodyLength = includeBody && bodyAllowed ? response.Body.Length : 0;
        var bytes = new byte[headLength + bodyLength];
        Encoding.ASCII.GetBytes(head.ToString(), bytes);
        response.Body.Span[..bodyLength].CopyTo(bytes.AsSpan(headLength));
        return bytes;
    }

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
}
