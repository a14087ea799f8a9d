using System.Buffers;
using System.Diagnostics;
using Relay.Native.Events;
using Relay.Server.Relay;

namespace Relay.Server.Policy;

/// <summary>Receives the verdict for each event handed over with <see cref="WritePolicyPlugin.Submit"/>.</summary>
internal interface IPolicyVerdictSink
{
    /// <summary>Called once per event, on a plugin thread; from then on the job's buffer is the sink's.</summary>
    void OnVerdict(in WriteJob job, in PolicyVerdict verdict);
}

/// <summary>
/// A write-policy plugin in strfry's protocol (<c>relay.writePolicy.plugin</c>): one long-lived
/// <c>/bin/sh -c COMMAND</c>, one JSON line per event in, one answer line per event out.
/// <para>
/// Unlike strfry, which asks the plugin on its writer thread and waits for each answer before the
/// next event, the plugin sits between the ingesters and the writer and several requests are in
/// flight at once (answers come back in request order and must name the event). So a slow plugin
/// costs a pipe round trip per batch rather than per event, and a hung one delays only the events
/// waiting for it: never the writer, REQs or events the plugin is not asked about.
/// </para>
/// <para>
/// The plugin must answer the oldest request within the timeout of sending it or of its previous
/// answer (strfry's per-event budget). When it does not, answers with the wrong id or an unknown
/// action, or dies, it is killed: the event it failed on gets <c>OK false "error: ..."</c>, the
/// other events it held are sent once more to its successor, one at a time, so one poisonous event
/// cannot take its neighbours with it. A plugin that keeps failing before its first answer is
/// restarted with a growing delay, and events arriving meanwhile are refused at once rather than
/// queued. A new command, or (for a command without spaces, a script path) a new modification time of
/// the script, restarts it once its pending answers are in.
/// </para>
/// </summary>
internal sealed class WritePolicyPlugin : IEventPolicy, IPluginListener, IDisposable
{
    internal const int MaxInFlight = 128;
    /// <summary>Events queued for the plugin beyond those in flight; submitters wait for room past it.</summary>
    internal const int MaxWaiting = 1024;

    private static readonly long s_firstBackoffTicks = Stopwatch.Frequency / 10;
    private static readonly long s_maxBackoffTicks = Stopwatch.Frequency * 5;
    private static readonly TimeSpan s_retireGrace = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_watchdogPeriod = TimeSpan.FromMilliseconds(100);
    private static readonly Task<PolicyVerdict> s_accepted = Task.FromResult(PolicyVerdict.Accept);

    private struct Request
    {
        /// <summary>The event (its normalized JSON and id); the rest of the job is the sink's business.</summary>
        public WriteJob Job;
        /// <summary>Set for <see cref="EvaluateAsync"/>; then the buffer is the host's own copy.</summary>
        public TaskCompletionSource<PolicyVerdict>? Waiter;
        public EventSourceType Source;
        public string SourceInfo;
        public string? Authed;
        public long ReceivedAt;
        /// <summary>Already held by a plugin that died before answering it: a second loss is this event's own.</summary>
        public bool Resent;
    }

    private readonly object _lock = new();
    private readonly Ring _waiting = new(MaxWaiting + MaxInFlight);
    private readonly Ring _inFlight = new(MaxInFlight);
    private readonly Queue<TaskCompletionSource<bool>> _roomWaiters = new();
    private readonly IPolicyVerdictSink? _sink;
    private string _command;
    private long _timeoutTicks;
    private volatile bool _enabled;
    private PluginProcess? _process;
    // Stopwatch time from which the oldest request in flight has had the whole timeout.
    private long _progressAt;
    private int _failuresInRow;
    private long _retryAt;
    private bool _stopping, _stopped;
    private Thread? _sender;
    private Timer? _watchdog;

    /// <param name="sink">Gets the verdicts of <see cref="Submit"/>; null when only <see cref="EvaluateAsync"/> is used.</param>
    public WritePolicyPlugin(string command, int timeoutSeconds, IPolicyVerdictSink? sink = null)
    {
        _sink = sink;
        _command = command ?? "";
        _timeoutTicks = TimeoutTicks(timeoutSeconds);
        _enabled = _command.Length > 0;
        if (_enabled) StartThreadsLocked();
    }

    /// <summary>A command is configured. Callers skip the plugin entirely when not (one volatile read).</summary>
    public bool Enabled => _enabled;

    internal LogLimiter Log { get; } = new(20, TimeSpan.FromSeconds(10));

    /// <summary>The running plugin's process id, or null (for tests and diagnostics).</summary>
    internal int? ProcessId { get { lock (_lock) return _process?.ProcessId; } }

    /// <summary>
    /// Applies a new <c>relay.writePolicy</c> (config reload). A changed command replaces the running
    /// plugin after its pending answers; an empty one turns the plugin off; the timeout applies at once.
    /// </summary>
    public void Reconfigure(string command, int timeoutSeconds)
    {
        command ??= "";
        lock (_lock)
        {
            _timeoutTicks = TimeoutTicks(timeoutSeconds);
            if (command == _command) return;
            _command = command;
            _enabled = command.Length > 0;
            _failuresInRow = 0;
            _retryAt = 0;
            if (_enabled) StartThreadsLocked();
            Monitor.PulseAll(_lock);
        }
        Log.Info(command.Length > 0 ? $"write policy plugin set to: {command}" : "write policy plugin turned off");
    }

    /// <summary>
    /// Queues a verified event for the plugin; its verdict goes to the sink. Blocks while
    /// <see cref="MaxWaiting"/> events are queued (back-pressure to the caller, an ingester thread).
    /// </summary>
    public void Submit(in WriteJob job, EventSourceType source, string sourceInfo, string? authed, long receivedAt)
    {
        var r = new Request { Job = job, Source = source, SourceInfo = sourceInfo, Authed = authed, ReceivedAt = receivedAt };
        lock (_lock)
        {
            while (_waiting.Count >= MaxWaiting && !_stopped) Monitor.Wait(_lock);
            if (!_stopped)
            {
                EnqueueLocked(r);
                return;
            }
        }
        Complete(r, Failed("is stopped"));
    }

    /// <summary>
    /// Asks the plugin about one event from any source (import, sync, stream, router). The bytes are
    /// copied: the caller may reuse them at once. Accept without asking when no plugin is configured.
    /// Several calls may be outstanding; that is what makes a plugin fast.
    /// </summary>
    public Task<PolicyVerdict> EvaluateAsync(ReadOnlyMemory<byte> eventJson, EventSourceType source, string sourceInfo, string? authed = null,
        long receivedAt = 0)
    {
        if (!_enabled) return s_accepted;
        if (!TryReadId(eventJson.Span, out Bytes32 id))
            return Task.FromResult(new PolicyVerdict(PolicyAction.Reject, "invalid: event has no valid id"));
        byte[] copy = EventBuffers.Pool.Rent(eventJson.Length);
        eventJson.Span.CopyTo(copy);
        var waiter = new TaskCompletionSource<PolicyVerdict>(TaskCreationOptions.RunContinuationsAsynchronously);
        var r = new Request
        {
            Job = new WriteJob { Buffer = copy, JsonStart = 0, JsonLength = eventJson.Length, Id = id },
            Waiter = waiter,
            Source = source,
            SourceInfo = sourceInfo ?? "",
            Authed = authed,
            ReceivedAt = receivedAt != 0 ? receivedAt : DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        };
        _ = EnqueueWhenRoomAsync(r);
        return waiter.Task;
    }

    /// <summary>The import seam (<see cref="IEventPolicy"/>): <see cref="EvaluateAsync"/> with the request's own receivedAt.</summary>
    public ValueTask<PolicyVerdict> CheckAsync(PolicyRequest request, CancellationToken cancellationToken)
    {
        var verdict = EvaluateAsync(request.EventJson, request.Source, request.SourceInfo, null, request.ReceivedAt);
        // A cancelled caller stops waiting; the plugin still answers, and the answer is dropped.
        return new(cancellationToken.CanBeCanceled ? verdict.WaitAsync(cancellationToken) : verdict);
    }

    private async Task EnqueueWhenRoomAsync(Request r)
    {
        while (true)
        {
            TaskCompletionSource<bool> room;
            lock (_lock)
            {
                if (_stopped) break;
                if (_waiting.Count < MaxWaiting)
                {
                    EnqueueLocked(r);
                    return;
                }
                room = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                _roomWaiters.Enqueue(room);
            }
            if (!await room.Task.ConfigureAwait(false)) break;
        }
        Complete(r, Failed("is stopped"));
    }

    private void EnqueueLocked(in Request r)
    {
        // A plugin configured after the host was made without one starts here at the latest.
        StartThreadsLocked();
        _waiting.PushBack(r);
        if (_waiting.Count == 1) Monitor.PulseAll(_lock);
    }

    private void StartThreadsLocked()
    {
        if (_sender is not null || _stopping) return;
        _sender = new Thread(SendLoop) { Name = "Write policy", IsBackground = true };
        _sender.Start();
        _watchdog = new Timer(_ => CheckTimeout(), null, s_watchdogPeriod, s_watchdogPeriod);
    }

    /// <summary>Answers everything queued (starting the plugin if need be), then stops it.</summary>
    public void Dispose()
    {
        Thread? sender;
        lock (_lock)
        {
            if (_stopping) return;
            _stopping = true;
            sender = _sender;
            if (sender is null) StopLocked();
            Monitor.PulseAll(_lock);
        }
        // The watchdog keeps running meanwhile: a hung plugin still times out during shutdown.
        sender?.Join();
        _watchdog?.Dispose();
    }

    private void StopLocked()
    {
        _stopped = true;
        while (_roomWaiters.TryDequeue(out var room)) room.TrySetResult(false);
        Monitor.PulseAll(_lock);
    }

    // The one thread that starts, stops and writes to the plugin. Completions it decides (accept
    // while turned off, refusals while the plugin cannot run) run outside the lock.
    private void SendLoop()
    {
        var settled = new Request[MaxWaiting + MaxInFlight];
        var lines = new ArrayBufferWriter<byte>(64 * 1024);
        while (true)
        {
            int settledCount = 0;
            PolicyVerdict settledVerdict = default;
            PluginProcess? retire = null, target = null;
            string? start = null;
            bool exit = false;
            lock (_lock)
            {
                while (true)
                {
                    if (_waiting.Count == 0)
                    {
                        bool idle = _inFlight.Count == 0;
                        if (idle && _process is not null && (_stopping || _command.Length == 0))
                        {
                            retire = _process;
                            _process = null;
                        }
                        if (idle && _stopping)
                        {
                            exit = true;
                            StopLocked();
                        }
                        if (retire is not null || exit) break;
                        Monitor.Wait(_lock);
                        continue;
                    }
                    if (_command.Length == 0)
                    {
                        // Turned off: what was queued passes, as with no plugin at all.
                        settledCount = TakeWaitingLocked(settled);
                        settledVerdict = PolicyVerdict.Accept;
                        break;
                    }
                    if (_process is not null && (_process.Command != _command || ScriptChanged(_process)))
                    {
                        // The old plugin first answers what it holds, then makes way for the new one.
                        if (_inFlight.Count > 0) { Monitor.Wait(_lock); continue; }
                        retire = _process;
                        _process = null;
                        _failuresInRow = 0;
                        _retryAt = 0;
                        break;
                    }
                    if (_process is null)
                    {
                        if (Stopwatch.GetTimestamp() < _retryAt)
                        {
                            settledCount = TakeWaitingLocked(settled);
                            settledVerdict = Failed("is not running (restarting after repeated failures)");
                            break;
                        }
                        start = _command;
                        break;
                    }
                    if (!CanSendLocked()) { Monitor.Wait(_lock); continue; }

                    if (_inFlight.Count == 0) _progressAt = Stopwatch.GetTimestamp();
                    lines.ResetWrittenCount();
                    do
                    {
                        var r = _waiting.PopFront();
                        PluginRequest.Write(lines, r.Job.Json.Span, r.ReceivedAt, r.Source, r.SourceInfo, r.Authed);
                        _inFlight.PushBack(r);
                        if (r.Resent) break;
                    }
                    while (_waiting.Count > 0 && _inFlight.Count < MaxInFlight && !_waiting.PeekFront().Resent);
                    WakeRoomLocked();
                    target = _process;
                    break;
                }
            }

            if (retire is not null)
            {
                Log.Info($"write policy plugin [{retire.ProcessId}] stopped: {retire.Command}");
                retire.Retire(s_retireGrace);
            }
            if (exit) return;
            for (int i = 0; i < settledCount; i++)
            {
                Complete(settled[i], settledVerdict);
                settled[i] = default;
            }
            if (start is not null) StartPlugin(start);
            if (target is not null)
            {
                try
                {
                    target.Write(lines.WrittenSpan);
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException)
                {
                    Fail(target, "stopped reading", blameHead: false, e.Message);
                }
            }
        }
    }

    // A resent event travels alone, so that if the plugin dies again it is known to be the cause.
    private bool CanSendLocked()
    {
        if (_inFlight.Count == 0) return true;
        return _inFlight.Count < MaxInFlight && !_inFlight.PeekFront().Resent && !_waiting.PeekFront().Resent;
    }

    private int TakeWaitingLocked(Request[] into)
    {
        int n = 0;
        while (_waiting.Count > 0) into[n++] = _waiting.PopFront();
        WakeRoomLocked();
        return n;
    }

    private void WakeRoomLocked()
    {
        Monitor.PulseAll(_lock);
        int room = MaxWaiting - _waiting.Count;
        while (room-- > 0 && _roomWaiters.TryDequeue(out var waiter)) waiter.TrySetResult(true);
    }

    private void StartPlugin(string command)
    {
        PluginProcess? plugin = null;
        string? error = null;
        try
        {
            plugin = PluginProcess.Start(command, this, Log);
        }
        catch (Exception e)
        {
            error = e.Message;
        }
        lock (_lock)
        {
            if (plugin is not null) _process = plugin;
            else NoteFailureLocked(answered: false);
            Monitor.PulseAll(_lock);
        }
        if (plugin is null)
        {
            Log.Error($"write policy plugin could not be started ({command}): {error}");
            return;
        }
        Log.Info($"write policy plugin [{plugin.ProcessId}] started: {command}");
        plugin.BeginReading();
    }

    private static bool ScriptChanged(PluginProcess plugin) =>
        plugin.WatchedPath is { } path && PluginProcess.ScriptTicks(path) != plugin.ScriptWriteTicks;

    // A plugin that answered something works and just fell over: restart it at once. One that fails
    // again and again without any answer (a typo in the command, a missing interpreter, a plugin that
    // never flushes) is retried less and less often. The second failure in a row is still retried at
    // once: it is usually the event that killed the first one, sent again alone, killing the second.
    private void NoteFailureLocked(bool answered)
    {
        _failuresInRow = answered ? 1 : _failuresInRow + 1;
        _retryAt = _failuresInRow < 3
            ? 0
            : Stopwatch.GetTimestamp() + Math.Min(s_firstBackoffTicks << Math.Min(_failuresInRow - 3, 10), s_maxBackoffTicks);
    }

    void IPluginListener.OnLine(PluginProcess plugin, ReadOnlySpan<byte> line)
    {
        var response = PluginResponse.Parse(line);
        if (!response.IsAnswer)
        {
            Log.Warn($"write policy plugin [{plugin.ProcessId}] printed a line that is not a JSON object, skipped: {Printable(line)}");
            return;
        }
        Request done;
        string? failure = null;
        lock (_lock)
        {
            if (_process != plugin) return;
            if (_inFlight.Count == 0) failure = "answered when no event was waiting";
            else if (!response.HasId || !response.Id.Equals(_inFlight.PeekFront().Job.Id)) failure = "answered with the wrong id";
            else if (response.Action is null) failure = "answered with an unknown action";
            if (failure is null)
            {
                done = _inFlight.PopFront();
                plugin.Answered = true;
                _failuresInRow = 0;
                _progressAt = Stopwatch.GetTimestamp();
                Monitor.PulseAll(_lock);
            }
            else
            {
                done = default;
            }
        }
        if (failure is not null)
        {
            Fail(plugin, failure, blameHead: true, Printable(line));
            return;
        }
        Complete(done, new PolicyVerdict(response.Action!.Value, response.Message));
    }

    void IPluginListener.OnEnd(PluginProcess plugin, string reason, bool blameHead) => Fail(plugin, reason, blameHead, null);

    private void CheckTimeout()
    {
        PluginProcess? plugin;
        long timeoutTicks;
        lock (_lock)
        {
            plugin = _process;
            timeoutTicks = _timeoutTicks;
            if (plugin is null || _inFlight.Count == 0 || Stopwatch.GetTimestamp() - _progressAt < timeoutTicks) return;
        }
        Fail(plugin, "timed out", blameHead: true, $"no answer within {timeoutTicks / Stopwatch.Frequency} s");
    }

    /// <summary>
    /// Ends a plugin that broke the protocol or died. <paramref name="blameHead"/>: the oldest event in
    /// flight is the one it failed on (timeout, bad answer); when it simply died, nobody knows which.
    /// </summary>
    private void Fail(PluginProcess plugin, string reason, bool blameHead, string? detail)
    {
        List<Request>? refused = null;
        int resent = 0;
        lock (_lock)
        {
            if (_process != plugin) return;
            _process = null;
            NoteFailureLocked(plugin.Answered);
            int n = _inFlight.Count;
            if (n > 0)
            {
                var again = new Request[n];
                for (int i = 0; i < n; i++)
                {
                    var r = _inFlight.PopFront();
                    if (r.Resent || (blameHead && i == 0)) (refused ??= []).Add(r);
                    else
                    {
                        r.Resent = true;
                        again[resent++] = r;
                    }
                }
                for (int i = resent - 1; i >= 0; i--) _waiting.PushFront(again[i]);
            }
            Monitor.PulseAll(_lock);
        }
        plugin.Kill();
        Log.Error($"write policy plugin [{plugin.ProcessId}] {reason}{(detail is null ? "" : ": " + detail)}; "
            + $"{refused?.Count ?? 0} event(s) refused, {resent} to be sent again");
        if (refused is null) return;
        var verdict = Failed(reason);
        foreach (var r in refused) Complete(r, verdict);
    }

    private void Complete(in Request r, in PolicyVerdict verdict)
    {
        try
        {
            if (r.Waiter is { } waiter)
            {
                EventBuffers.Pool.Return(r.Job.Buffer);
                waiter.TrySetResult(verdict);
            }
            else if (_sink is not null)
            {
                _sink.OnVerdict(r.Job, verdict);
            }
            else
            {
                EventBuffers.Pool.Return(r.Job.Buffer);
            }
        }
        catch (Exception e)
        {
            Log.Error($"write policy: delivering a verdict failed: {e}");
        }
    }

    private static bool TryReadId(ReadOnlySpan<byte> eventJson, out Bytes32 id)
    {
        id = default;
        Span<byte> text = stackalloc byte[64];
        return EventParser.TryFindIdText(eventJson, text, out int length) && length == 64 && Hex.TryDecodeLower(text, id);
    }

    /// <summary>What an event gets when the plugin failed on it: refused with <c>error:</c>, as strfry does.</summary>
    internal static PolicyVerdict Failed(string reason) => new(PolicyAction.Reject, "error: write policy plugin " + reason);

    private static long TimeoutTicks(int seconds) => Math.Max(1, seconds) * Stopwatch.Frequency;

    private static string Printable(ReadOnlySpan<byte> line)
    {
        const int max = 200;
        string text = System.Text.Encoding.UTF8.GetString(line.Length > max ? line[..max] : line);
        return line.Length > max ? text + "..." : text;
    }

    /// <summary>A fixed-size double-ended queue of requests (the sender pushes resent ones back to the front).</summary>
    private sealed class Ring(int capacity)
    {
        private readonly Request[] _items = new Request[capacity];
        private int _head;

        public int Count { get; private set; }

        public ref Request PeekFront() => ref _items[_head];

        public void PushBack(in Request r)
        {
            if (Count == _items.Length) throw new InvalidOperationException("ring full");
            _items[(_head + Count) % _items.Length] = r;
            Count++;
        }

        public void PushFront(in Request r)
        {
            if (Count == _items.Length) throw new InvalidOperationException("ring full");
            _head = (_head - 1 + _items.Length) % _items.Length;
            _items[_head] = r;
            Count++;
        }

        public Request PopFront()
        {
            var r = _items[_head];
            _items[_head] = default;
            _head = (_head + 1) % _items.Length;
            Count--;
            return r;
        }
    }
}
