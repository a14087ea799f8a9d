namespace Relay.Server.Transport;

public sealed class ListenerOptions
{
    public string Bind { get; init; } = "127.0.0.1";

    /// <summary>0 = an ephemeral port (tests); read the bound one from <see cref="WebSocketListener.Port"/>.</summary>
    public int Port { get; init; } = 7777;

    /// <summary>Bytes per message after reassembly; a larger one closes the connection with 1009.</summary>
    public int MaxWebsocketPayloadSize { get; init; } = 131072;

    /// <summary>Seconds between ping rounds; 0 = off. A connection silent for a whole round is dropped.</summary>
    public int AutoPingSeconds { get; init; } = 55;

    /// <summary>Bytes queued for a connection and not yet sent; passing it aborts the connection.</summary>
    public long MaxPendingOutboundBytes { get; init; } = 33554432;

    /// <summary>SO_KEEPALIVE on accepted sockets (strfry's relay.enableTcpKeepalive): finds peers that vanished behind a proxy.</summary>
    public bool EnableTcpKeepalive { get; init; }

    /// <summary>JSON bytes served for <c>Accept: application/nostr+json</c> (NIP-11).</summary>
    public Func<HttpRequestInfo, ReadOnlyMemory<byte>>? Nip11Document { get; init; }

    /// <summary>e.g. "x-real-ip" behind a reverse proxy: the client IP is taken from that header.</summary>
    public string RealIpHeader { get; init; } = "";

    /// <summary>Hook for other GET paths (/metrics, /health); a null return serves the default page.</summary>
    public Func<HttpRequestInfo, HttpResponse?>? HttpHandler { get; init; }

    /// <summary>A connection that has not completed its HTTP request by then is dropped.</summary>
    public int HandshakeTimeoutSeconds { get; init; } = 10;

    /// <summary>How long a closing connection may take to answer our close frame / drain before it is cut.</summary>
    public int CloseTimeoutMilliseconds { get; init; } = 2000;

    /// <summary>
    /// A frame sent within this many microseconds of the previous one on the same connection is queued for
    /// the send loop instead of being written from the caller's thread, so a burst (a REQ answer) costs a
    /// few gathered system calls instead of one per event. 0 = always try the direct write (tests).
    /// </summary>
    internal int InlineBurstMicroseconds { get; init; } = 100;

    /// <summary>
    /// Exceptions thrown by the handler or the hooks, and unexpected transport faults. Ordinary
    /// disconnects and protocol violations are not reported. Must not throw.
    /// </summary>
    public Action<Exception>? OnError { get; init; }
}
