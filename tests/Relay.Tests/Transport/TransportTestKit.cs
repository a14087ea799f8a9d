using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Relay.Server.Transport;

namespace Relay.Tests.Transport;

/// <summary>Echoes every text message and records the connection lifecycle for assertions.</summary>
internal sealed class EchoHandler : IWebSocketHandler
{
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _closed = new();

    public ConcurrentDictionary<long, int> CloseCounts { get; } = new();
    public Channel<WsConnection> Opened { get; } = Channel.CreateUnbounded<WsConnection>();

    public void OnOpen(WsConnection connection)
    {
        Closed(connection.Id);
        Opened.Writer.TryWrite(connection);
    }

    public ValueTask OnTextMessage(WsConnection connection, ReadOnlySpan<byte> utf8)
    {
        connection.SendText(utf8);
        return default;
    }

    public void OnClose(WsConnection connection)
    {
        CloseCounts.AddOrUpdate(connection.Id, 1, (_, n) => n + 1);
        Closed(connection.Id).TrySetResult();
    }

    public Task WhenClosed(WsConnection connection) => Closed(connection.Id).Task.WaitAsync(TestTimeout.Value);

    public async Task<WsConnection> NextOpenedAsync() => await Opened.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout.Value);

    private TaskCompletionSource Closed(long id) =>
        _closed.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}

internal static class TestTimeout
{
    /// <summary>Only a guard against hangs; no test asserts on durations.</summary>
    public static readonly TimeSpan Value = TimeSpan.FromSeconds(15);
}

internal static class TestServer
{
    public static WebSocketListener Start(IWebSocketHandler handler, ListenerOptions? options = null)
    {
        var listener = new WebSocketListener(options ?? Options(), handler);
        listener.Start();
        return listener;
    }

    public static ListenerOptions Options(int maxPayload = 131072, long maxPending = 33554432, int autoPingSeconds = 0) => new()
    {
        Port = 0,
        MaxWebsocketPayloadSize = maxPayload,
        MaxPendingOutboundBytes = maxPending,
        AutoPingSeconds = autoPingSeconds,
    };
}

/// <summary>A deliberately dumb client on a raw socket, able to break every rule the server checks.</summary>
internal sealed class RawClient : IAsyncDisposable
{
    public const string SampleKey = "dGhlIHNhbXBsZSBub25jZQ==";
    public const string SampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    private readonly Socket _socket;
    private readonly List<byte> _pending = new();
    private readonly CancellationTokenSource _timeout = new(TestTimeout.Value);

    private RawClient(Socket socket) => _socket = socket;

    public Socket Socket => _socket;

    public static async Task<RawClient> ConnectAsync(int port, int? receiveBufferSize = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (receiveBufferSize is { } size)
            socket.ReceiveBufferSize = size;
        await socket.ConnectAsync("127.0.0.1", port);
        return new RawClient(socket);
    }

    /// <summary>Connects and completes a valid upgrade; throws if the server does not answer 101.</summary>
    public static async Task<RawClient> OpenAsync(int port, int? receiveBufferSize = null)
    {
        var client = await ConnectAsync(port, receiveBufferSize);
        var head = await client.RequestAsync(UpgradeRequest());
        if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
            throw new InvalidOperationException("upgrade refused: " + head);
        return client;
    }

    public static string UpgradeRequest(string extraHeaders = "", string key = SampleKey, string version = "13") =>
        "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
        $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n{extraHeaders}\r\n";

    public async Task SendAsync(byte[] bytes) => await _socket.SendAsync(bytes, SocketFlags.None, _timeout.Token);

    public Task SendAsync(string ascii) => SendAsync(Encoding.ASCII.GetBytes(ascii));

    /// <summary>Sends a request and returns the response head (status line and headers).</summary>
    public async Task<string> RequestAsync(string request)
    {
        await SendAsync(request);
        return await ReadHeadAsync();
    }

    public async Task<string> ReadHeadAsync()
    {
        while (true)
        {
            int end = IndexOf(_pending, "\r\n\r\n"u8.ToArray());
            if (end >= 0)
            {
                string head = Encoding.ASCII.GetString(_pending.GetRange(0, end).ToArray());
                _pending.RemoveRange(0, end + 4);
                return head;
            }
            if (!await FillAsync())
                throw new EndOfStreamException("connection closed before the response head; got: " + Encoding.ASCII.GetString(_pending.ToArray()));
        }
    }

    /// <summary>Everything until the server closes the connection.</summary>
    public async Task<byte[]> ReadToEndAsync()
    {
        while (await FillAsync())
        {
        }
        var all = _pending.ToArray();
        _pending.Clear();
        return all;
    }

    /// <summary>A client frame; masked unless told otherwise. firstByte holds FIN, RSV and the opcode.</summary>
    public Task SendFrameAsync(byte firstByte, byte[] payload, bool masked = true, long? declaredLength = null) =>
        SendAsync(EncodeFrame(firstByte, payload, masked, declaredLength));

    public Task SendTextAsync(string text) => SendFrameAsync(0x81, Encoding.UTF8.GetBytes(text));

    public async Task<(byte FirstByte, byte[] Payload)> ReadFrameAsync()
    {
        await EnsureAsync(2);
        byte b0 = _pending[0], b1 = _pending[1];
        if ((b1 & 0x80) != 0)
            throw new InvalidDataException("server frames must not be masked");
        int length7 = b1 & 0x7F;
        int headerLength = length7 == 126 ? 4 : length7 == 127 ? 10 : 2;
        await EnsureAsync(headerLength);
        long length = length7;
        if (length7 == 126)
            length = (_pending[2] << 8) | _pending[3];
        else if (length7 == 127)
        {
            length = 0;
            for (int i = 2; i < 10; i++)
                length = (length << 8) | _pending[i];
        }
        await EnsureAsync(headerLength + (int)length);
        var payload = _pending.GetRange(headerLength, (int)length).ToArray();
        _pending.RemoveRange(0, headerLength + (int)length);
        return (b0, payload);
    }

    /// <summary>Reads frames until a close frame; returns its status code (0 if none) and reason.</summary>
    public async Task<(int Code, string Reason)> ReadCloseAsync()
    {
        while (true)
        {
            var (b0, payload) = await ReadFrameAsync();
            if ((b0 & 0x0F) != 0x8)
                continue;
            if (payload.Length < 2)
                return (0, "");
            return ((payload[0] << 8) | payload[1], Encoding.UTF8.GetString(payload, 2, payload.Length - 2));
        }
    }

    /// <summary>True when the server closes the TCP connection (EOF or reset) after whatever it still sends.</summary>
    public async Task<bool> ServerClosesAsync()
    {
        try
        {
            await ReadToEndAsync();
            return true;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    public static byte[] EncodeFrame(byte firstByte, byte[] payload, bool masked = true, long? declaredLength = null)
    {
        long length = declaredLength ?? payload.Length;
        var frame = new List<byte> { firstByte };
        byte maskBit = masked ? (byte)0x80 : (byte)0;
        if (length < 126)
        {
            frame.Add((byte)(maskBit | length));
        }
        else if (length <= 0xFFFF)
        {
            frame.Add((byte)(maskBit | 126));
            frame.Add((byte)(length >> 8));
            frame.Add((byte)length);
        }
        else
        {
            frame.Add((byte)(maskBit | 127));
            for (int shift = 56; shift >= 0; shift -= 8)
                frame.Add((byte)(length >> shift));
        }
        if (!masked)
        {
            frame.AddRange(payload);
            return frame.ToArray();
        }
        byte[] key = [0x37, 0xFA, 0x21, 0x3D];
        frame.AddRange(key);
        for (int i = 0; i < payload.Length; i++)
            frame.Add((byte)(payload[i] ^ key[i % 4]));
        return frame.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        _timeout.Dispose();
        await Task.CompletedTask;
    }

    private async Task EnsureAsync(int count)
    {
        while (_pending.Count < count)
        {
            if (!await FillAsync())
                throw new EndOfStreamException($"connection closed; wanted {count} bytes, had {_pending.Count}");
        }
    }

    private async Task<bool> FillAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(65536);
        try
        {
            int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, _timeout.Token);
            if (n == 0)
                return false;
            _pending.AddRange(buffer.AsSpan(0, n));
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static int IndexOf(List<byte> haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Count; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j])
                j++;
            if (j == needle.Length)
                return i;
        }
        return -1;
    }
}

/// <summary>Builds a ReadOnlySequence from separate arrays, as a pipe would hand over received segments.</summary>
internal sealed class TestSegment : ReadOnlySequenceSegment<byte>
{
    private TestSegment(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Sequence(params ReadOnlyMemory<byte>[] parts)
    {
        var first = new TestSegment(parts[0], 0);
        var last = first;
        for (int i = 1; i < parts.Length; i++)
        {
            var next = new TestSegment(parts[i], last.RunningIndex + last.Memory.Length);
            last.Next = next;
            last = next;
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Cuts the bytes at the given offsets into segments that still share the array.</summary>
    public static ReadOnlySequence<byte> Split(byte[] bytes, params int[] cuts)
    {
        var parts = new List<ReadOnlyMemory<byte>>();
        int start = 0;
        foreach (int cut in cuts)
        {
            parts.Add(bytes.AsMemory(start, cut - start));
            start = cut;
        }
        parts.Add(bytes.AsMemory(start));
        return Sequence(parts.ToArray());
    }
}
