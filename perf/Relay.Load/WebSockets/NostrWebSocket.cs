using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Relay.Load.WebSockets;

/// <summary>Receives each complete relay message (text payload) in place; must not keep the span.</summary>
public interface IRelayMessageHandler
{
    void OnMessage(ReadOnlySpan<byte> message);
}

/// <summary>
/// A small WebSocket client on a raw socket: plain ws:// only, no extensions. One receive loop
/// parses frames in place and hands each message to a handler; sends are pre-framed batches, so a
/// load loop can put many EVENTs into one syscall.
/// </summary>
public sealed class NostrWebSocket : IAsyncDisposable
{
    public const int MaxMessageBytes = 16 << 20;
    private static readonly byte[] s_acceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8.ToArray();

    private readonly Socket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private byte[] _buffer;
    private int _start, _end;
    private long _bytesSent, _bytesReceived;
    private uint _maskState;
    private volatile bool _open = true;

    private NostrWebSocket(Socket socket, byte[] buffer, int leftover, long handshakeBytesSent, long handshakeBytesReceived)
    {
        _socket = socket;
        _buffer = buffer;
        _end = leftover;
        _bytesSent = handshakeBytesSent;
        _bytesReceived = handshakeBytesReceived;
        _maskState = (uint)RandomNumberGenerator.GetInt32(1, int.MaxValue);
    }

    public bool IsOpen => _open;
    public long BytesSent => Interlocked.Read(ref _bytesSent);
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);
    public string? CloseReason { get; private set; }

    public static async Task<NostrWebSocket> ConnectAsync(Uri uri, int receiveBufferSize, CancellationToken cancellation)
    {
        if (uri.Scheme != "ws") throw new NotSupportedException($"only ws:// URLs are supported, got {uri.Scheme}://");
        IPAddress address = IPAddress.TryParse(uri.Host, out IPAddress? parsed) ? parsed
            : (await Dns.GetHostAddressesAsync(uri.Host, cancellation).ConfigureAwait(false))[0];
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, uri.Port), cancellation).ConfigureAwait(false);
            string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            string hostHeader = uri.IsDefaultPort ? uri.Host : uri.Host + ":" + uri.Port;
            byte[] request = Encoding.ASCII.GetBytes(
                $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {hostHeader}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n");
            await SendAllAsync(socket, request, cancellation).ConfigureAwait(false);

            byte[] buffer = new byte[Math.Max(receiveBufferSize, 1024)];
            int received = 0;
            int headerEnd;
            while ((headerEnd = buffer.AsSpan(0, received).IndexOf("\r\n\r\n"u8)) < 0)
            {
                if (received >= 64 * 1024) throw new IOException("handshake response headers too large");
                if (received == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                int n = await socket.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None, cancellation).ConfigureAwait(false);
                if (n == 0) throw new IOException("connection closed during the WebSocket handshake");
                received += n;
            }
            string head = Encoding.ASCII.GetString(buffer, 0, headerEnd);
            CheckHandshake(head, key);
            int leftover = received - (headerEnd + 4);
            Buffer.BlockCopy(buffer, headerEnd + 4, buffer, 0, leftover);
            return new NostrWebSocket(socket, buffer, leftover, request.Length, received);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A fresh RFC 6455 masking key; any unpredictable-enough value will do for a load client.</summary>
    public uint NextMaskKey()
    {
        uint x = _maskState;
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        _maskState = x;
        return x;
    }

    /// <summary>Sends already framed bytes (see <see cref="OutgoingFrames"/>).</summary>
    public async ValueTask SendFramesAsync(ReadOnlyMemory<byte> frames, CancellationToken cancellation)
    {
        await _sendLock.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            await SendAllAsync(_socket, frames, cancellation).ConfigureAwait(false);
            Interlocked.Add(ref _bytesSent, frames.Length);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            MarkClosed("send failed: " + e.Message);
            throw new IOException("send failed", e);
        }
        finally { _sendLock.Release(); }
    }

    /// <summary>Sends one text message (convenience for rare messages such as a single REQ).</summary>
    public async ValueTask SendTextAsync(ReadOnlyMemory<byte> text, CancellationToken cancellation)
    {
        var frames = new ArrayBufferWriter<byte>(text.Length + 14);
        WebSocketFrame.Write(frames, WebSocketFrame.Text, masked: true, NextMaskKey(), text.Span);
        await SendFramesAsync(frames.WrittenMemory, cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads until the relay closes, the socket fails or <paramref name="cancellation"/> fires;
    /// never throws for those (see <see cref="CloseReason"/>).
    /// </summary>
    public async Task RunReceiveLoopAsync(IRelayMessageHandler handler, CancellationToken cancellation)
    {
        try
        {
            var fragments = new ArrayBufferWriter<byte>();
            var controlReplies = new List<(byte Opcode, byte[] Payload)>();
            while (_open)
            {
                bool closeReceived = ProcessBufferedFrames(handler, fragments, controlReplies);
                foreach ((byte opcode, byte[] payload) in controlReplies)
                {
                    var frame = new ArrayBufferWriter<byte>(payload.Length + 14);
                    WebSocketFrame.Write(frame, opcode, masked: true, NextMaskKey(), payload);
                    await SendFramesAsync(frame.WrittenMemory, cancellation).ConfigureAwait(false);
                }
                controlReplies.Clear();
                if (closeReceived) { MarkClosed("relay sent close"); break; }

                int n = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellation).ConfigureAwait(false);
                if (n == 0) { MarkClosed("relay closed the connection"); break; }
                _end += n;
                Interlocked.Add(ref _bytesReceived, n);
            }
        }
        catch (OperationCanceledException) { MarkClosed("stopped"); }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or InvalidDataException)
        {
            MarkClosed(e.Message);
        }
        catch (Exception e)
        {
            // A bug in a handler: end this connection visibly (scenarios count it as lost) rather than fault silently.
            MarkClosed("client error: " + e.GetType().Name + ": " + e.Message);
            Abort();
        }
    }

    private bool ProcessBufferedFrames(IRelayMessageHandler handler, ArrayBufferWriter<byte> fragments, List<(byte, byte[])> controlReplies)
    {
        while (WebSocketFrame.TryReadHeader(_buffer.AsSpan(_start, _end - _start), out FrameHeader header))
        {
            if (header.PayloadLength > MaxMessageBytes) throw new InvalidDataException("relay frame larger than 16 MiB");
            int frameLength = header.HeaderLength + (int)header.PayloadLength;
            if (_end - _start < frameLength) { MakeRoom(frameLength); return false; }

            Span<byte> payload = _buffer.AsSpan(_start + header.HeaderLength, (int)header.PayloadLength);
            if (header.Masked) WebSocketFrame.ApplyMask(payload, header.MaskKey);
            _start += frameLength;
            switch (header.Opcode)
            {
                case WebSocketFrame.Text or WebSocketFrame.Binary when header.Fin && fragments.WrittenCount == 0:
                    handler.OnMessage(payload);
                    break;
                case WebSocketFrame.Text or WebSocketFrame.Binary or WebSocketFrame.Continuation:
                    fragments.Write(payload);
                    if (fragments.WrittenCount > MaxMessageBytes) throw new InvalidDataException("relay message larger than 16 MiB");
                    if (header.Fin)
                    {
                        handler.OnMessage(fragments.WrittenSpan);
                        fragments.ResetWrittenCount();
                    }
                    break;
                case WebSocketFrame.Ping:
                    controlReplies.Add((WebSocketFrame.Pong, payload.ToArray()));
                    break;
                case WebSocketFrame.Close:
                    controlReplies.Add((WebSocketFrame.Close, payload.Length >= 2 ? payload[..2].ToArray() : []));
                    return true;
            }
        }
        MakeRoom(0);
        return false;
    }

    /// <summary>Moves the unparsed tail to the front and grows the buffer when a frame does not fit.</summary>
    private void MakeRoom(int frameLength)
    {
        int pending = _end - _start;
        if (frameLength > _buffer.Length)
        {
            var bigger = new byte[Math.Max(frameLength, _buffer.Length * 2)];
            Buffer.BlockCopy(_buffer, _start, bigger, 0, pending);
            _buffer = bigger;
        }
        else if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, pending);
        }
        _start = 0;
        _end = pending;
        if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
    }

    /// <summary>Sends a close frame (best effort) and closes the socket.</summary>
    public async Task CloseAsync()
    {
        if (_open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                var frame = new ArrayBufferWriter<byte>(16);
                WebSocketFrame.Write(frame, WebSocketFrame.Close, masked: true, NextMaskKey(), [0x03, 0xE8]);
                await SendFramesAsync(frame.WrittenMemory, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException) { }
        }
        MarkClosed("closed by client");
        Abort();
    }

    public void Abort()
    {
        _open = false;
        try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        _socket.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Abort();
        _sendLock.Dispose();
        return ValueTask.CompletedTask;
    }

    private void MarkClosed(string reason)
    {
        CloseReason ??= reason;
        _open = false;
    }

    private static async ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken cancellation)
    {
        while (!data.IsEmpty)
        {
            int n = await socket.SendAsync(data, SocketFlags.None, cancellation).ConfigureAwait(false);
            data = data.Slice(n);
        }
    }

    private static void CheckHandshake(string head, string key)
    {
        string[] lines = head.Split("\r\n");
        if (lines.Length == 0 || !lines[0].StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
            throw new IOException($"WebSocket upgrade refused: '{(lines.Length > 0 ? lines[0] : "")}'");
        string expected = AcceptFor(key);
        foreach (string line in lines)
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals("Sec-WebSocket-Accept", StringComparison.OrdinalIgnoreCase))
            {
                if (line[(colon + 1)..].Trim() != expected) throw new IOException("WebSocket upgrade: wrong Sec-WebSocket-Accept");
                return;
            }
        }
        throw new IOException("WebSocket upgrade: no Sec-WebSocket-Accept header");
    }

    /// <summary>The value a server must answer in Sec-WebSocket-Accept (used by the self-test relay).</summary>
    public static string AcceptFor(string key) =>
        Convert.ToBase64String(SHA1.HashData([.. Encoding.ASCII.GetBytes(key), .. s_acceptGuid]));
}

/// <summary>A reusable buffer of client frames, so a sender loop can batch many messages into one send.</summary>
public sealed class OutgoingFrames(NostrWebSocket socket, int initialCapacity = 64 * 1024)
{
    private readonly ArrayBufferWriter<byte> _frames = new(initialCapacity);

    public int Count { get; private set; }
    public int Bytes => _frames.WrittenCount;

    public void AddText(ReadOnlySpan<byte> part1, ReadOnlySpan<byte> part2 = default, ReadOnlySpan<byte> part3 = default)
    {
        WebSocketFrame.Write(_frames, WebSocketFrame.Text, masked: true, socket.NextMaskKey(), part1, part2, part3);
        Count++;
    }

    public async ValueTask FlushAsync(CancellationToken cancellation)
    {
        if (_frames.WrittenCount == 0) return;
        try { await socket.SendFramesAsync(_frames.WrittenMemory, cancellation).ConfigureAwait(false); }
        finally { _frames.ResetWrittenCount(); Count = 0; }
    }
}
