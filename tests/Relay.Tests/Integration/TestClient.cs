using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Relay.Tests.Integration;

/// <summary>A Nostr client over ClientWebSocket that reads relay messages as JSON arrays.</summary>
public sealed class TestClient : IAsyncDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);
    private readonly ClientWebSocket _ws;
    // A pump owns the socket's receive side, so waiting for a message with a timeout never cancels a
    // socket read (ClientWebSocket aborts the connection when a pending receive is cancelled).
    private readonly System.Threading.Channels.Channel<JsonElement[]?> _messages =
        System.Threading.Channels.Channel.CreateUnbounded<JsonElement[]?>();
    private readonly Task _pump;

    private TestClient(ClientWebSocket ws)
    {
        _ws = ws;
        _pump = Task.Run(PumpAsync);
    }

    public WebSocketState State => _ws.State;

    public static async Task<TestClient> ConnectAsync(Uri url)
    {
        var ws = new ClientWebSocket();
        using var cts = new CancellationTokenSource(s_timeout);
        await ws.ConnectAsync(url, cts.Token);
        return new TestClient(ws);
    }

    private async Task PumpAsync()
    {
        var buffer = new byte[1 << 20];
        try
        {
            while (true)
            {
                int total = 0;
                ValueWebSocketReceiveResult r;
                do
                {
                    if (total == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                    r = await _ws.ReceiveAsync(buffer.AsMemory(total), CancellationToken.None);
                    if (r.MessageType == WebSocketMessageType.Close) return;
                    total += r.Count;
                }
                while (!r.EndOfMessage);
                using var doc = JsonDocument.Parse(buffer.AsMemory(0, total));
                var items = new List<JsonElement>();
                foreach (var e in doc.RootElement.EnumerateArray()) items.Add(e.Clone());
                _messages.Writer.TryWrite(items.ToArray());
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            // null = the connection is closed.
            _messages.Writer.TryWrite(null);
            _messages.Writer.TryComplete();
        }
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] utf8)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await _ws.SendAsync(utf8, WebSocketMessageType.Text, true, cts.Token);
    }

    /// <summary>Next relay message, or null when the connection closed. Throws OperationCanceledException on timeout.</summary>
    public async Task<JsonElement[]?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? s_timeout);
        try
        {
            var m = await _messages.Reader.ReadAsync(cts.Token);
            // Keep reporting "closed" to later readers.
            if (m is null) _messages.Writer.TryWrite(null);
            return m;
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>True when no message arrives within the window; the connection stays usable.</summary>
    public async Task<bool> IsSilentAsync(TimeSpan window)
    {
        try
        {
            var m = await ReceiveAsync(window);
            return m is null;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    public async Task<JsonElement[]> ExpectAsync(string verb)
    {
        var m = await ReceiveAsync() ?? throw new Xunit.Sdk.XunitException($"connection closed while waiting for {verb}");
        Assert.True(m[0].GetString() == verb, $"expected {verb}, got {JsonSerializer.Serialize(m)}");
        return m;
    }

    /// <summary>Publishes and returns (accepted, message) from the OK.</summary>
    public async Task<(bool Accepted, string Message)> PublishAsync(TestEvent ev)
    {
        await SendAsync($"[\"EVENT\",{ev.Json}]");
        var ok = await ExpectAsync("OK");
        Assert.Equal(ev.Id, ok[1].GetString());
        return (ok[2].GetBoolean(), ok[3].GetString()!);
    }

    /// <summary>Sends a REQ, collects the stored events up to EOSE, then CLOSEs the subscription.</summary>
    public async Task<List<JsonElement>> QueryAsync(string subId, params string[] filters)
    {
        var events = await SubscribeAsync(subId, filters);
        await SendAsync($"[\"CLOSE\",\"{subId}\"]");
        return events;
    }

    /// <summary>Sends a REQ and collects the stored events up to EOSE; the subscription stays open.</summary>
    public async Task<List<JsonElement>> SubscribeAsync(string subId, params string[] filters)
    {
        await SendAsync($"[\"REQ\",\"{subId}\",{string.Join(',', filters)}]");
        var events = new List<JsonElement>();
        while (true)
        {
            var m = await ReceiveAsync() ?? throw new Xunit.Sdk.XunitException("closed during query");
            string verb = m[0].GetString()!;
            if (verb == "EOSE") { Assert.Equal(subId, m[1].GetString()); return events; }
            if (verb == "CLOSED") throw new Xunit.Sdk.XunitException("REQ closed: " + m[2].GetString());
            Assert.Equal("EVENT", verb);
            Assert.Equal(subId, m[1].GetString());
            events.Add(m[2]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_ws.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
        _ws.Dispose();
        await _pump;
    }
}
