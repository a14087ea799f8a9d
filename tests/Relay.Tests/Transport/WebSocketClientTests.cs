using System.Net.WebSockets;
using System.Text;
using Relay.Server.Transport;

namespace Relay.Tests.Transport;

/// <summary>Happy paths with the framework's own client, which follows RFC 6455 to the letter.</summary>
public class WebSocketClientTests
{
    internal static async Task<ClientWebSocket> ConnectAsync(int port)
    {
        var client = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TestTimeout.Value);
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"), timeout.Token);
        return client;
    }

    internal static async Task<(WebSocketMessageType Type, byte[] Data)> ReceiveMessageAsync(ClientWebSocket client)
    {
        using var timeout = new CancellationTokenSource(TestTimeout.Value);
        var buffer = new byte[16384];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await client.ReceiveAsync(buffer, timeout.Token);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
                return (result.MessageType, message.ToArray());
        }
    }

    internal static async Task<string> EchoAsync(ClientWebSocket client, string text)
    {
        await client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
        var (type, data) = await ReceiveMessageAsync(client);
        Assert.Equal(WebSocketMessageType.Text, type);
        return Encoding.UTF8.GetString(data);
    }

    [Fact]
    public async Task Text_message_is_echoed()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler);
        using var client = await ConnectAsync(listener.Port);

        Assert.Equal("[\"REQ\",\"sub\",{}]", await EchoAsync(client, "[\"REQ\",\"sub\",{}]"));
        Assert.Equal("ünïcødé ✓", await EchoAsync(client, "ünïcødé ✓"));
        Assert.Equal("", await EchoAsync(client, ""));
    }

    [Fact]
    public async Task Message_at_the_size_cap_is_echoed_whole()
    {
        await using var listener = TestServer.Start(new EchoHandler(), TestServer.Options(maxPayload: 131072));
        using var client = await ConnectAsync(listener.Port);
        var text = string.Create(131072, 0, (span, _) =>
        {
            for (int i = 0; i < span.Length; i++)
                span[i] = (char)('a' + i % 26);
        });

        Assert.Equal(text, await EchoAsync(client, text));
    }

    [Fact]
    public async Task Fragmented_message_is_reassembled()
    {
        await using var listener = TestServer.Start(new EchoHandler());
        using var client = await ConnectAsync(listener.Port);
        var whole = Encoding.UTF8.GetBytes("[\"EVENT\",{\"content\":\"héllo wörld\"}]");

        // Cut inside the two-byte "é" so that no fragment alone is valid UTF-8 at its edges.
        int cut = Array.IndexOf(whole, (byte)0xC3) + 1;
        await client.SendAsync(whole.AsMemory(0, 5), WebSocketMessageType.Text, false, CancellationToken.None);
        await client.SendAsync(whole.AsMemory(5, cut - 5), WebSocketMessageType.Text, false, CancellationToken.None);
        await client.SendAsync(whole.AsMemory(cut), WebSocketMessageType.Text, true, CancellationToken.None);

        var (_, echoed) = await ReceiveMessageAsync(client);
        Assert.Equal(whole, echoed);
    }

    [Fact]
    public async Task Client_close_is_echoed_and_the_handler_hears_it_once()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler);
        using var client = await ConnectAsync(listener.Port);
        var connection = await handler.NextOpenedAsync();
        Assert.Equal(1, listener.ConnectionCount);

        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        await handler.WhenClosed(connection);

        Assert.Equal(WebSocketState.Closed, client.State);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        Assert.True(connection.IsClosed);
        Assert.False(connection.SendText("late"u8));
        Assert.Equal(1, handler.CloseCounts[connection.Id]);
        Assert.Equal(0, listener.ConnectionCount);
    }

    [Fact]
    public async Task Server_close_reaches_the_client_with_code_and_reason()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler);
        using var client = await ConnectAsync(listener.Port);
        var connection = await handler.NextOpenedAsync();

        connection.Close(WsCloseStatus.PolicyViolation, "rate limited");
        using var timeout = new CancellationTokenSource(TestTimeout.Value);
        var result = await client.ReceiveAsync(new byte[256], timeout.Token);

        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, result.CloseStatus);
        Assert.Equal("rate limited", result.CloseStatusDescription);
        await client.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, "", CancellationToken.None);
        await handler.WhenClosed(connection);
        Assert.Equal(1, handler.CloseCounts[connection.Id]);
    }

    [Fact]
    public async Task Three_part_send_arrives_as_one_message()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler);
        using var client = await ConnectAsync(listener.Port);
        var connection = await handler.NextOpenedAsync();

        var stored = new string('x', 70_000);
        Assert.True(connection.SendText("[\"EVENT\",\"sub\","u8, Encoding.UTF8.GetBytes("{\"c\":\"" + stored + "\"}"), "]"u8));

        var (type, data) = await ReceiveMessageAsync(client);
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Equal("[\"EVENT\",\"sub\",{\"c\":\"" + stored + "\"}]", Encoding.UTF8.GetString(data));
    }

    [Fact]
    public async Task Many_concurrent_connections_are_served()
    {
        const int count = 200;
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler);

        var clients = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => ConnectAsync(listener.Port)));
        var echoes = await Task.WhenAll(clients.Select((c, i) => EchoAsync(c, "hello " + i)));
        for (int i = 0; i < count; i++)
            Assert.Equal("hello " + i, echoes[i]);
        Assert.Equal(count, listener.ConnectionCount);

        await Task.WhenAll(clients.Select(c => c.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None)));
        var ids = new List<long>();
        while (handler.Opened.Reader.TryRead(out var connection))
        {
            ids.Add(connection.Id);
            await handler.WhenClosed(connection);
        }

        Assert.Equal(count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Equal(1, handler.CloseCounts[id]));
        Assert.Equal(0, listener.ConnectionCount);
        foreach (var client in clients)
            client.Dispose();
    }

    [Fact]
    public async Task Disposing_the_listener_closes_open_connections_with_1001()
    {
        var handler = new EchoHandler();
        var listener = TestServer.Start(handler);
        using var client = await ConnectAsync(listener.Port);
        var connection = await handler.NextOpenedAsync();

        var receive = client.ReceiveAsync(new byte[256], CancellationToken.None);
        var dispose = listener.DisposeAsync().AsTask();
        var result = await receive.WaitAsync(TestTimeout.Value);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, result.CloseStatus);
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);

        await dispose.WaitAsync(TestTimeout.Value);
        Assert.Equal(1, handler.CloseCounts[connection.Id]);
    }
    [Fact]
    public async Task Concurrent_senders_never_interleave_frames()
    {
        const int threads = 8, perThread = 500;
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler);
        using var client = await ConnectAsync(listener.Port);
        var connection = await handler.NextOpenedAsync();

        var senders = Enumerable.Range(0, threads).Select(t => Task.Run(() =>
        {
            var filler = new string((char)('a' + t), 300 + t * 50);
            for (int i = 0; i < perThread; i++)
                Assert.True(connection.SendText(Encoding.UTF8.GetBytes($"{t}:{i}:{filler}")));
        })).ToArray();

        var next = new int[threads];
        for (int n = 0; n < threads * perThread; n++)
        {
            var (_, data) = await ReceiveMessageAsync(client);
            var parts = Encoding.UTF8.GetString(data).Split(':');
            int t = int.Parse(parts[0]);
            Assert.Equal(next[t]++, int.Parse(parts[1]));
            Assert.Equal(new string((char)('a' + t), 300 + t * 50), parts[2]);
        }
        await Task.WhenAll(senders);
        Assert.All(next, count => Assert.Equal(perThread, count));
    }

    [Fact]
    public async Task Client_that_vanishes_without_a_close_frame_is_reported_closed_once()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler);
        var client = await RawClient.OpenAsync(listener.Port);
        var connection = await handler.NextOpenedAsync();

        await client.DisposeAsync();
        await handler.WhenClosed(connection);

        Assert.True(connection.IsClosed);
        Assert.False(connection.SendText("gone"u8));
        Assert.Equal(1, handler.CloseCounts[connection.Id]);
        Assert.Equal(0, listener.ConnectionCount);
    }
}
