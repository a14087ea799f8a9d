using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Relay.Load.Corpus;
using Relay.Load.Generation;
using Relay.Load.Protocol;
using Relay.Load.Reporting;
using Relay.Load.WebSockets;

namespace Relay.Load.Scenarios;

public sealed record QueryOptions(Uri Url, string Name, int Connections = 4, int Window = 8, TimeSpan? Duration = null,
    ulong Seed = 1, int Count = 0, TimeSpan? Timeout = null, string Mix = "default", RelayProbe? Probe = null);

/// <summary>
/// Keeps W subscriptions in flight per connection, drawn from a <see cref="QueryMix"/>; latency is REQ
/// written -> EOSE read; each subscription is CLOSEd after its EOSE.
/// </summary>
public static class QueryScenario
{
    public static async Task<LoadReport> RunAsync(QueryOptions options, EventCorpus corpus, CancellationToken cancellation)
    {
        TimeSpan duration = options.Duration ?? TimeSpan.FromSeconds(30);
        TimeSpan timeout = options.Timeout ?? TimeSpan.FromSeconds(30);
        var report = new LoadReport("query", options.Name, options.Url.ToString());
        report.Parameter("connections", options.Connections);
        report.Parameter("window", options.Window);
        report.Parameter("duration", duration);
        report.Parameter("seed", options.Seed);
        if (options.Count > 0) report.Parameter("count", options.Count);
        report.Parameter("mix", options.Mix);
        report.Parameter("corpusEvents", corpus.Count);
        report.Parameter("corpusStoredEvents", corpus.StoredCount);

        QueryMix mix = QueryMix.Create(options.Mix, corpus);
        var state = new QueryState(mix, options.Count > 0 ? options.Count : long.MaxValue, timeout);
        Connector.Result opened = await Connector.OpenAsync(options.Url, options.Connections, options.Connections, 256 * 1024,
            TimeSpan.FromSeconds(10), null, cancellation).ConfigureAwait(false);
        var connections = new List<QueryConnection>();
        for (int i = 0; i < opened.Sockets.Length; i++)
            if (opened.Sockets[i] is { } socket) connections.Add(new QueryConnection(socket, state, options.Window, options.Seed, i));

        using var receiveStop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var sendStop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var receivers = connections.Select(c => c.Socket.RunReceiveLoopAsync(c, receiveStop.Token)).ToArray();
        RelaySample? relayBefore = options.Probe?.Sample();
        var stopwatch = Stopwatch.StartNew();
        sendStop.CancelAfter(duration);
        Task sending = Task.WhenAll(connections.Select(c => Task.Run(() => c.SendLoopAsync(sendStop.Token, cancellation))));

        long drainDeadline = long.MaxValue;
        while (true)
        {
            await Task.WhenAny(sending, Task.Delay(100, CancellationToken.None)).ConfigureAwait(false);
            foreach (QueryConnection c in connections) c.Sweep(force: false);
            if (sending.IsCompleted)
            {
                if (drainDeadline == long.MaxValue) drainDeadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
                if (connections.All(c => c.InFlight == 0) || Stopwatch.GetTimestamp() > drainDeadline) break;
            }
        }
        foreach (QueryConnection c in connections) c.Sweep(force: true);
        stopwatch.Stop();
        RelaySample? relayAfter = options.Probe?.Sample();
        foreach (QueryConnection c in connections) await c.FlushClosesAsync(CancellationToken.None).ConfigureAwait(false);

        receiveStop.Cancel();
        await Connector.CloseAllAsync(connections.Select(c => (NostrWebSocket?)c.Socket).ToList()).ConfigureAwait(false);
        await Connector.WaitBoundedAsync(receivers, TimeSpan.FromSeconds(5)).ConfigureAwait(false);

        double seconds = Math.Max(stopwatch.Elapsed.TotalSeconds, 1e-9);
        report.Finish(stopwatch.Elapsed);
        report.Counter("connections opened", opened.Opened);
        report.Counter("REQ sent", state.Sent);
        report.Counter("ok (EOSE)", state.Completed);
        report.Counter("fail (CLOSED)", state.Closed);
        report.Counter("timeouts", state.Timeouts);
        report.Counter("lost (connection closed)", state.Lost);
        report.Counter("events received", state.Events);
        double eventsPerReq = state.Events / (double)Math.Max(1, state.Completed);
        report.Counter("events per REQ (mean)", (long)Math.Round(eventsPerReq));
        report.Rate("ok", state.Completed / seconds);
        report.Rate("events", state.Events / seconds);
        report.Latency("REQ -> EOSE (all)", state.Latency, headline: true);
        var eventsByType = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int t = 0; t < mix.Types.Length; t++)
        {
            if (state.CompletedByType[t] == 0) continue;
            report.Latency(mix.Types[t], state.LatencyByType[t]);
            eventsByType[mix.Types[t]] = (long)Math.Round(state.EventsByType[t] / (double)state.CompletedByType[t]);
        }
        report.AddGroups("avg events per REQ", eventsByType);
        report.Notes.Add(FormattableString.Invariant($"mix '{mix.Name}': {eventsPerReq:0.0} events per REQ on average ({state.Completed:N0} REQs answered with EOSE)"));
        if (options.Probe is { } probe && relayBefore is not null && relayAfter is not null)
        {
            probe.Report(report, relayBefore, relayAfter, "REQ", state.Completed, corpus.StoredCount);
            if (RelayProbe.CpuSeconds(relayBefore, relayAfter) is double cpu && state.Events > 0)
                report.Counter("relay CPU per event sent (us)", (long)Math.Round(cpu * 1e6 / state.Events));
        }
        report.AddGroups("CLOSED by prefix", state.ClosedByPrefix);
        report.AddGroups("NOTICE by prefix", state.Notices);
        report.AddGroups("connect failures", opened.Failures);
        report.BytesSent = connections.Sum(c => c.Socket.BytesSent);
        report.BytesReceived = connections.Sum(c => c.Socket.BytesReceived);
        return report;
    }

    private sealed class QueryState(QueryMix mix, long limit, TimeSpan timeout)
    {
        public QueryMix Mix { get; } = mix;
        public long Limit { get; } = limit;
        public long TimeoutTicks { get; } = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        public long Sent, Completed, Closed, Timeouts, Lost, Events;
        public LatencyRecorder Latency { get; } = new();
        public LatencyRecorder[] LatencyByType { get; } = mix.Types.Select(_ => new LatencyRecorder()).ToArray();
        public long[] CompletedByType { get; } = new long[mix.Types.Length];
        public long[] EventsByType { get; } = new long[mix.Types.Length];
        public ConcurrentDictionary<string, long> ClosedByPrefix { get; } = new(StringComparer.Ordinal);
        public ConcurrentDictionary<string, long> Notices { get; } = new(StringComparer.Ordinal);
    }

    private struct Slot
    {
        public bool Active;
        public long Sequence;
        public long SentAt;
        public int Type;
        public long Events;
    }

    /// <summary>Sub ids are <c>&lt;slot&gt;.&lt;sequence&gt;</c>, so late messages of a finished REQ are recognised and ignored.</summary>
    private sealed class QueryConnection : IRelayMessageHandler
    {
        private readonly QueryState _state;
        private readonly SemaphoreSlim _window;
        private readonly Slot[] _slots;
        private readonly Lock _lock = new();
        private readonly ConcurrentQueue<string> _pendingCloses = new();
        private readonly OutgoingFrames _frames;
        private readonly ArrayBufferWriter<byte> _req = new(1024);
        private DeterministicRandom _random;
        private long _sequence;

        public QueryConnection(NostrWebSocket socket, QueryState state, int window, ulong seed, int connection)
        {
            Socket = socket;
            _state = state;
            _window = new SemaphoreSlim(window, window);
            _slots = new Slot[window];
            _frames = new OutgoingFrames(socket, 16 * 1024);
            _random = DeterministicRandom.For(seed, 100, (ulong)connection);
        }

        public NostrWebSocket Socket { get; }

        public int InFlight
        {
            get { lock (_lock) { int n = 0; foreach (Slot s in _slots) if (s.Active) n++; return n; } }
        }

        /// <summary>
        /// <paramref name="stop"/> (the duration cap) only interrupts waiting for a free slot: a message
        /// whose slot is taken is always written out, or it would sit in flight until the timeout.
        /// </summary>
        public async Task SendLoopAsync(CancellationToken stop, CancellationToken abort)
        {
            try
            {
                while (Socket.IsOpen)
                {
                    await _window.WaitAsync(stop).ConfigureAwait(false);
                    if (Interlocked.Increment(ref _state.Sent) > _state.Limit)
                    {
                        Interlocked.Decrement(ref _state.Sent);
                        _window.Release();
                        return;
                    }
                    AddPendingCloses();
                    string subId;
                    int slot;
                    lock (_lock)
                    {
                        slot = Array.FindIndex(_slots, s => !s.Active);
                        long sequence = ++_sequence;
                        subId = slot.ToString(CultureInfo.InvariantCulture) + "." + sequence.ToString(CultureInfo.InvariantCulture);
                        _req.ResetWrittenCount();
                        int type = _state.Mix.Write(ref _random, subId, _req);
                        _slots[slot] = new Slot { Active = true, Sequence = sequence, Type = type, SentAt = Stopwatch.GetTimestamp() };
                    }
                    _frames.AddText(_req.WrittenSpan);
                    await _frames.FlushAsync(abort).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) { }
            catch (IOException) { }
        }

        public async Task FlushClosesAsync(CancellationToken cancellation)
        {
            if (!Socket.IsOpen) return;
            AddPendingCloses();
            try { await _frames.FlushAsync(cancellation).ConfigureAwait(false); }
            catch (IOException) { }
        }

        private void AddPendingCloses()
        {
            while (_pendingCloses.TryDequeue(out string? subId))
            {
                _frames.AddText(System.Text.Encoding.ASCII.GetBytes("[\"CLOSE\",\"" + subId + "\"]"));
            }
        }

        public void OnMessage(ReadOnlySpan<byte> message)
        {
            // Only the sub id of an EVENT matters here: not walking ~1 KB of event JSON per message keeps
            // this tool's CPU (it shares the machine with the relay) low at hundreds of thousands of events/s.
            if (!RelayMessage.TryParse(message, out RelayMessage m, skipEventBody: true)) return;
            switch (m.Type)
            {
                case RelayMessageType.Event:
                    lock (_lock)
                        if (Find(m.SubscriptionId) is int slot) _slots[slot].Events++;
                    break;
                case RelayMessageType.Eose:
                    Finish(m.SubscriptionId, closedText: null, isClosed: false);
                    break;
                case RelayMessageType.Closed:
                    Finish(m.SubscriptionId, closedText: System.Text.Encoding.UTF8.GetString(m.Text), isClosed: true);
                    break;
                case RelayMessageType.Notice:
                    Connector.CountPrefix(_state.Notices, m.Text);
                    break;
            }
        }

        private void Finish(ReadOnlySpan<byte> subId, string? closedText, bool isClosed)
        {
            Slot done;
            lock (_lock)
            {
                if (Find(subId) is not int slot) return;
                done = _slots[slot];
                _slots[slot].Active = false;
            }
            if (isClosed)
            {
                Interlocked.Increment(ref _state.Closed);
                Connector.CountPrefix(_state.ClosedByPrefix, System.Text.Encoding.UTF8.GetBytes(closedText ?? ""));
            }
            else
            {
                long micros = LatencyRecorder.MicrosSince(done.SentAt);
                _state.Latency.RecordMicros(micros);
                _state.LatencyByType[done.Type].RecordMicros(micros);
                Interlocked.Increment(ref _state.Completed);
                Interlocked.Increment(ref _state.CompletedByType[done.Type]);
                Interlocked.Add(ref _state.Events, done.Events);
                Interlocked.Add(ref _state.EventsByType[done.Type], done.Events);
                _pendingCloses.Enqueue(System.Text.Encoding.ASCII.GetString(subId));
            }
            _window.Release();
        }

        /// <summary>The active slot this sub id belongs to, if the sequence is current. Caller holds the lock.</summary>
        private int? Find(ReadOnlySpan<byte> subId)
        {
            int dot = subId.IndexOf((byte)'.');
            if (dot <= 0 || !RelayMessage.TryParseInt(subId[..dot], out long slot) || !RelayMessage.TryParseInt(subId[(dot + 1)..], out long sequence))
                return null;
            if (slot < 0 || slot >= _slots.Length || !_slots[slot].Active || _slots[slot].Sequence != sequence) return null;
            return (int)slot;
        }

        public void Sweep(bool force)
        {
            long now = Stopwatch.GetTimestamp();
            bool dead = !Socket.IsOpen;
            int expired = 0;
            lock (_lock)
            {
                for (int i = 0; i < _slots.Length; i++)
                {
                    if (!_slots[i].Active || !(force || dead || now - _slots[i].SentAt > _state.TimeoutTicks)) continue;
                    _slots[i].Active = false;
                    expired++;
                    if (!dead) _pendingCloses.Enqueue(i.ToString(CultureInfo.InvariantCulture) + "." + _slots[i].Sequence.ToString(CultureInfo.InvariantCulture));
                }
            }
            if (expired == 0) return;
            Interlocked.Add(ref dead ? ref _state.Lost : ref _state.Timeouts, expired);
            _window.Release(expired);
        }
    }
}
