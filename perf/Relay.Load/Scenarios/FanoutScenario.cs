using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Relay.Load.Generation;
using Relay.Load.Protocol;
using Relay.Load.Reporting;
using Relay.Load.WebSockets;
using Relay.Native.Events;

namespace Relay.Load.Scenarios;

public sealed record FanoutOptions(Uri Url, string Name, int Subscribers = 1000, int Events = 200, double Rate = 50,
    ulong Seed = 1, TimeSpan? Duration = null, TimeSpan? Grace = null, int Concurrency = 200, RelayProbe? Probe = null);

/// <summary>
/// S subscribers hold <c>{"kinds":[1],"#t":[run tag],"since":now}</c>; one publisher posts E events at a
/// fixed rate, each tagged with its sequence number. A subscriber measures publish (EVENT written by
/// the publisher) -> delivery latency; the report compares deliveries with S*E.
/// </summary>
public static class FanoutScenario
{
    public static async Task<LoadReport> RunAsync(FanoutOptions options, CancellationToken cancellation)
    {
        TimeSpan duration = options.Duration ?? TimeSpan.FromSeconds(120);
        TimeSpan grace = options.Grace ?? TimeSpan.FromSeconds(10);
        string runTag = "relay-load-fanout-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));
        var report = new LoadReport("fanout", options.Name, options.Url.ToString());
        report.Parameter("subscribers", options.Subscribers);
        report.Parameter("events", options.Events);
        report.Parameter("rate", options.Rate + "/s");
        report.Parameter("tag", runTag);
        report.Parameter("durationCap", duration);

        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        run.CancelAfter(duration);
        var stopwatch = Stopwatch.StartNew();
        var state = new FanoutState(options.Events);
        long since = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        byte[] req = System.Text.Encoding.UTF8.GetBytes(
            $"[\"REQ\",\"fanout\",{{\"kinds\":[1],\"#t\":[\"{runTag}\"],\"since\":{since.ToString(CultureInfo.InvariantCulture)}}}]");

        Connector.Result opened = await Connector.OpenAsync(options.Url, options.Subscribers + 1, options.Concurrency, 16 * 1024,
            TimeSpan.FromSeconds(15), null, run.Token).ConfigureAwait(false);
        NostrWebSocket? publisherSocket = opened.Sockets[0];
        var subscribers = new List<Subscriber>();
        var receivers = new List<Task>();
        using var receiveStop = new CancellationTokenSource();
        for (int i = 1; i < opened.Sockets.Length; i++)
        {
            if (opened.Sockets[i] is not { } socket) continue;
            var subscriber = new Subscriber(socket, state);
            subscribers.Add(subscriber);
            receivers.Add(socket.RunReceiveLoopAsync(subscriber, receiveStop.Token));
        }
        var publisher = publisherSocket is null ? null : new Publisher(publisherSocket, state);
        if (publisher is not null) receivers.Add(publisher.Socket.RunReceiveLoopAsync(publisher, receiveStop.Token));

        // Subscribe everyone before the first publish, so every delivery is a live one.
        await Task.WhenAll(subscribers.Select(s => s.SubscribeAsync(req, TimeSpan.FromSeconds(30), run.Token))).ConfigureAwait(false);
        int subscribed = subscribers.Count(s => s.Subscribed);

        int published = 0;
        RelaySample? relayBefore = options.Probe?.Sample();
        long publishStart = Stopwatch.GetTimestamp();
        if (publisher is not null && !run.IsCancellationRequested)
        {
            var keys = AuthorKeys.Derive(options.Seed, "relay-load fanout", 1);
            var signer = new DraftSigner(keys);
            long createdAt = Math.Max(since, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            var events = new byte[options.Events][];
            Span<byte> id = stackalloc byte[32];
            for (int n = 0; n < options.Events; n++)
            {
                var draft = new EventDraft { Kind = 1, Author = 0, CreatedAt = createdAt, Content = "fanout probe " + n + " ⚡" };
                draft.AddTag("t", runTag);
                draft.AddTag("seq", n.ToString(CultureInfo.InvariantCulture));
                events[n] = signer.Sign(draft, id);
                state.SequenceById[Bytes32.From(id)] = n;
            }
            published = await publisher.PublishAsync(events, options.Rate, run.Token).ConfigureAwait(false);
        }
        double publishSeconds = (Stopwatch.GetTimestamp() - publishStart) / (double)Stopwatch.Frequency;

        long expected = (long)subscribed * published;
        long graceEnd = Stopwatch.GetTimestamp() + (long)(grace.TotalSeconds * Stopwatch.Frequency);
        while (Interlocked.Read(ref state.Delivered) < expected && Stopwatch.GetTimestamp() < graceEnd && !cancellation.IsCancellationRequested)
            await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
        stopwatch.Stop();
        RelaySample? relayAfter = options.Probe?.Sample();

        receiveStop.Cancel();
        var all = new List<NostrWebSocket?>(opened.Sockets);
        await Connector.CloseAllAsync(all).ConfigureAwait(false);
        await Connector.WaitBoundedAsync(receivers, TimeSpan.FromSeconds(10)).ConfigureAwait(false);

        report.Finish(stopwatch.Elapsed);
        report.Counter("subscribers opened", opened.Opened - (publisherSocket is null ? 0 : 1));
        report.Counter("subscribed (EOSE)", subscribed);
        report.Counter("published", published);
        report.Counter("publish ok", state.Accepted);
        report.Counter("publish fail (OK false)", state.Rejected);
        report.Counter("expected deliveries (S*E)", (long)options.Subscribers * options.Events);
        report.Counter("expected deliveries (subscribed*published)", expected);
        report.Counter("delivered", state.Delivered);
        report.Counter("missing", Math.Max(0, expected - state.Delivered));
        report.Counter("duplicates", state.Duplicates);
        report.Counter("unmatched EVENT", state.Unmatched);
        report.Rate("published", published / Math.Max(publishSeconds, 1e-9));
        double deliverySeconds = (Volatile.Read(ref state.LastDelivery) - publishStart) / (double)Stopwatch.Frequency;
        report.Rate("delivered", state.Delivered / Math.Max(deliverySeconds, 1e-9));
        report.Latency("publish -> delivery", state.DeliveryLatency, headline: true);
        report.Latency("EVENT -> OK (publisher)", state.OkLatency, headline: true);
        if (options.Probe is { } probe && relayBefore is not null && relayAfter is not null)
            probe.Report(report, relayBefore, relayAfter, "delivery", state.Delivered);
        report.AddGroups("publish rejected by prefix", state.RejectedByPrefix);
        report.AddGroups("CLOSED by prefix", state.ClosedByPrefix);
        report.AddGroups("NOTICE by prefix", state.Notices);
        report.AddGroups("connect failures", opened.Failures);
        if (publisherSocket is null) report.Notes.Add("the publisher connection could not be opened");
        report.BytesSent = opened.Sockets.Sum(s => s?.BytesSent ?? 0);
        report.BytesReceived = opened.Sockets.Sum(s => s?.BytesReceived ?? 0);
        return report;
    }

    private sealed class FanoutState(int events)
    {
        public long[] SentAt { get; } = new long[events];
        public ConcurrentDictionary<Bytes32, int> SequenceById { get; } = new();
        public long Delivered, Duplicates, Unmatched, Accepted, Rejected, LastDelivery;
        public LatencyRecorder DeliveryLatency { get; } = new();
        public LatencyRecorder OkLatency { get; } = new();
        public ConcurrentDictionary<string, long> RejectedByPrefix { get; } = new(StringComparer.Ordinal);
        public ConcurrentDictionary<string, long> ClosedByPrefix { get; } = new(StringComparer.Ordinal);
        public ConcurrentDictionary<string, long> Notices { get; } = new(StringComparer.Ordinal);
    }

    private sealed class Subscriber(NostrWebSocket socket, FanoutState state) : IRelayMessageHandler
    {
        private readonly TaskCompletionSource _eose = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly bool[] _seen = new bool[state.SentAt.Length];

        public NostrWebSocket Socket { get; } = socket;
        public bool Subscribed => _eose.Task.IsCompletedSuccessfully;

        public async Task SubscribeAsync(byte[] req, TimeSpan timeout, CancellationToken cancellation)
        {
            try
            {
                await Socket.SendTextAsync(req, cancellation).ConfigureAwait(false);
                await _eose.Task.WaitAsync(timeout, cancellation).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or IOException or OperationCanceledException) { }
        }

        public void OnMessage(ReadOnlySpan<byte> message)
        {
            if (!RelayMessage.TryParse(message, out RelayMessage m)) return;
            switch (m.Type)
            {
                case RelayMessageType.Event:
                    if (!EventFields.TryGetTagValue(m.Event, "seq"u8, out ReadOnlySpan<byte> digits)
                        || !RelayMessage.TryParseInt(digits, out long seq) || seq < 0 || seq >= _seen.Length
                        || Volatile.Read(ref state.SentAt[seq]) == 0)
                    {
                        Interlocked.Increment(ref state.Unmatched);
                        return;
                    }
                    if (_seen[seq]) { Interlocked.Increment(ref state.Duplicates); return; }
                    _seen[seq] = true;
                    state.DeliveryLatency.RecordSince(state.SentAt[seq]);
                    Interlocked.Increment(ref state.Delivered);
                    Volatile.Write(ref state.LastDelivery, Stopwatch.GetTimestamp());
                    break;
                case RelayMessageType.Eose:
                    _eose.TrySetResult();
                    break;
                case RelayMessageType.Closed:
                    Connector.CountPrefix(state.ClosedByPrefix, m.Text);
                    _eose.TrySetException(new IOException("CLOSED"));
                    break;
                case RelayMessageType.Notice:
                    Connector.CountPrefix(state.Notices, m.Text);
                    break;
            }
        }
    }

    private sealed class Publisher(NostrWebSocket socket, FanoutState state) : IRelayMessageHandler
    {
        public NostrWebSocket Socket { get; } = socket;

        /// <summary>Posts the events on a fixed schedule; returns how many went out before the deadline.</summary>
        public async Task<int> PublishAsync(byte[][] events, double rate, CancellationToken cancellation)
        {
            var frames = new OutgoingFrames(Socket, 4096);
            long start = Stopwatch.GetTimestamp();
            double ticksPerEvent = rate > 0 ? Stopwatch.Frequency / rate : 0;
            for (int n = 0; n < events.Length; n++)
            {
                long wait = start + (long)(n * ticksPerEvent) - Stopwatch.GetTimestamp();
                try
                {
                    if (wait > 0) await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency), cancellation).ConfigureAwait(false);
                    frames.AddText("[\"EVENT\","u8, events[n], "]"u8);
                    Volatile.Write(ref state.SentAt[n], Stopwatch.GetTimestamp());
                    await frames.FlushAsync(cancellation).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or IOException) { return n; }
            }
            return events.Length;
        }

        public void OnMessage(ReadOnlySpan<byte> message)
        {
            if (!RelayMessage.TryParse(message, out RelayMessage m)) return;
            if (m.Type == RelayMessageType.Notice) { Connector.CountPrefix(state.Notices, m.Text); return; }
            if (m.Type != RelayMessageType.Ok) return;
            Span<byte> id = stackalloc byte[32];
            if (!Hex.TryDecodeLower(m.EventIdHex, id) || !state.SequenceById.TryGetValue(Bytes32.From(id), out int seq)) return;
            state.OkLatency.RecordSince(state.SentAt[seq]);
            if (m.Accepted) Interlocked.Increment(ref state.Accepted);
            else
            {
                Interlocked.Increment(ref state.Rejected);
                Connector.CountPrefix(state.RejectedByPrefix, m.Text);
            }
        }
    }
}
