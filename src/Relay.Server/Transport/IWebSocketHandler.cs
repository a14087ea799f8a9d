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
    /// a transport buffer and is only valid during the call: copy what must outlive it before returning.
    /// A result that is not complete (the relay's inbox is full) pauses the connection: no further
    /// message is read until it completes, which is how back-pressure reaches the socket without
    /// blocking a thread-pool thread.
    /// </summary>
    ValueTask OnTextMessage(WsConnection connection, ReadOnlySpan<byte> utf8);

    /// <summary>Exactly once per opened connection, after it is gone (SendText already returns false).</summary>
    void OnClose(WsConnection connection);
}
