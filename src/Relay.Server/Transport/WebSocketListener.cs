using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Relay.Server.Transport;

/// <summary>
/// Accepts TCP connections and runs each as a <see cref="WsConnection"/>. No thread per connection:
/// everything is asynchronous socket I/O on the runtime's socket engine. One housekeeping loop serves
/// every connection (ping rounds, handshake and close timeouts).
/// </summary>
public sealed class WebSocketListener : IAsyncDisposable
{
    private const int Backlog = 1024;
    private static readonly TimeSpan HousekeepingPeriod = TimeSpan.FromSeconds(1);
    private static long s_slowClientTerminations;

    private readonly ListenerOptions _options;
    private readonly IWebSocketHandler _handler;
    private readonly ConcurrentDictionary<long, WsConnection> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listenSocket;
    private PeriodicTimer? _housekeepingTimer;
    private Task _acceptTask = Task.CompletedTask;
    private Task _housekeepingTask = Task.CompletedTask;
    private int _openCount;
    private int _disposed;

    public WebSocketListener(ListenerOptions options, IWebSocketHandler handler)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxWebsocketPayloadSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPendingOutboundBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.HandshakeTimeoutSeconds, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.CloseTimeoutMilliseconds);
        _options = options;
        _handler = handler;
    }

    /// <summary>Connections aborted because their pending output passed the cap, in this process.</summary>
    public static long SlowClientTerminations => Interlocked.Read(ref s_slowClientTerminations);

    /// <summary>The bound port (useful with <see cref="ListenerOptions.Port"/> = 0).</summary>
    public int Port { get; private set; }

    /// <summary>Open WebSocket connections (between OnOpen and OnClose).</summary>
    public int ConnectionCount => Volatile.Read(ref _openCount);

    /// <summary>Binds and starts accepting.</summary>
    /// <exception cref="InvalidOperationException">The address is invalid or the port is taken.</exception>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_listenSocket is not null)
            throw new InvalidOperationException("The listener is already started.");
        if (!IPAddress.TryParse(_options.Bind, out var address))
            throw new InvalidOperationException($"Cannot listen on '{_options.Bind}': not an IP address.");

        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any))
                socket.DualMode = true;
            socket.Bind(new IPEndPoint(address, _options.Port));
            socket.Listen(Backlog);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            string why = e.SocketErrorCode == SocketError.AddressAlreadyInUse ? "the port is already in use" : e.Message;
            throw new InvalidOperationException($"Cannot listen on {_options.Bind}:{_options.Port}: {why}.", e);
        }
        _listenSocket = socket;
        Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        _housekeepingTimer = new PeriodicTimer(HousekeepingPeriod);
        _acceptTask = AcceptLoopAsync(socket);
        _housekeepingTask = HousekeepingLoopAsync(_housekeepingTimer);
    }

    /// <summary>Stops accepting, closes every connection (1001) and waits for them to end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _stopping.Cancel();
        _listenSocket?.Dispose();
        await _acceptTask;

        var connections = _connections.Values.ToArray();
        foreach (var connection in connections)
            connection.Close(WsCloseStatus.GoingAway, "relay shutting down");
        var all = Task.WhenAll(connections.Select(c => c.Completion));
        try
        {
            await all.WaitAsync(TimeSpan.FromMilliseconds(_options.CloseTimeoutMilliseconds + 1000));
        }
        catch (TimeoutException)
        {
            foreach (var connection in connections)
                connection.Abort();
            await all;
        }
        _housekeepingTimer?.Dispose();
        await _housekeepingTask;
        _stopping.Dispose();
    }

    internal static void CountSlowClientTermination() => Interlocked.Increment(ref s_slowClientTerminations);

    internal void OnConnectionOpened() => Interlocked.Increment(ref _openCount);

    internal void OnConnectionClosed() => Interlocked.Decrement(ref _openCount);

    internal void Remove(WsConnection connection) => _connections.TryRemove(connection.Id, out _);

    /// <summary>The live connections (tests look at their sockets).</summary>
    internal ICollection<WsConnection> Connections => _connections.Values;

    private async Task AcceptLoopAsync(Socket listenSocket)
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listenSocket.AcceptAsync(stopping);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException e)
            {
                // Out of descriptors or a peer that reset before accept: keep serving the others,
                // with a short pause so a persistent error does not spin.
                if (e.SocketErrorCode != SocketError.ConnectionReset && e.SocketErrorCode != SocketError.ConnectionAborted)
                {
                    Report(e);
                    try { await Task.Delay(50, stopping); } catch (OperationCanceledException) { break; }
                }
                continue;
            }

            try
            {
                socket.NoDelay = true;
                if (_options.EnableTcpKeepalive)
                    socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                var connection = new WsConnection(socket, this, _options, _handler);
                _connections[connection.Id] = connection;
                connection.Start();
            }
            catch (Exception e)
            {
                Report(e);
                socket.Dispose();
            }
        }
    }

    private async Task HousekeepingLoopAsync(PeriodicTimer timer)
    {
        long lastPingRound = Environment.TickCount64;
        long pingInterval = _options.AutoPingSeconds * 1000L;
        try
        {
            while (await timer.WaitForNextTickAsync())
            {
                long now = Environment.TickCount64;
                bool pingRound = pingInterval > 0 && now - lastPingRound >= pingInterval;
                if (pingRound)
                    lastPingRound = now;
                foreach (var pair in _connections)
                {
                    try
                    {
                        pair.Value.OnTick(now, pingRound);
                    }
                    catch (Exception e)
                    {
                        Report(e);
                    }
                }
            }
        }
        catch (Exception e)
        {
            Report(e);
        }
    }

    private void Report(Exception e)
    {
        try
        {
            _options.OnError?.Invoke(e);
        }
        catch
        {
            // The error sink must not stop the accept loop.
        }
    }
}
