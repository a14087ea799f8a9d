using System.Net.WebSockets;
using System.Text;
using Relay.Server.Transport;

namespace Relay.Tests.Transport;

/// <summary>
/// SendText writes straight to the socket when nothing is pending and falls back to the send loop for
/// the rest. These tests check that the two paths never reorder or tear frames.
/// </summary>
public class InlineSendTests
{
    private static ListenerOptions Options(int burstMicroseconds = 0, long maxPending = 33554432) => new()
    {
        Port = 0,
        MaxPendingOutboundBytes = maxPending,
        AutoPingSeconds = 0,
        InlineBurstMicroseconds = burstMicroseconds,
    };

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    public async Task Frames_from_many_threads_arrive_whole_and_in_order_per_thread(int burstMicroseconds)
    {
        const int threads = 8;
        const int perThread = 1500;
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler, Options(burstMicroseconds));
        // A small receive window makes the kernel refuse bytes early, so both paths are taken.
        await using var client = await RawClient.OpenAsync(listener.Port, receiveBufferSize: 4096);
        var connection = await handler.NextOpenedAsync();

        using var start = new Barrier(threads);
        var failures = new List<Exception>();
        var senders = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int thread = t;
            senders[t] = new Thread(() =>
            {
                try
                {
                    start.SignalAndWait();
                    for (int seq = 0; seq < perThread; seq++)
                        Assert.True(Send(connection, thread, seq));
                }
                catch (Exception e)
                {
                    lock (failures) failures.Add(e);
                }
            });
            senders[t].Start();
        }

        // The client reads only once every sender is done: ~9.5 MB cannot all fit in the kernel's
        // buffers, so some frames must wait in the pipe for the send loop, whatever the scheduling.
        foreach (var sender in senders)
            sender.Join();
        var next = new int[threads];
        for (int received = 0; received < threads * perThread; received++)
        {
            var (firstByte, payload) = await client.ReadFrameAsync();
            Assert.Equal(0x81, firstByte);
            var (thread, seq) = Check(payload);
            Assert.Equal(next[thread], seq);
            next[thread]++;
        }

        Assert.Empty(failures);
        Assert.All(next, n => Assert.Equal(perThread, n));
        Assert.False(connection.IsClosed);
        Assert.True(connection.FramesSentInline > 0, "no frame took the direct path");
        Assert.True(connection.FramesSentInline < threads * perThread, "no frame took the send loop");
    }

    [Fact]
    public async Task Client_that_never_reads_is_dropped_at_the_cap_when_frames_go_straight_to_the_socket()
    {
        const long cap = 1024 * 1024;
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler, Options(maxPending: cap));
        await using var stalled = await RawClient.OpenAsync(listener.Port, receiveBufferSize: 4096);
        var connection = await handler.NextOpenedAsync();
        long terminationsBefore = WebSocketListener.SlowClientTerminations;

        var payload = new byte[16 * 1024];
        payload.AsSpan().Fill((byte)'x');
        long accepted = 0;
        bool refused = false;
        for (int i = 0; i < 100_000 && !refused; i++)
        {
            if (connection.SendText(payload))
                accepted += payload.Length;
            else
                refused = true;
            Assert.True(connection.PendingOutboundBytes <= cap);
        }

        Assert.True(refused, $"still accepting after {accepted} bytes");
        // The kernel buffers took the first frames directly; the cap then counted only what queued behind.
        Assert.True(connection.FramesSentInline + connection.FramesSplit > 0);
        Assert.True(accepted > cap);
        Assert.True(connection.IsClosed);
        Assert.False(connection.SendText("more"u8));
        Assert.True(WebSocketListener.SlowClientTerminations > terminationsBefore);
        await handler.WhenClosed(connection);
    }

    [Fact]
    public async Task Message_larger_than_the_socket_buffers_arrives_intact_and_before_the_next_one()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler, Options());
        await using var client = await RawClient.OpenAsync(listener.Port, receiveBufferSize: 4096);
        var connection = await handler.NextOpenedAsync();
        // Together more than the largest send buffer (4 MiB) plus what a 4 KiB receive window can hold.
        var part1 = Pattern(1 << 20, 7);
        var part2 = Pattern(6 << 20, 11);
        var part3 = Pattern(1 << 20, 13);

        Assert.True(connection.SendText(part1, part2, part3));
        Assert.Equal(1, connection.FramesSplit);
        Assert.True(connection.PendingOutboundBytes > 0);
        Assert.True(connection.SendText("after"u8));

        var (firstByte, payload) = await client.ReadFrameAsync();
        Assert.Equal(0x81, firstByte);
        Assert.Equal(part1.Length + part2.Length + part3.Length, payload.Length);
        Assert.True(payload.AsSpan(0, part1.Length).SequenceEqual(part1));
        Assert.True(payload.AsSpan(part1.Length, part2.Length).SequenceEqual(part2));
        Assert.True(payload.AsSpan(part1.Length + part2.Length).SequenceEqual(part3));
        var (_, after) = await client.ReadFrameAsync();
        Assert.Equal("after", Encoding.UTF8.GetString(after));
        Assert.True(SpinWait.SpinUntil(() => connection.PendingOutboundBytes == 0, TestTimeout.Value));
    }

    [Fact]
    public async Task Sending_straight_to_the_socket_allocates_nothing_once_warm()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler, Options());
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
        Func<bool> drained = () => connection.PendingOutboundBytes == 0;
        void Send()
        {
            connection.SendText(prefix, body, suffix);
            // Only a connection with nothing pending takes the direct path.
            SpinWait.SpinUntil(drained, TestTimeout.Value);
        }

        for (int i = 0; i < 200; i++)
            Send();
        long inlineBefore = connection.FramesSentInline;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 500; i++)
            Send();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(connection.FramesSentInline > inlineBefore, "the direct path was not measured");
        Assert.Equal(0, allocated);
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        await handler.WhenClosed(connection);
        await drain.WaitAsync(TestTimeout.Value).ContinueWith(_ => { });
    }

    [Theory]
    [InlineData(0, 64)]
    [InlineData(1, 3)]
    [InlineData(5, 100)]
    [InlineData(9, 1)]
    [InlineData(30, 64)]
    [InlineData(33, 64)]
    public void Outbound_frame_copies_its_bytes_from_any_offset(int offset, int destinationLength)
    {
        byte[] header = [1, 2];
        byte[] part1 = [3, 4, 5, 6, 7];
        byte[] part2 = [];
        byte[] part3 = Enumerable.Range(8, 25).Select(i => (byte)i).ToArray();
        byte[] whole = [.. header, .. part1, .. part2, .. part3];
        var frame = new WsOutboundFrame(header, part1, part2, part3);
        var destination = new byte[destinationLength];

        int copied = frame.CopyTo(offset, destination);

        Assert.Equal(whole.Length, frame.Length);
        int expected = Math.Max(0, Math.Min(destinationLength, whole.Length - offset));
        Assert.Equal(expected, copied);
        Assert.Equal(whole.Skip(offset).Take(expected).ToArray(), destination.Take(copied).ToArray());
    }

    /// <summary>"thread:seq:" then filler bytes that depend on both, so a torn frame cannot pass.</summary>
    private static bool Send(WsConnection connection, int thread, int seq)
    {
        Span<byte> head = stackalloc byte[32];
        int headLength = Encoding.ASCII.GetBytes($"{thread}:{seq}:", head);
        int fillerLength = FillerLength(thread, seq);
        var filler = new byte[fillerLength];
        filler.AsSpan().Fill(FillerByte(thread, seq));
        return seq % 2 == 0
            ? connection.SendText([.. head[..headLength], .. filler])
            : connection.SendText(head[..headLength], filler.AsSpan(0, fillerLength / 2), filler.AsSpan(fillerLength / 2));
    }

    private static (int Thread, int Seq) Check(byte[] payload)
    {
        var text = Encoding.ASCII.GetString(payload);
        int first = text.IndexOf(':');
        int second = text.IndexOf(':', first + 1);
        int thread = int.Parse(text[..first]);
        int seq = int.Parse(text[(first + 1)..second]);
        byte filler = FillerByte(thread, seq);
        Assert.Equal(FillerLength(thread, seq), payload.Length - second - 1);
        Assert.True(payload.AsSpan(second + 1).IndexOfAnyExcept(filler) < 0, $"torn frame {thread}:{seq}");
        return (thread, seq);
    }

    // Mostly event-sized messages, now and then one bigger than the inline scratch buffer.
    private static int FillerLength(int thread, int seq) => seq % 97 == 0 ? 40_000 : 20 + (seq * 37 + thread * 11) % 700;

    private static byte FillerByte(int thread, int seq) => (byte)('a' + (thread * 31 + seq) % 26);

    private static byte[] Pattern(int length, int step)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
            bytes[i] = (byte)('0' + i * step % 64);
        return bytes;
    }
}
