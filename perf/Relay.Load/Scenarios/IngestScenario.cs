using System.Collections.Concurrent;
using System.Diagnostics;
using Relay.Load.Corpus;
using Relay.Load.Protocol;
using Relay.Load.Reporting;
using Relay.Load.WebSockets;
using Relay.Native.Events;

namespace Relay.Load.Scenarios;

public sealed record IngestOptions(Uri Url, string Name, int Connections = 16, int Window = 64, double Rate = 0,
    int Count = 0, TimeSpan? Duration = null, TimeSpan? Timeout = null, Uri? MetricsUrl = null,
    int From = 0, int ProgressEvery = 0, RelayProbe? Probe = null);

/// <summary>
/// Publishes the corpus (or events [From, From+Count) of it) over N connections, at most W
/// unacknowledged EVENTs each, optionally paced to a fixed offered rate; latency is EVENT written to
/// the socket -> its OK read back. With <c>ProgressEvery</c> it also reports each step of that many
/// acknowledged events (rate, latency, relay CPU, RSS and DB size), to show how filling a database
/// slows down as its indexes grow.
/// </summary>
public static class IngestScenario
{
    private static ReadOnlySpan<byte> EventPrefix => "[\"EVENT\","u8;
    private static ReadOnlySpan<byte> EventSuffix => "]"u8;

    public static async Task<LoadReport> RunAsync(IngestOptions options, EventCorpus corpus, CancellationToken cancellation)
    {
        TimeSpan duration = options.Duration ?? TimeSpan.FromSeconds(60);
        TimeSpan timeout = options.Timeout ?? TimeSpan.FromSeconds(10);
        int from = Math.Clamp(options.From, 0, corpus.Count);
        int limit = options.Count > 0 ? Math.Min(options.Count, corpus.Count - from) : corpus.Count - from;
        var report = new LoadReport("ingest", options.Name, options.Url.ToString());
        report.Parameter("events", limit);
        if (from > 0) report.Parameter("from", from);
        report.Parameter("connections", options.Connections);
        report.Parameter("window", options.Window);
        report.Parameter("rate", options.Rate > 0 ? options.Rate + "/s" : "unlimited");
        report.Parameter("durationCap", duration);
        report.Parameter("okTimeout", timeout);

        var shared = new IngestState(corpus, from, limit, options.Rate, timeout);
        var connectLatency = new LatencyRecorder();
        Connector.Result opened = await Connector.OpenAsync(options.Url, options.Connections, options.Connections, 64 * 1024,
            TimeSpan.FromSeconds(10), connectLatency, cancellation).ConfigureAwait(false);
        var connections = new List<IngestConnection>();
        foreach (NostrWebSocket? socket in opened.Sockets)
            if (socket is not null) connections.Add(new IngestConnection(socket, shared, options.Window));

        using var receiveStop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var sendStop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var receivers = connections.Select(c => c.Socket.RunReceiveLoopAsync(c, receiveStop.Token)).ToArray();
        RelaySample? relayBefore = options.Probe?.Sample();
        var progress = options.ProgressEvery > 0 ? new Progress(options.ProgressEvery, options.Probe, relayBefore, shared) : null;
        var stopwatch = Stopwatch.StartNew();
        shared.Start = Stopwatch.GetTimestamp();
        progress?.Start(shared.Start);
        sendStop.CancelAfter(duration);
        var senders = connections.Select(c => Task.Run(() => c.SendLoopAsync(sendStop.Token, cancellation))).ToArray();

        // Sweep timeouts while sending, then drain: wait for the last OKs, never past the timeout.
        Task sending = Task.WhenAll(senders);
        long drainDeadline = long.MaxValue;
        // The relay's allocations are read over the steady part: from 10% of the events acknowledged to the end.
        Dictionary<string, double>? metricsBefore = null;
        long acknowledgedBefore = 0;
        bool scraped = options.MetricsUrl is null;
        while (true)
        {
            await Task.WhenAny(sending, Task.Delay(100, CancellationToken.None)).ConfigureAwait(false);
            foreach (IngestConnection c in connections) c.Sweep();
            progress?.Check(final: false);
            if (!scraped && Volatile.Read(ref shared.Accepted) + Volatile.Read(ref shared.Rejected) >= limit / 10)
            {
                scraped = true;
                acknowledgedBefore = Volatile.Read(ref shared.Accepted) + Volatile.Read(ref shared.Rejected);
                metricsBefore = await RelayMetrics.ScrapeAsync(options.MetricsUrl).ConfigureAwait(false);
            }
            if (sending.IsCompleted)
            {
                if (drainDeadline == long.MaxValue) drainDeadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
                if (connections.All(c => c.InFlight == 0) || Stopwatch.GetTimestamp() > drainDeadline) break;
            }
        }
        foreach (IngestConnection c in connections) c.Sweep(force: true);
        stopwatch.Stop();
        progress?.Check(final: true);
        RelaySample? relayAfter = options.Probe?.Sample();
        var metricsAfter = metricsBefore is null ? null : await RelayMetrics.ScrapeAsync(options.MetricsUrl).ConfigureAwait(false);
        long acknowledgedAfter = shared.Accepted + shared.Rejected;

        receiveStop.Cancel();
        await Connector.CloseAllAsync(connections.Select(c => (NostrWebSocket?)c.Socket).ToList()).ConfigureAwait(false);
        await Connector.WaitBoundedAsync(receivers, TimeSpan.FromSeconds(5)).ConfigureAwait(false);

        double activeSeconds = shared.LastOkTimestamp > shared.Start
            ? (shared.LastOkTimestamp - shared.Start) / (double)Stopwatch.Frequency : stopwatch.Elapsed.TotalSeconds;
        report.Finish(stopwatch.Elapsed);
        report.Counter("connections opened", opened.Opened);
        report.Counter("sent", shared.Sent);
        report.Counter("ok", shared.Accepted);
        report.Counter("fail (OK false)", shared.Rejected);
        report.Counter("timeouts", shared.Timeouts);
        report.Counter("lost (connection closed)", shared.Lost);
        report.Counter("unmatched OK", shared.Unmatched);
        report.Counter("not sent", limit - shared.Sent);
        report.Rate("ok", shared.Accepted / Math.Max(activeSeconds, 1e-9));
        report.Rate("sent", shared.Sent / Math.Max(stopwatch.Elapsed.TotalSeconds, 1e-9));
        report.AddGroups("rejected (OK false) by prefix", shared.RejectedByPrefix);
        report.AddGroups("accepted with message", shared.AcceptedByPrefix);
        report.AddGroups("NOTICE by prefix", shared.Notices);
        report.AddGroups("connect failures", opened.Failures);
        report.Latency("EVENT -> OK", shared.Latency, headline: true);
        report.Latency("connect", connectLatency);
        if (options.MetricsUrl is not null)
            RelayMetrics.ReportSteadyState(report, metricsBefore, metricsAfter, acknowledgedAfter - acknowledgedBefore);
        if (options.Probe is { } probe && relayBefore is not null && relayAfter is not null)
        {
            // After a complete run the relay holds what the corpus says survives supersession: the
            // loaded corpus ends where this run ended, and a --from run starts on a DB holding the
            // first --from events of the same file (the pre-fill). OK counts would include events
            // that a later version replaced.
            long stored = shared.Sent == limit && corpus.Count == from + limit ? corpus.StoredCount : from + shared.Accepted;
            probe.Report(report, relayBefore, relayAfter, "event", shared.Accepted + shared.Rejected, stored);
            if (from > 0) report.Notes.Add($"DB figures assume the database held the first {from:N0} events of this file before the run");
        }
        if (progress is not null) report.Series.Add(progress.Series);
        report.BytesSent = connections.Sum(c => c.Socket.BytesSent);
        report.BytesReceived = connections.Sum(c => c.Socket.BytesReceived);
        if (shared.DuplicateIds > 0)
            report.Notes.Add($"the events file repeats {shared.DuplicateIds} ids; their OKs cannot be told apart (regenerate it)");
        foreach (IngestConnection c in connections)
            if (c.Socket.CloseReason is { } reason && reason != "closed by client" && reason != "stopped")
                report.Notes.Add("a connection ended early: " + reason);
        return report;
    }

    /// <summary>State shared by all connections of one run.</summary>
    private sealed class IngestState
    {
        public IngestState(EventCorpus corpus, int from, int limit, double rate, TimeSpan timeout)
        {
            Corpus = corpus;
            From = from;
            Limit = limit;
            TicksPerEvent = rate > 0 ? Stopwatch.Frequency / rate : 0;
            TimeoutTicks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            SentAt = new long[limit];
            IndexById = new Dictionary<Bytes32, int>(limit);
            for (int i = 0; i < limit; i++)
                if (!IndexById.TryAdd(corpus.Ids[from + i], i)) DuplicateIds++;
        }

        public EventCorpus Corpus { get; }
        public int From { get; }
        public int Limit { get; }
        public double TicksPerEvent { get; }
        public long TimeoutTicks { get; }
        public long[] SentAt { get; }
        public Dictionary<Bytes32, int> IndexById { get; }
        public int DuplicateIds { get; }
        public long Start;
        public int Next = -1;
        public long Sent, Accepted, Rejected, Timeouts, Lost, Unmatched, LastOkTimestamp;
        public LatencyRecorder Latency { get; } = new();
        /// <summary>OK latency since the last progress step; swapped for a fresh one at each step.</summary>
        public LatencyRecorder StepLatency = new();
        public ConcurrentDictionary<string, long> RejectedByPrefix { get; } = new(StringComparer.Ordinal);
        public ConcurrentDictionary<string, long> AcceptedByPrefix { get; } = new(StringComparer.Ordinal);
        public ConcurrentDictionary<string, long> Notices { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>One row per <c>every</c> acknowledged events, printed as it happens (a 1M-event fill runs for minutes).</summary>
    private sealed class Progress(int every, RelayProbe? probe, RelaySample? first, IngestState state)
    {
        private long _nextAt = every;
        private long _lastAcknowledged;
        private long _lastTimestamp;
        private long _start;
        private RelaySample? _last = first;

        public ReportSeries Series { get; } = new($"progress per {every:N0} events acknowledged",
            ("acknowledged", "N0"), ("elapsed s", "0.0"), ("events/s in step", "N0"), ("OK p50 ms", "0.00"), ("OK p99 ms", "0.00"),
            ("relay CPU us/event", "N0"), ("relay cores", "0.00"), ("relay RSS MiB", "N0"), ("data.mdb MiB", "N0"),
            ("DB bytes/event", "N0"), ("disk writes KB/event", "0.0"));

        public void Start(long timestamp) { _start = timestamp; _lastTimestamp = timestamp; }

        public void Check(bool final)
        {
            long acknowledged = Volatile.Read(ref state.Accepted) + Volatile.Read(ref state.Rejected);
            if (acknowledged < _nextAt && !(final && acknowledged > _lastAcknowledged)) return;
            while (_nextAt <= acknowledged) _nextAt += every;
            long now = Stopwatch.GetTimestamp();
            long events = acknowledged - _lastAcknowledged;
            double seconds = (now - _lastTimestamp) / (double)Stopwatch.Frequency;
            LatencySummary latency = Interlocked.Exchange(ref state.StepLatency, new LatencyRecorder()).Summarize();
            RelaySample? sample = probe?.Sample();
            double? cpu = sample is not null && _last is not null ? RelayProbe.CpuSeconds(_last, sample) : null;
            double? writes = sample?.WriteBytes is long wa && _last?.WriteBytes is long wb ? wa - wb : null;
            long accepted = Volatile.Read(ref state.Accepted);
            Series.Add(acknowledged, (now - _start) / (double)Stopwatch.Frequency, events / Math.Max(seconds, 1e-9),
                latency.P50Ms, latency.P99Ms,
                cpu * 1e6 / Math.Max(events, 1), cpu / Math.Max(seconds, 1e-9),
                sample?.RssKiB / 1024.0, sample?.DbFileBytes / 1048576.0,
                sample?.DbFileBytes is long db && state.From + accepted > 0 ? db / (double)(state.From + accepted) : null,
                writes / 1000.0 / Math.Max(events, 1));
            Console.WriteLine("progress: " + string.Join("  ", Series.Columns.Select((c, i) => c.Name + " " + Series.Format(Series.Rows[^1])[i])));
            _lastAcknowledged = acknowledged;
            _lastTimestamp = now;
            _last = sample ?? _last;
        }
    }

    private sealed class IngestConnection(NostrWebSocket socket, IngestState state, int window) : IRelayMessageHandler
    {
        private const int MaxBatch = 64;
        private readonly SemaphoreSlim _window = new(window, window);
        private readonly HashSet<int> _inFlight = new(window);
        private readonly Lock _lock = new();

        public NostrWebSocket Socket { get; } = socket;
        public int InFlight { get { lock (_lock) return _inFlight.Count; } }

        /// <summary>
        /// <paramref name="stop"/> (the duration cap) only interrupts waiting for a free slot: a message
        /// whose slot is taken is always written out, or it would sit in flight until the timeout.
        /// </summary>
        public async Task SendLoopAsync(CancellationToken stop, CancellationToken abort)
        {
            var frames = new OutgoingFrames(Socket);
            try
            {
                while (Socket.IsOpen)
                {
                    await _window.WaitAsync(stop).ConfigureAwait(false);
                    int slots = 1;
                    // Unpaced: take every free slot and send them in one write.
                    while (state.TicksPerEvent == 0 && slots < MaxBatch && _window.Wait(0)) slots++;
                    for (int s = 0; s < slots; s++)
                    {
                        int index = Interlocked.Increment(ref state.Next);
                        if (index >= state.Limit)
                        {
                            _window.Release(slots - s);
                            await frames.FlushAsync(abort).ConfigureAwait(false);
                            return;
                        }
                        if (state.TicksPerEvent > 0)
                        {
                            long due = state.Start + (long)(index * state.TicksPerEvent);
                            long wait = due - Stopwatch.GetTimestamp();
                            if (wait > Stopwatch.Frequency / 1000)
                                await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency), stop).ConfigureAwait(false);
                        }
                        state.SentAt[index] = Stopwatch.GetTimestamp();
                        lock (_lock) _inFlight.Add(index);
                        frames.AddText(EventPrefix, state.Corpus.EventJson(state.From + index), EventSuffix);
                        Interlocked.Increment(ref state.Sent);
                    }
                    await frames.FlushAsync(abort).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) { }
            catch (IOException) { }
        }

        public void OnMessage(ReadOnlySpan<byte> message)
        {
            if (!RelayMessage.TryParse(message, out RelayMessage m)) return;
            if (m.Type == RelayMessageType.Notice) { Connector.CountPrefix(state.Notices, m.Text); return; }
            if (m.Type != RelayMessageType.Ok) return;

            Span<byte> id = stackalloc byte[32];
            if (!Hex.TryDecodeLower(m.EventIdHex, id) || !state.IndexById.TryGetValue(Bytes32.From(id), out int index))
            {
                Interlocked.Increment(ref state.Unmatched);
                return;
            }
            bool removed;
            lock (_lock) removed = _inFlight.Remove(index);
            if (!removed) { Interlocked.Increment(ref state.Unmatched); return; }

            long micros = LatencyRecorder.MicrosSince(state.SentAt[index]);
            state.Latency.RecordMicros(micros);
            Volatile.Read(ref state.StepLatency).RecordMicros(micros);
            Volatile.Write(ref state.LastOkTimestamp, Stopwatch.GetTimestamp());
            if (m.Accepted)
            {
                Interlocked.Increment(ref state.Accepted);
                if (!m.Text.IsEmpty) Connector.CountPrefix(state.AcceptedByPrefix, m.Text);
            }
            else
            {
                Interlocked.Increment(ref state.Rejected);
                Connector.CountPrefix(state.RejectedByPrefix, m.Text);
            }
            _window.Release();
        }

        /// <summary>Gives up on EVENTs older than the timeout (or all, when forced or the socket died).</summary>
        public void Sweep(bool force = false)
        {
            long now = Stopwatch.GetTimestamp();
            bool dead = !Socket.IsOpen;
            int expired = 0;
            lock (_lock)
            {
                if (_inFlight.Count == 0) return;
                List<int>? stale = null;
                foreach (int index in _inFlight)
                    if (force || dead || now - state.SentAt[index] > state.TimeoutTicks) (stale ??= []).Add(index);
                if (stale is null) return;
                foreach (int index in stale) _inFlight.Remove(index);
                expired = stale.Count;
            }
            Interlocked.Add(ref dead ? ref state.Lost : ref state.Timeouts, expired);
            _window.Release(expired);
        }
    }
}
