using System.Security.Cryptography;
using System.Text;

namespace Relay.Server.Transport;

/// <summary>RFC 6455 section 4.2: checks an upgrade request and computes Sec-WebSocket-Accept.</summary>
internal static class WebSocketHandshake
{
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>True when the client asks for a WebSocket at all (then a bad request gets 400, not a page).</summary>
    public static bool IsUpgradeAttempt(HttpRequestInfo request) =>
        request.GetHeader("Upgrade") is not null || request.GetHeader("Sec-WebSocket-Key") is not null;

    /// <returns>0 when acceptable, else the HTTP status to answer with (400, 405 or 426).</returns>
    public static int Validate(HttpRequestInfo request, out string acceptKey)
    {
        acceptKey = "";
        if (request.Method != "GET")
            return 405;
        if (request.Version != "HTTP/1.1")
            return 400;
        if (!request.HeaderHasToken("Upgrade", "websocket") || !request.HeaderHasToken("Connection", "upgrade"))
            return 400;
        string? key = request.GetHeader("Sec-WebSocket-Key");
        Span<byte> nonce = stackalloc byte[18];
        if (key is null || !Convert.TryFromBase64String(key, nonce, out int nonceLength) || nonceLength != 16)
            return 400;
        if (request.GetHeader("Sec-WebSocket-Version") != "13")
            return 426;
        acceptKey = ComputeAcceptKey(key);
        return 0;
    }

    public static string ComputeAcceptKey(string key)
    {
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid), hash);
        return Convert.ToBase64String(hash);
    }
}
