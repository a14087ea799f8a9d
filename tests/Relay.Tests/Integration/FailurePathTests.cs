using System.Net.Sockets;
using Relay.Server.Relay;

namespace Relay.Tests.Integration;

/// <summary>
/// Faults injected into the pipeline (a throwing writer or ingester, a failing or stalled fsync, a full
/// inbox): every client still gets a truthful answer, nothing acknowledged is lost, the relay keeps
/// serving, and no thread-pool thread is held hostage.
/// </summary>
public class FailurePathTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(400);

    [Fact]
    public async Task Event_whose_id_is_not_lowercase_hex_gets_ok_false_naming_the_id_as_sent()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        var ev = new TestKeys().Sign(1, "x");

        await c.SendAsync($"[\"EVENT\",{ev.WithField("id", "\"" + ev.Id.ToUpperInvariant() + "\"")}]");
        var ok = await c.ExpectAsync("OK");
        Assert.Equal(ev.Id.ToUpperInvariant(), ok[1].GetString());
        Assert.False(ok[2].GetBoolean());
        Assert.StartsWith("invalid:", ok[3].GetString());

        // Escapes in the id are undone before it is echoed, as the client's JSON parser would.
        await c.SendAsync($"[\"EVENT\",{ev.WithField("id", "\"not-an-\\u0069d\"")}]");
        ok = await c.ExpectAsync("OK");
        Assert.Equal("not-an-id", ok[1].GetString());
        Assert.False(ok[2].GetBoolean());

        // A malformed pubkey or sig with a good id names the id too.
        await c.SendAsync($"[\"EVENT\",{ev.WithField("pubkey", "\"zz\"")}]");
        ok = await c.ExpectAsync("OK");
        Assert.Equal(ev.Id, ok[1].GetString());
        Assert.StartsWith("invalid:", ok[3].GetString());
        await c.SendAsync($"[\"EVENT\",{ev.WithField("sig", "\"00\"")}]");
        ok = await c.ExpectAsync("OK");
        Assert.Equal(ev.Id, ok[1].GetString());

        // Without any id string there is nothing to name: a NOTICE, and the connection stays usable.
        await c.SendAsync($"[\"EVENT\",{ev.WithField("id", "42")}]");
        await c.ExpectAsync("NOTICE");
        Assert.True((await c.PublishAsync(ev)).Accepted);
    }

    [Theory]
    [InlineData("REQ")]
    [InlineData("COUNT")]
    public async Task Req_or_count_without_a_filter_is_closed_as_invalid(string verb)
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        await c.SendAsync($"[\"{verb}\",\"nofilter\"]");
        var closed = await c.ExpectAsync("CLOSED");
        Assert.Equal("nofilter", closed[1].GetString());
        Assert.StartsWith("invalid:", closed[2].GetString());
    }

    [Fact]
    public async Task Resent_event_is_not_acknowledged_before_its_original_is_fsynced()
    {
        using var gate = new ManualResetEventSlim(false);
        var faults = new FaultInjection { SyncerBeforeSync = () => gate.Wait(TimeSpan.FromSeconds(20)) };
        await using var relay = TestRelay.Start(null, null, faults);
        await using var first = await relay.ConnectAsync();
        await using var second = await relay.ConnectAsync();
        var ev = new TestKeys().Sign(1, "durable before acknowledged");

        await first.SendAsync($"[\"EVENT\",{ev.Json}]");
        // Wait until the writer committed it (readers see it) while its fsync is held back.
        await WaitUntil(() => IsVisible(relay, ev.Id));
        await second.SendAsync($"[\"EVENT\",{ev.Json}]");
        Assert.True(await second.IsSilentAsync(Quiet), "the duplicate was acknowledged before the original was durable");
        Assert.True(await first.IsSilentAsync(TimeSpan.FromMilliseconds(50)));

        gate.Set();
        var ok1 = await first.ExpectAsync("OK");
        var ok2 = await second.ExpectAsync("OK");
        Assert.True(ok1[2].GetBoolean());
        Assert.True(ok2[2].GetBoolean());
        Assert.StartsWith("duplicate:", ok2[3].GetString());
    }

    [Fact]
    public async Task Failed_fsync_answers_error_and_the_next_event_succeeds()
    {
        int failures = 1;
        var faults = new FaultInjection
        {
            SyncerBeforeSync = () => { if (Interlocked.Decrement(ref failures) == 0) throw new IOException("injected fsync failure"); },
        };
        await using var relay = TestRelay.Start(null, null, faults);
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();

        var (accepted, message) = await c.PublishAsync(keys.Sign(1, "fsync fails"));
        Assert.False(accepted);
        Assert.StartsWith("error:", message);
        Assert.True((await c.PublishAsync(keys.Sign(1, "fsync works again"))).Accepted);
    }

    [Fact]
    public async Task Writer_failure_before_commit_answers_error_and_stores_nothing()
    {
        int failures = 1;
        var faults = new FaultInjection
        {
            WriterBeforeCommit = () => { if (Interlocked.Decrement(ref failures) == 0) throw new InvalidOperationException("injected write failure"); },
        };
        await using var relay = TestRelay.Start(null, null, faults);
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        var lost = keys.Sign(1, "not stored");

        var (accepted, message) = await c.PublishAsync(lost);
        Assert.False(accepted);
        Assert.StartsWith("error:", message);
        Assert.Empty(await c.QueryAsync("q", $"{{\"ids\":[\"{lost.Id}\"]}}"));

        // The relay goes on: the same event is stored when sent again.
        Assert.True((await c.PublishAsync(lost)).Accepted);
        Assert.Single(await c.QueryAsync("q2", $"{{\"ids\":[\"{lost.Id}\"]}}"));
    }

    [Fact]
    public async Task Writer_failure_after_commit_still_acknowledges_the_stored_event()
    {
        int failures = 1;
        var faults = new FaultInjection
        {
            WriterAfterCommit = () => { if (Interlocked.Decrement(ref failures) == 0) throw new InvalidOperationException("injected post-commit failure"); },
        };
        await using var relay = TestRelay.Start(null, null, faults);
        await using var c = await relay.ConnectAsync();
        var ev = new TestKeys().Sign(1, "stored despite the failure after commit");

        var (accepted, message) = await c.PublishAsync(ev);
        Assert.True(accepted, message);
        Assert.Single(await c.QueryAsync("q", $"{{\"ids\":[\"{ev.Id}\"]}}"));
    }

    [Fact]
    public async Task Ingester_failure_after_a_hand_off_keeps_the_relay_up_and_answers_the_event_once()
    {
        int failures = 1;
        var faults = new FaultInjection
        {
            IngesterAfterHandOff = () => { if (Interlocked.Decrement(ref failures) == 0) throw new InvalidOperationException("injected ingester failure"); },
        };
        await using var relay = TestRelay.Start(c => c.Relay.NumThreads.Ingester = 1, null, faults);
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        var ev = keys.Sign(1, "handed to the writer, then the ingester failed");

        // The event reached the writer before the fault: it is stored and acknowledged once, by the writer.
        var (accepted, message) = await c.PublishAsync(ev);
        Assert.True(accepted, message);
        Assert.True(await c.IsSilentAsync(Quiet), "the event was answered twice");
        // The ingester thread survived (a crash there would end the process).
        Assert.True((await c.PublishAsync(keys.Sign(1, "after"))).Accepted);
    }

    [Fact]
    public async Task Full_inbox_parks_connections_without_holding_thread_pool_threads()
    {
        using var gate = new ManualResetEventSlim(false);
        var faults = new FaultInjection
        {
            IngesterInboxCapacity = 2,
            IngesterBeforeHandOff = () => gate.Wait(TimeSpan.FromSeconds(60)),
        };
        await using var relay = TestRelay.Start(c => c.Relay.NumThreads.Ingester = 1, null, faults);
        var keys = new TestKeys();
        const int Connections = 48;
        var clients = new List<TestClient>();
        var events = new List<TestEvent>();
        try
        {
            for (int i = 0; i < Connections; i++)
            {
                clients.Add(await relay.ConnectAsync());
                events.Add(keys.Sign(1, "flood " + i));
            }
            long waitsBefore = Metrics.InboxFullWaits.Value;
            await Task.WhenAll(clients.Select((c, i) => c.SendAsync($"[\"EVENT\",{events[i].Json}]")));
            // The one ingester is stuck and its inbox is full: most connections now wait for room.
            await WaitUntil(() => Metrics.InboxFullWaits.Value >= waitsBefore + Connections / 2);

            // Were those waits holding pool threads, this request would queue behind them for many seconds.
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
            var health = await http.GetStringAsync(new Uri(relay.HttpUrl, "health"));
            Assert.Equal("ok\n", health);

            // Nothing is lost: once the ingester moves again, every event is answered and stored.
            gate.Set();
            for (int i = 0; i < Connections; i++)
            {
                var ok = await clients[i].ExpectAsync("OK");
                Assert.Equal(events[i].Id, ok[1].GetString());
                Assert.True(ok[2].GetBoolean(), ok[3].GetString());
            }
        }
        finally
        {
            gate.Set();
            foreach (var c in clients) await c.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Tcp_keepalive_follows_the_config(bool enabled)
    {
        await using var relay = TestRelay.Start(c => c.Relay.EnableTcpKeepalive = enabled);
        await using var c = await relay.ConnectAsync();
        await WaitUntil(() => relay.Server.Listener.Connections.Count == 1);
        var socket = relay.Server.Listener.Connections.Single().Socket;
        int value = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)!;
        Assert.Equal(enabled, value != 0);
    }

    [Fact]
    public async Task Expired_backlog_is_purged_in_slices_without_stopping_writes()
    {
        string dir = TestRelay.NewTempDir();
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        int backlog = Writer.PurgeSlice * 2 + 100;
        using (var store = Relay.Tests.Storage.TempStore.Open(dir))
        {
            var random = new Random(7);
            var author = Relay.Tests.Storage.TestEvent.Key(random);
            var batch = new List<Relay.Tests.Storage.TestEvent>();
            for (int i = 0; i < backlog; i++)
                batch.Add(Relay.Tests.Storage.TestEvent.Create(random, author, now - 1000 + i % 500, 1, expiration: now - 10));
            var items = batch.Select(e => new Relay.Native.Storage.WriteItem(e.Pack(), e.Json)).ToArray();
            var results = new Relay.Native.Storage.WriteResult[items.Length];
            store.WriteBatch(items, results, durable: true, now: now - 2000);
            Assert.Equal(backlog, store.Count);
            // One slice never removes more than its cap.
            Assert.Equal(Writer.PurgeSlice, store.PurgeExpired(now, Writer.PurgeSlice));
            Assert.Equal(backlog - Writer.PurgeSlice, store.Count);
        }

        await using var relay = TestRelay.Start(null, dir, null, cronPeriod: TimeSpan.FromMilliseconds(200));
        await using var c = await relay.ConnectAsync();
        Assert.True((await c.PublishAsync(new TestKeys().Sign(1, "written during the purge"))).Accepted);
        await WaitUntil(() => relay.Server.Store.Count == 1);
    }

    [Fact]
    public void Limited_error_log_drops_a_flood_and_says_how_much()
    {
        var lines = new List<string>();
        lock (RelayLogCapture.Lock)
        {
            RelayLog.Sink = line => { lock (lines) lines.Add(line); };
            try
            {
                RelayLog.ResetLimiter();
                for (int i = 0; i < 100; i++) RelayLog.ErrorLimited("flood " + i);
                Assert.Equal(20, lines.Count(l => l.Contains("flood")));
                RelayLog.ResetLimiter(expireWindow: true);
                RelayLog.ErrorLimited("after the window");
                Assert.Contains(lines, l => l.Contains("80 similar errors not logged"));
                Assert.Contains(lines, l => l.Contains("after the window"));
            }
            finally
            {
                RelayLog.Sink = null;
            }
        }
    }

    private static bool IsVisible(TestRelay relay, string idHex)
    {
        using var view = relay.Server.Store.BeginRead();
        return view.ContainsId(Convert.FromHexString(idHex));
    }

    internal static async Task WaitUntil(Func<bool> condition, int timeoutMs = 10000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in time");
            await Task.Delay(20);
        }
    }
}

internal static class RelayLogCapture
{
    public static readonly object Lock = new();
}
