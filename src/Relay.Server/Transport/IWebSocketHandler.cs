namespace Relay.Server.Transport;

/// <summary>
/// What the relay does with a WebSocket connection. All three calls for one connection come from its
/// receive loop, one at a time, so per-connection state needs no locking against itself.
/// </summary>
public interface IWebSocketHandler
{
    void OnOpen(WsConnection connection);

    /// <summary>
    /// One complete text message (fragments reassembled, UTF-8 already validated). The span points into
    /// a transport buffer and is only valid during the call.
    /// </summary>
    void OnTextMessage(WsConnection connection, ReadOnlySpan<byte> utf8);

    /// <summary>Exactly once per opened connection, after it is gone (SendText already returns false).</summary>
    void OnClose(WsConnection connection);
}
