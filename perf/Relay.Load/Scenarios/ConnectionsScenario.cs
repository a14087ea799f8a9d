using System.Collections.Concurrent;
using System.Diagnostics;
using Relay.Load.Protocol;
using Relay.Load.Reporting;
using Relay.Load.WebSockets;

namespace Relay.Load.Scenarios;

public sealed record ConnectionsOptions(Uri Url, string Name, int Count, bool Subscribe = false, int? RelayPid = null,
    TimeSpan? Hold = null, int Concurrency = 200, TimeSpan? Duration = null);

/// <summary>
/// Opens N idle connections (each optionally holding one REQ open), holds them, and reports how much
/// resident memory the relay process grew per connection.
/// </summary>
public static class ConnectionsScenario
{
    private static readonly byte[] s_subscribe = "[\"REQ\",\"idle\",{\"kinds\":[1],\"limit\":1}]"u8.ToArray();

    public static async Task<LoadReport> RunAsync(ConnectionsOptions options, CancellationToken cancellation)
    {
        TimeSpan hold = options.Hold ?? TimeSpan.FromSeconds(10);
        TimeSpan duration = options.Duration ?? TimeSpan.FromSeconds(300);
        var report = new LoadReport("connections", options.Name, options.Url.ToString());
        report.Parameter("count", options.Count);
        report.Parameter("subscribe", options.Subscribe);
        report.Parameter("hold", hold);
        report.Parameter("concurrency", options.Concurrency);
        report.Parameter("durationCap", duration);
        if (options.RelayPid is int pidParam) report.Parameter("relayPid", pidParam);

        long? ownLimit = ProcessStats.OwnFileLimit();
        if (ownLimit is long limit && options.Count + 64 > limit)
            report.Notes.Add($"this process may open only {limit} files (ulimit -n); {options.Count} connections will hit it. The relay needs a limit above the count too.");

        int pid = options.RelayPid ?? 0;
        RelayProbe? probe = RelayProbe.For(options.RelayPid, null);
        RelaySample? relayBefore = probe?.Sample();
        long? rssBefore = pid > 0 ? ProcessStats.ResidentKiB(pid) : null;
        int? fdsBefore = pid > 0 ? ProcessStats.OpenFiles(pid) : null;

        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        run.CancelAfter(duration);
        var stopwatch = Stopwatch.StartNew();
        var connectLatency = new LatencyRecorder();
        var subscribeLatency = new LatencyRecorder();
        var state = new IdleState();

        // A small receive buffer: thousands of idle connections should cost this process little.
        Connector.Result opened = await Connector.OpenAsync(options.Url, options.Count, options.Concurrency, 2048,
            TimeSpan.FromSeconds(15), connectLatency, run.Token).ConfigureAwait(false);
        var handlers = new List<IdleConnection>(opened.Opened);
        var receivers = new List<Task>(opened.Opened);
        using var receiveStop = new CancellationTokenSource();
        foreach (NostrWebSocket? socket in opened.Sockets)
        {
            if (socket is null) continue;
            var handler = new IdleConnection(socket, state, subscribeLatency);
            handlers.Add(handler);
            receivers.Add(socket.RunReceiveLoopAsync(handler, receiveStop.Token));
        }
        TimeSpan openTime = stopwatch.Elapsed;

        if (options.Subscribe)
        {
            int next = -1;
            var workers = Enumerable.Range(0, Math.Max(1, Math.Min(options.Concurrency, handlers.Count))).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < handlers.Count && !run.IsCancellationRequested)
                    await handlers[i].SubscribeAsync(TimeSpan.FromSeconds(15), run.Token).ConfigureAwait(false);
            })).ToArray();
            await Task.WhenAll(workers).ConfigureAwait(false);
        }

        RelaySample? relayAfterOpen = probe?.Sample();
        long? rssAfterOpen = pid > 0 ? ProcessStats.ResidentKiB(pid) : null;
        int? fdsAfterOpen = pid > 0 ? ProcessStats.OpenFiles(pid) : null;
        int openBeforeHold = handlers.Count(h => h.Socket.IsOpen);
        try { await Task.Delay(hold, run.Token).ConfigureAwait(false); } catch (OperationCanceledException) { }
        long? rssAfterHold = pid > 0 ? ProcessStats.ResidentKiB(pid) : null;
        int openAfterHold = handlers.Count(h => h.Socket.IsOpen);
        var endReasons = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (IdleConnection h in handlers)
        {
            if (h.Socket.IsOpen) continue;
            string reason = h.Socket.CloseReason ?? "unknown";
            endReasons[reason] = endReasons.GetValueOrDefault(reason) + 1;
        }
        stopwatch.Stop();

        receiveStop.Cancel();
        await Connector.CloseAllAsync(handlers.Select(h => (NostrWebSocket?)h.Socket).ToList()).ConfigureAwait(false);
        await Connector.WaitBoundedAsync(receivers, TimeSpan.FromSeconds(10)).ConfigureAwait(false);

        report.Finish(stopwatch.Elapsed);
        report.Counter("requested", options.Count);
        report.Counter("opened", opened.Opened);
        report.Counter("failed to open", options.Count - opened.Opened);
        if (options.Subscribe)
        {
            report.Counter("subscribed (EOSE)", state.Subscribed);
            report.Counter("subscribe failed (CLOSED/timeout)", state.SubscribeFailed);
        }
        report.Counter("open before hold", openBeforeHold);
        report.Counter("open after hold", openAfterHold);
        report.Counter("closed by relay during hold", openBeforeHold - openAfterHold);
        report.Rate("connections opened", opened.Opened / Math.Max(openTime.TotalSeconds, 1e-9));
        if (rssBefore is long before)
        {
            report.Counter("relay RSS before (KiB)", before);
            if (rssAfterOpen is long afterOpen)
            {
                report.Counter("relay RSS after open (KiB)", afterOpen);
                if (opened.Opened > 0)
                    report.Counter("relay RSS growth per connection (bytes)", (afterOpen - before) * 1024 / opened.Opened);
            }
            if (rssAfterHold is long afterHold) report.Counter("relay RSS after hold (KiB)", afterHold);
        }
        else if (pid > 0) report.Notes.Add($"could not read /proc/{pid}/status");
        if (fdsBefore is int fb && fdsAfterOpen is int fa)
        {
            report.Counter("relay open fds before", fb);
            report.Counter("relay open fds after open", fa);
        }
        report.Latency("connect (TCP + upgrade)", connectLatency, headline: true);
        if (options.Subscribe) report.Latency("REQ -> EOSE", subscribeLatency, headline: true);
        if (probe is not null && relayBefore is not null && relayAfterOpen is not null)
            probe.Report(report, relayBefore, relayAfterOpen, "connection", opened.Opened);
        report.AddGroups("connect failures", opened.Failures);
        report.AddGroups("CLOSED by prefix", state.ClosedByPrefix);
        report.AddGroups("NOTICE by prefix", state.Notices);
        report.AddGroups("connections ended before the client closed them", endReasons);
        report.BytesSent = handlers.Sum(h => h.Socket.BytesSent);
        report.BytesReceived = handlers.Sum(h => h.Socket.BytesReceived);
        return report;
    }

    private sealed class IdleState
    {
        public long Subscribed, SubscribeFailed;
        public ConcurrentDictionary<string, long> ClosedByPrefix { get; } = new(StringComparer.Ordinal);
        public ConcurrentDictionary<string, long> Notices { get; } = new(StringComparer.Ordinal);
    }

    private sealed class IdleConnection(NostrWebSocket socket, IdleState state, LatencyRecorder latency) : IRelayMessageHandler
    {
        private readonly TaskCompletionSource _eose = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _sentAt;

        public NostrWebSocket Socket { get; } = socket;

        public async Task SubscribeAsync(TimeSpan timeout, CancellationToken cancellation)
        {
            try
            {
                _sentAt = Stopwatch.GetTimestamp();
                await Socket.SendTextAsync(s_subscribe, cancellation).ConfigureAwait(false);
                await _eose.Task.WaitAsync(timeout, cancellation).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or IOException or OperationCanceledException)
            {
                Interlocked.Increment(ref state.SubscribeFailed);
            }
        }

        public void OnMessage(ReadOnlySpan<byte> message)
        {
            if (!RelayMessage.TryParse(message, out RelayMessage m)) return;
            if (m.Type == RelayMessageType.Eose && !_eose.Task.IsCompleted)
            {
                latency.RecordSince(_sentAt);
                Interlocked.Increment(ref state.Subscribed);
                _eose.TrySetResult();
            }
            else if (m.Type == RelayMessageType.Closed)
            {
                Connector.CountPrefix(state.ClosedByPrefix, m.Text);
                _eose.TrySetException(new IOException("CLOSED"));
            }
            else if (m.Type == RelayMessageType.Notice)
            {
                Connector.CountPrefix(state.Notices, m.Text);
            }
        }
    }
}
