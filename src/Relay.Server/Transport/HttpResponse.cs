using System.Text;

namespace Relay.Server.Transport;

/// <summary>A complete plain-HTTP answer; the connection is closed after it is sent.</summary>
public sealed class HttpResponse
{
    public int StatusCode { get; init; } = 200;
    public string ContentType { get; init; } = "text/plain; charset=utf-8";
    public ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>Extra headers; Content-Type, Content-Length and Connection are written by the server.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Headers { get; init; }

    public static HttpResponse Text(int statusCode, string text, string contentType = "text/plain; charset=utf-8") =>
        new() { StatusCode = statusCode, ContentType = contentType, Body = Encoding.UTF8.GetBytes(text) };
}
