using System.Text;
using Relay.Server.Transport;

namespace Relay.Tests.Transport;

/// <summary>What a misbehaving client sees, byte for byte, on a raw socket.</summary>
public class WebSocketProtocolTests
{
    private static async Task AssertClosedWithAsync(RawClient client, EchoHandler handler, int expectedCode)
    {
        var connection = await handler.NextOpenedAsync();
        var (code, _) = await client.ReadCloseAsync();
        Assert.Equal(expectedCode, code);
        Assert.True(await client.ServerClosesAsync());
        // The server waits for our hang-up (so its close frame cannot be lost to a reset); give it.
        await client.DisposeAsync();
        await handler.WhenClosed(connection);
        Assert.Equal(1, handler.CloseCounts[connection.Id]);
    }

    [Fact]
    public async Task Unmasked_client_frame_is_closed_with_1002()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler);
        await using var client = await RawClient.OpenAsync(listener.Port);

        await client.SendFrameAsync(0x81, "hello"u8.ToArray(), masked: false);

        await AssertClosedWithAsync(client, handler, 1002);
    }

    [Theory]
    [InlineData(0xC1)] // RSV1 without an extension
    [InlineData(0x83)] // reserved data opcode
    [InlineData(0x8C)] // reserved control opcode
    [InlineData(0x80)] // continuation with nothing to continue
    [InlineData(0x09)] // fragmented ping
    public async Task Frame_breaking_the_rules_is_closed_with_1002(byte firstByte)
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler);
        await using var client = await RawClient.OpenAsync(listener.Port);

        await client.SendFrameAsync(firstByte, "x"u8.ToArray());

        await AssertClosedWithAsync(client, handler, 1002);
    }

    [Fact]
    public async Task Control_frame_over_125_bytes_is_closed_with_1002()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler);
        await using var client = await RawClient.OpenAsync(listener.Port);

        await client.SendFrameAsync(0x89, new byte[126]);

        await AssertClosedWithAsync(client, handler, 1002);
    }

    [Fact]
    public async Task New_message_inside_a_fragmented_one_is_closed_with_1002()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler);
        await using var client = await RawClient.OpenAsync(listener.Port);

        await client.SendFrameAsync(0x01, "part"u8.ToArray());
        await client.SendFrameAsync(0x81, "new"u8.ToArray());

        await AssertClosedWithAsync(client, handler, 1002);
    }

    [Fact]
    public async Task Oversized_frame_is_closed_with_1009_before_its_payload_arrives()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler, TestServer.Options(maxPayload: 1000));
        await using var client = await RawClient.OpenAsync(listener.Port);

        // Only the header: a server that waited for the payload before checking would hang here.
        await client.SendFrameAsync(0x81, [], declaredLength: 50_000_000);

        await AssertClosedWithAsync(client, handler, 1009);
    }

    [Fact]
    public async Task Fragments_adding_up_past_the_cap_are_closed_with_1009()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler, TestServer.Options(maxPayload: 1000));
        await using var client = await RawClient.OpenAsync(listener.Port);

        await client.SendFrameAsync(0x01, new byte[600]);
        await client.SendFrameAsync(0x80, new byte[600]);

        await AssertClosedWithAsync(client, handler, 1009);
    }

    [Fact]
    public async Task Invalid_utf8_is_closed_with_1007()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler);
        await using var client = await RawClient.OpenAsync(listener.Port);

        await client.SendFrameAsync(0x81, [0x5B, 0x22, 0xC3, 0x28, 0x22, 0x5D]);

        await AssertClosedWithAsync(client, handler, 1007);
    }

    [Fact]
    public async Task Binary_message_is_closed_with_1003()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler);
        await using var client = await RawClient.OpenAsync(listener.Port);

        await client.SendFrameAsync(0x82, [1, 2, 3]);

        await AssertClosedWithAsync(client, handler, 1003);
    }

    [Fact]
    public async Task Ping_is_answered_with_a_pong_carrying_the_same_payload()
    {
        await using var listener = TestServer.Start(new EchoHandler());
        await using var client = await RawClient.OpenAsync(listener.Port);

        await client.SendFrameAsync(0x89, "are you there"u8.ToArray());
        var (firstByte, payload) = await client.ReadFrameAsync();

        Assert.Equal(0x8A, firstByte);
        Assert.Equal("are you there", Encoding.UTF8.GetString(payload));
    }

    [Fact]
    public async Task Client_close_code_is_echoed_then_the_server_hangs_up()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler);
        await using var client = await RawClient.OpenAsync(listener.Port);

        await client.SendFrameAsync(0x88, [0x0F, 0xA1, (byte)'b', (byte)'y', (byte)'e']); // 4001 "bye"

        await AssertClosedWithAsync(client, handler, 4001);
    }

    [Fact]
    public async Task Frames_pipelined_behind_the_upgrade_request_are_processed()
    {
        await using var listener = TestServer.Start(new EchoHandler());
        await using var client = await RawClient.ConnectAsync(listener.Port);
        var request = Encoding.ASCII.GetBytes(RawClient.UpgradeRequest());

        await client.SendAsync([.. request, .. RawClient.EncodeFrame(0x81, "early"u8.ToArray())]);
        string head = await client.ReadHeadAsync();
        var (firstByte, payload) = await client.ReadFrameAsync();

        Assert.StartsWith("HTTP/1.1 101", head);
        Assert.Equal(0x81, firstByte);
        Assert.Equal("early", Encoding.UTF8.GetString(payload));
    }

    [Fact]
    public async Task Frames_split_into_single_bytes_are_reassembled()
    {
        await using var listener = TestServer.Start(new EchoHandler());
        await using var client = await RawClient.OpenAsync(listener.Port);
        client.Socket.NoDelay = true;
        var frame = RawClient.EncodeFrame(0x81, Encoding.UTF8.GetBytes("[\"CLOSE\",\"sub-ü\"]"));

        foreach (byte b in frame)
            await client.SendAsync([b]);
        var (_, payload) = await client.ReadFrameAsync();

        Assert.Equal("[\"CLOSE\",\"sub-ü\"]", Encoding.UTF8.GetString(payload));
    }

    [Fact]
    public async Task Handler_exception_closes_with_1011_and_is_reported()
    {
        var errors = new List<Exception>();
        var handler = new ThrowingHandler();
        var options = new ListenerOptions { Port = 0, AutoPingSeconds = 0, OnError = e => { lock (errors) errors.Add(e); } };
        await using var listener = TestServer.Start(handler, options);
        await using var client = await RawClient.OpenAsync(listener.Port);

        await client.SendTextAsync("anything");
        var (code, _) = await client.ReadCloseAsync();
        await client.SendFrameAsync(0x88, [0x03, 0xF3]);

        Assert.Equal(1011, code);
        Assert.True(await client.ServerClosesAsync());
        await handler.Closed.Task.WaitAsync(TestTimeout.Value);
        lock (errors)
            Assert.Contains(errors, e => e.Message == "handler bug");
    }

    [Fact]
    public async Task Server_pings_and_drops_a_client_that_stays_silent()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler, TestServer.Options(autoPingSeconds: 1));
        await using var silent = await RawClient.OpenAsync(listener.Port);
        await using var lively = await RawClient.OpenAsync(listener.Port);

        // The lively client answers three ping rounds; the silent one must be gone by then.
        for (int round = 0; round < 3; round++)
        {
            var (firstByte, payload) = await lively.ReadFrameAsync();
            Assert.Equal(0x89, firstByte);
            await lively.SendFrameAsync(0x8A, payload);
        }
        var (silentFirst, _) = await silent.ReadFrameAsync();

        Assert.Equal(0x89, silentFirst);
        Assert.True(await silent.ServerClosesAsync());
        await lively.SendTextAsync("still here");
        var (_, echoed) = await lively.ReadFrameAsync();
        Assert.Equal("still here", Encoding.UTF8.GetString(echoed));
    }

    private sealed class ThrowingHandler : IWebSocketHandler
    {
        public TaskCompletionSource Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnOpen(WsConnection connection)
        {
        }

        public ValueTask OnTextMessage(WsConnection connection, ReadOnlySpan<byte> utf8) => throw new InvalidOperationException("handler bug");

        public void OnClose(WsConnection connection) => Closed.TrySetResult();
    }
}
