using System.Net.WebSockets;
using Relay.Server.Transport;

namespace Relay.Tests.Transport;

public class BackpressureTests
{
    [Fact]
    public async Task Client_that_never_reads_is_dropped_at_the_cap_while_others_are_served()
    {
        const long cap = 1024 * 1024;
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler, TestServer.Options(maxPending: cap));
        using var reader = await WebSocketClientTests.ConnectAsync(listener.Port);
        var readerConnection = await handler.NextOpenedAsync();
        await using var stalled = await RawClient.OpenAsync(listener.Port, receiveBufferSize: 4096);
        var stalledConnection = await handler.NextOpenedAsync();
        long terminationsBefore = WebSocketListener.SlowClientTerminations;

        // Far more than socket buffers plus the cap can hold: SendText must refuse at some point,
        // and each call must return at once (a blocking one would hang this loop).
        var payload = new byte[64 * 1024];
        payload.AsSpan().Fill((byte)'x');
        int accepted = 0;
        bool refused = false;
        for (int i = 0; i < 4096 && !refused; i++)
        {
            if (stalledConnection.SendText(payload))
                accepted++;
            else
                refused = true;
            Assert.True(stalledConnection.PendingOutboundBytes <= cap);
        }

        Assert.True(refused, $"still accepting after {accepted} messages");
        Assert.True(stalledConnection.IsClosed);
        Assert.False(stalledConnection.SendText("more"u8));
        Assert.True(WebSocketListener.SlowClientTerminations > terminationsBefore);
        await handler.WhenClosed(stalledConnection);
        Assert.Equal(1, handler.CloseCounts[stalledConnection.Id]);

        Assert.Equal("still served", await WebSocketClientTests.EchoAsync(reader, "still served"));
        Assert.False(readerConnection.IsClosed);
        using var newcomer = await WebSocketClientTests.ConnectAsync(listener.Port);
        Assert.Equal("welcome", await WebSocketClientTests.EchoAsync(newcomer, "welcome"));
    }

    [Fact]
    public async Task Reading_client_receives_megabytes_without_being_dropped()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler, TestServer.Options(maxPending: 8 * 1024 * 1024));
        using var client = await WebSocketClientTests.ConnectAsync(listener.Port);
        var connection = await handler.NextOpenedAsync();
        var payload = new byte[100_000];
        payload.AsSpan().Fill((byte)'y');

        // 4 MB in total stays under the cap even if nothing has been sent yet, so all must arrive.
        const int messages = 40;
        for (int i = 0; i < messages; i++)
            Assert.True(connection.SendText(payload));
        for (int i = 0; i < messages; i++)
        {
            var (type, data) = await WebSocketClientTests.ReceiveMessageAsync(client);
            Assert.Equal(WebSocketMessageType.Text, type);
            Assert.Equal(payload.Length, data.Length);
        }

        Assert.False(connection.IsClosed);
        // The count drops when the kernel takes the bytes, which may be just after the client saw them.
        Assert.True(SpinWait.SpinUntil(() => connection.PendingOutboundBytes == 0, TestTimeout.Value));
    }

    [Fact]
    public async Task Sending_a_text_frame_allocates_nothing_once_warm()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler);
        using var client = await WebSocketClientTests.ConnectAsync(listener.Port);
        var connection = await handler.NextOpenedAsync();
        var drain = Task.Run(async () =>
        {
            var buffer = new byte[65536];
            while (client.State == WebSocketState.Open)
                await client.ReceiveAsync(buffer, CancellationToken.None);
        });
        var prefix = "[\"EVENT\",\"sub\","u8.ToArray();
        var body = new byte[400];
        body.AsSpan().Fill((byte)'z');
        var suffix = "]"u8.ToArray();

        // Bursts with a drained pipe in between: the pool then holds all the blocks a burst needs.
        Func<bool> drained = () => connection.PendingOutboundBytes == 0;
        void Burst()
        {
            for (int i = 0; i < 50; i++)
                connection.SendText(prefix, body, suffix);
            SpinWait.SpinUntil(drained, TestTimeout.Value);
        }
        for (int round = 0; round < 50; round++)
            Burst();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 50; round++)
            Burst();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        await handler.WhenClosed(connection);
        await drain.WaitAsync(TestTimeout.Value).ContinueWith(_ => { });
    }
}
