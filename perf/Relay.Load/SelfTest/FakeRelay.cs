using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Relay.Load.Protocol;
using Relay.Load.WebSockets;

namespace Relay.Load.SelfTest;

/// <summary>
/// A throwaway relay for the self-test, on 127.0.0.1:0. It answers OK for each EVENT (true, or
/// <c>duplicate:</c> for a repeat, or <c>blocked:</c> for ids ending in "0"), two stored events plus
/// EOSE for each REQ, and forwards EVENTs to live subscriptions that ask for one of its t tags.
/// It also sends pings and fragments every other EOSE, to exercise the client's framing.
/// </summary>
public sealed class FakeRelay : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly HashSet<string> _seenIds = new(StringComparer.Ordinal);
    private readonly List<byte[]> _stored = [];
    private readonly List<(Session Session, string SubId, string Tag)> _live = [];
    private readonly List<Task> _sessions = [];
    private readonly Task _acceptLoop;
    private long _pongs, _eoseCount;

    public FakeRelay()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(4096);
        Url = new Uri($"ws://127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}/");
        _acceptLoop = AcceptLoopAsync();
    }

    public Uri Url { get; }
    public System.Collections.Concurrent.ConcurrentQueue<string> Errors { get; } = new();
    public long Pongs => Interlocked.Read(ref _pongs);
    public int Sessions { get { lock (_lock) return _sessions.Count; } }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                Socket client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
                client.NoDelay = true;
                var session = new Session(client);
                lock (_lock) _sessions.Add(Task.Run(() => RunSessionAsync(session)));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private async Task RunSessionAsync(Session session)
    {
        byte[] buffer = new byte[64 * 1024];
        int end = 0;
        try
        {
            int headerEnd;
            while ((headerEnd = buffer.AsSpan(0, end).IndexOf("\r\n\r\n"u8)) < 0)
            {
                int n = await session.Socket.ReceiveAsync(buffer.AsMemory(end), _stop.Token).ConfigureAwait(false);
                if (n == 0) return;
                end += n;
            }
            string key = "";
            foreach (string line in Encoding.ASCII.GetString(buffer, 0, headerEnd).Split("\r\n"))
                if (line.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase)) key = line[18..].Trim();
            session.SendRaw(Encoding.ASCII.GetBytes(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                $"Sec-WebSocket-Accept: {NostrWebSocket.AcceptFor(key)}\r\n\r\n"));
            int start = headerEnd + 4;

            while (true)
            {
                while (WebSocketFrame.TryReadHeader(buffer.AsSpan(start, end - start), out FrameHeader header)
                       && end - start >= header.HeaderLength + header.PayloadLength)
                {
                    var payload = buffer.AsSpan(start + header.HeaderLength, (int)header.PayloadLength);
                    if (!header.Masked) return; // RFC 6455: a server must fail an unmasked client frame
                    WebSocketFrame.ApplyMask(payload, header.MaskKey);
                    start += header.HeaderLength + (int)header.PayloadLength;
                    if (header.Opcode == WebSocketFrame.Close) { session.Send(WebSocketFrame.Close, []); return; }
                    if (header.Opcode == WebSocketFrame.Pong) Interlocked.Increment(ref _pongs);
                    if (header.Opcode == WebSocketFrame.Text) Handle(session, payload);
                }
                if (start > 0) { Buffer.BlockCopy(buffer, start, buffer, 0, end - start); end -= start; start = 0; }
                if (end == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                int read = await session.Socket.ReceiveAsync(buffer.AsMemory(end), _stop.Token).ConfigureAwait(false);
                if (read == 0) return;
                end += read;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
        catch (Exception e)
        {
            // Anything else is a bug in the fake relay or a malformed client message: surface it.
            Errors.Enqueue(e.GetType().Name + ": " + e.Message);
        }
        finally
        {
            lock (_lock) _live.RemoveAll(l => l.Session == session);
            session.Socket.Dispose();
        }
    }

    private void Handle(Session session, ReadOnlySpan<byte> message)
    {
        var reader = new Utf8JsonReader(message);
        reader.Read();
        reader.Read();
        if (reader.ValueTextEquals("EVENT"u8))
        {
            reader.Read();
            int startIndex = (int)reader.TokenStartIndex;
            reader.Skip();
            byte[] json = message[startIndex..(int)reader.BytesConsumed].ToArray();
            string id = ReadStringField(json, "id"u8);
            string verdict;
            bool accepted;
            List<(Session, string)> targets = [];
            lock (_lock)
            {
                EventFields.TryGetTagValue(json, "t"u8, out ReadOnlySpan<byte> tag);
                bool probe = tag.StartsWith("relay-load-fanout"u8);
                if (!_seenIds.Add(id)) { accepted = true; verdict = "duplicate: have this event"; }
                else if (id.EndsWith('0') && !probe) { accepted = false; verdict = "blocked: selftest rejects ids ending in 0"; }
                else
                {
                    accepted = true;
                    verdict = "";
                    _stored.Add(json);
                    foreach (var live in _live)
                        if (!tag.IsEmpty && tag.SequenceEqual(Encoding.UTF8.GetBytes(live.Tag))) targets.Add((live.Session, live.SubId));
                }
            }
            if (session.NextPing()) session.Send(WebSocketFrame.Ping, "ping"u8);
            session.SendText($"[\"OK\",\"{id}\",{(accepted ? "true" : "false")},\"{verdict}\"]");
            foreach ((Session target, string subId) in targets)
                target.SendText(Encoding.UTF8.GetBytes($"[\"EVENT\",\"{subId}\",").Concat(json).Concat("]"u8.ToArray()).ToArray());
        }
        else if (reader.ValueTextEquals("REQ"u8))
        {
            reader.Read();
            string subId = reader.GetString()!;
            reader.Read();
            int filterStart = (int)reader.TokenStartIndex;
            reader.Skip();
            byte[] filter = message[filterStart..(int)reader.BytesConsumed].ToArray();
            string? liveTag = null;
            using (var doc = JsonDocument.Parse(filter))
                if (doc.RootElement.TryGetProperty("#t", out JsonElement t) && t.GetArrayLength() > 0
                    && t[0].GetString() is { } value && value.StartsWith("relay-load-fanout", StringComparison.Ordinal)) liveTag = value;
            List<byte[]> replay;
            lock (_lock)
            {
                replay = liveTag is null ? _stored.Take(2).ToList() : [];
                if (liveTag is not null) _live.Add((session, subId, liveTag));
            }
            foreach (byte[] json in replay)
                session.SendText(Encoding.UTF8.GetBytes($"[\"EVENT\",\"{subId}\",").Concat(json).Concat("]"u8.ToArray()).ToArray());
            byte[] eose = Encoding.UTF8.GetBytes($"[\"EOSE\",\"{subId}\"]");
            if (Interlocked.Increment(ref _eoseCount) % 2 == 0) session.SendFragmented(eose);
            else session.SendText(eose);
        }
        else if (reader.ValueTextEquals("CLOSE"u8))
        {
            reader.Read();
            string subId = reader.GetString()!;
            lock (_lock) _live.RemoveAll(l => l.Session == session && l.SubId == subId);
        }
    }

    private static string ReadStringField(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool match = reader.ValueTextEquals(name);
            reader.Read();
            if (match) return reader.GetString() ?? "";
            reader.Skip();
        }
        return "";
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        Task[] sessions;
        lock (_lock) sessions = _sessions.ToArray();
        await Task.WhenAny(Task.WhenAll(sessions), Task.Delay(5000)).ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>One accepted client; sends are synchronous under a lock (other sessions forward into it).</summary>
    private sealed class Session(Socket socket)
    {
        private readonly Lock _sendLock = new();
        private int _messages;

        public Socket Socket { get; } = socket;

        public bool NextPing() => Interlocked.Increment(ref _messages) % 50 == 1;

        public void SendText(string text) => Send(WebSocketFrame.Text, Encoding.UTF8.GetBytes(text));
        public void SendText(byte[] text) => Send(WebSocketFrame.Text, text);

        public void Send(byte opcode, ReadOnlySpan<byte> payload)
        {
            var frame = new ArrayBufferWriter<byte>(payload.Length + 10);
            WebSocketFrame.Write(frame, opcode, masked: false, 0, payload);
            SendRaw(frame.WrittenSpan);
        }

        /// <summary>The message as a text frame without FIN followed by a continuation frame.</summary>
        public void SendFragmented(byte[] text)
        {
            var frames = new ArrayBufferWriter<byte>(text.Length + 20);
            int half = text.Length / 2;
            WebSocketFrame.Write(frames, WebSocketFrame.Text, masked: false, 0, text.AsSpan(0, half), fin: false);
            WebSocketFrame.Write(frames, WebSocketFrame.Continuation, masked: false, 0, text.AsSpan(half), fin: true);
            SendRaw(frames.WrittenSpan);
        }

        public void SendRaw(ReadOnlySpan<byte> bytes)
        {
            lock (_sendLock)
            {
                try
                {
                    while (!bytes.IsEmpty)
                    {
                        int n = Socket.Send(bytes);
                        bytes = bytes[n..];
                    }
                }
                // A subscriber that went away must not take the publisher's session down with it.
                catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
            }
        }
    }
}
