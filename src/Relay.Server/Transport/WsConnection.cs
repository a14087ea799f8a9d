using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text.Unicode;

namespace Relay.Server.Transport;

/// <summary>
/// One client socket as a duplex pipe (Kestrel's shape): a receive loop fills the input pipe, a send loop
/// drains the output pipe, and the processing loop in between parses the HTTP upgrade and then frames.
/// Outbound frames are sent under a per-connection lock by any thread: straight to the (non-blocking)
/// socket when nothing is pending, otherwise, and for whatever the socket did not take, into the output
/// pipe. The pipe never pauses its writers, so callers never wait on the socket, and the pending-byte
/// cap is ours.
/// </summary>
public sealed class WsConnection
{
    private const int MinReceiveBuffer = 2048;
    private const int InputHeadroom = 64 * 1024;

    // Big enough for a typical event frame in one system call; bigger frames go out in slices.
    private const int InlineScratchSize = 32 * 1024;

    private static long s_nextId;

    [ThreadStatic] private static byte[]? t_inlineScratch;

    private readonly Socket _socket;
    private readonly WebSocketListener _listener;
    private readonly ListenerOptions _options;
    private readonly IWebSocketHandler _handler;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly Lock _sendLock = new();
    private readonly WsMessageAssembler _assembler;
    private readonly long _burstTicks;             // frames closer together than this count as one burst

    private long _pendingOutboundBytes;
    private long _lastFrameTimestamp;      // Stopwatch timestamp of the last frame passed to SendFrame; guarded by _sendLock
    private volatile bool _outputClosed;   // no more frames may be queued (close sent, or aborted)
    private bool _outputCompleted;         // the output pipe's writer is completed; guarded by _sendLock
    private int _aborted;
    private volatile ConnectionPhase _phase = ConnectionPhase.Http;
    private long _deadlineTick;            // Environment.TickCount64 after which the connection is cut; 0 = none
    private long _lastReceiveTick;
    private long _pingSentTick;            // only touched by the listener's housekeeping loop
    private bool _opened;
    private bool _peerClosed;              // the peer's close frame arrived: it will send nothing more
    private Task _receiveTask = Task.CompletedTask;
    private Task _sendTask = Task.CompletedTask;

    internal WsConnection(Socket socket, WebSocketListener listener, ListenerOptions options, IWebSocketHandler handler)
    {
        _socket = socket;
        _listener = listener;
        _options = options;
        _handler = handler;
        Id = Interlocked.Increment(ref s_nextId);
        RemoteAddress = socket.RemoteEndPoint is IPEndPoint endPoint ? Normalize(endPoint.Address) : IPAddress.None;
        _lastReceiveTick = Environment.TickCount64;
        _assembler = new WsMessageAssembler(options.MaxWebsocketPayloadSize);
        _burstTicks = options.InlineBurstMicroseconds * Stopwatch.Frequency / 1_000_000;
        // Synchronous sends then fail with WouldBlock instead of waiting, which lets SendText write to
        // the socket from the caller's thread. The async receive and send loops do not look at this flag.
        socket.Blocking = false;

        // A frame is only parsed once it is complete, so the receive side must be able to hold one
        // whole maximum-size frame before it pushes back on the socket.
        long inputPause = (long)options.MaxWebsocketPayloadSize + InputHeadroom;
        _input = new Pipe(new PipeOptions(
            pool: BlockMemoryPool.Instance,
            minimumSegmentSize: BlockMemoryPool.BlockSize,
            pauseWriterThreshold: inputPause,
            resumeWriterThreshold: inputPause / 2,
            useSynchronizationContext: false));
        // Writers never pause: SendText must not block; MaxPendingOutboundBytes is enforced by hand.
        _output = new Pipe(new PipeOptions(
            pool: BlockMemoryPool.Instance,
            minimumSegmentSize: BlockMemoryPool.BlockSize,
            pauseWriterThreshold: 0,
            resumeWriterThreshold: 0,
            useSynchronizationContext: false));
    }

    /// <summary>Unique and increasing within the process.</summary>
    public long Id { get; }

    /// <summary>The peer address, or the one from <see cref="ListenerOptions.RealIpHeader"/>.</summary>
    public IPAddress RemoteAddress { get; private set; }

    /// <summary>Owned by the handler.</summary>
    public object? State { get; set; }

    /// <summary>Bytes queued (or being written to the socket) and not yet accepted by the kernel.</summary>
    public long PendingOutboundBytes => Interlocked.Read(ref _pendingOutboundBytes);

    /// <summary>True once closing has started; from then on SendText returns false.</summary>
    public bool IsClosed => _outputClosed;

    internal Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Frames SendFrame wrote to the socket whole, from the caller's thread (for tests).</summary>
    internal long FramesSentInline { get; private set; }

    /// <summary>Frames started from the caller's thread whose rest went to the send loop (for tests).</summary>
    internal long FramesSplit { get; private set; }

    internal bool IsOpen => _phase == ConnectionPhase.Open;

    internal Socket Socket => _socket;

    /// <summary>
    /// Queues one unmasked text frame. Thread-safe, never blocks. False if the connection is closed, or was
    /// just aborted because its pending output passed <see cref="ListenerOptions.MaxPendingOutboundBytes"/>.
    /// </summary>
    public bool SendText(ReadOnlySpan<byte> utf8) => SendFrame(WsOpcode.Text, utf8, default, default);

    /// <summary>Like <see cref="SendText(ReadOnlySpan{byte})"/> with the payload part1 + part2 + part3.</summary>
    public bool SendText(ReadOnlySpan<byte> part1, ReadOnlySpan<byte> part2, ReadOnlySpan<byte> part3) =>
        SendFrame(WsOpcode.Text, part1, part2, part3);

    /// <summary>Starts the close handshake: sends a close frame and cuts the connection if no answer comes in time.</summary>
    public void Close(ushort statusCode, string reason)
    {
        if (_phase == ConnectionPhase.Http)
        {
            Abort();
            return;
        }
        if (SendClose(statusCode, reason))
            SetDeadline(_options.CloseTimeoutMilliseconds);
    }

    // On the thread pool, so the accept loop goes straight back to accepting even when the request
    // is already there and would otherwise be handled synchronously on the accepting thread.
    internal void Start() => Completion = Task.Run(RunAsync);

    /// <summary>Cuts the connection at once: no close frame, queued output is dropped.</summary>
    internal void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
            return;
        lock (_sendLock)
        {
            _outputClosed = true;
            CompleteOutputLocked();
        }
        DisposeSocket();
    }

    /// <summary>Called by the listener's one housekeeping loop about once a second.</summary>
    internal void OnTick(long now, bool pingRound)
    {
        long deadline = Volatile.Read(ref _deadlineTick);
        if (deadline != 0 && now >= deadline)
        {
            Abort();
            return;
        }
        if (!pingRound || _phase != ConnectionPhase.Open || _outputClosed)
            return;
        if (_pingSentTick != 0 && Volatile.Read(ref _lastReceiveTick) < _pingSentTick)
        {
            // Nothing at all since the previous ping round: a dead peer or a half-open TCP connection.
            Abort();
            return;
        }
        _pingSentTick = now;
        SendFrame(WsOpcode.Ping, default, default, default);
    }

    private async Task RunAsync()
    {
        try
        {
            _receiveTask = ReceiveLoopAsync();
            _sendTask = SendLoopAsync();
            SetDeadline(_options.HandshakeTimeoutSeconds * 1000L);
            if (await HandleHttpRequestAsync())
            {
                Volatile.Write(ref _deadlineTick, 0);
                _phase = ConnectionPhase.Open;
                _opened = true;
                _listener.OnConnectionOpened();
                try
                {
                    _handler.OnOpen(this);
                }
                catch (Exception e)
                {
                    Report(e);
                    Close(WsCloseStatus.InternalError, "internal error");
                }
                await ProcessFramesAsync();
            }
        }
        catch (Exception e)
        {
            Report(e);
        }
        finally
        {
            await ShutdownAsync();
            if (_opened)
            {
                _listener.OnConnectionClosed();
                try
                {
                    _handler.OnClose(this);
                }
                catch (Exception e)
                {
                    Report(e);
                }
            }
            _listener.Remove(this);
        }
    }

    private async Task<bool> HandleHttpRequestAsync()
    {
        var reader = _input.Reader;
        while (true)
        {
            var result = await reader.ReadAsync();
            var buffer = result.Buffer;
            var status = HttpRequestParser.TryParse(buffer, RemoteAddress, out var request, out var end);
            switch (status)
            {
                case HttpParseStatus.NeedMoreData:
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    if (result.IsCompleted || result.IsCanceled)
                        return false;
                    continue;
                case HttpParseStatus.TooLarge:
                    reader.AdvanceTo(buffer.End);
                    WriteRaw(HttpResponseWriter.Serialize(HttpResponseWriter.Error(431), includeBody: true));
                    return false;
                case HttpParseStatus.Invalid:
                    reader.AdvanceTo(buffer.End);
                    WriteRaw(HttpResponseWriter.Serialize(HttpResponseWriter.Error(400), includeBody: true));
                    return false;
            }
            // Frames the client sent right behind its request stay in the pipe for the frame loop.
            reader.AdvanceTo(end);
            return Respond(request!);
        }
    }

    /// <returns>True when the connection was upgraded to a WebSocket.</returns>
    private bool Respond(HttpRequestInfo request)
    {
        ApplyRealIp(request);
        if (WebSocketHandshake.IsUpgradeAttempt(request))
        {
            int status = WebSocketHandshake.Validate(request, out string acceptKey);
            if (status != 0)
            {
                WriteRaw(HttpResponseWriter.Serialize(HttpResponseWriter.Error(status), includeBody: true));
                return false;
            }
            return WriteRaw(HttpResponseWriter.SwitchingProtocols(acceptKey));
        }

        HttpResponse response;
        try
        {
            if (request.Method == "OPTIONS")
                response = HttpResponseWriter.Preflight();
            else if (request.Method is not ("GET" or "HEAD"))
                response = HttpResponseWriter.Error(405);
            else if (_options.Nip11Document is { } document && AcceptsNostrJson(request))
                response = HttpResponseWriter.Nip11(document(request));
            else
                response = _options.HttpHandler?.Invoke(request) ?? HttpResponseWriter.Page();
        }
        catch (Exception e)
        {
            Report(e);
            response = HttpResponseWriter.Error(500);
        }
        WriteRaw(HttpResponseWriter.Serialize(response, includeBody: request.Method != "HEAD"));
        return false;
    }

    private async Task ProcessFramesAsync()
    {
        var reader = _input.Reader;
        while (true)
        {
            var result = await reader.ReadAsync();
            var buffer = result.Buffer;
            bool stop = ProcessFrames(ref buffer, out ValueTask pending);
            if (!pending.IsCompletedSuccessfully)
            {
                // Frames may remain behind the one that paused us: mark nothing as examined, so the
                // next read returns them at once instead of waiting for more bytes from the peer.
                reader.AdvanceTo(buffer.Start);
                await pending;
                continue;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (stop || result.IsCompleted || result.IsCanceled)
                return;
        }
    }

    /// <returns>True when the frame loop is over (close handshake done or protocol failure).</returns>
    /// <param name="pending">Not completed when the handler paused the connection; the loop then stops early.</param>
    private bool ProcessFrames(ref ReadOnlySequence<byte> buffer, out ValueTask pending)
    {
        pending = default;
        while (true)
        {
            var kind = _assembler.TryReadFrame(ref buffer, out var frame);
            switch (kind)
            {
                case WsFrameKind.NeedMoreData:
                    return false;
                case WsFrameKind.Fragment:
                case WsFrameKind.Pong:
                    continue;
                case WsFrameKind.Text:
                    // After our close frame went out, RFC 6455 lets us discard what still arrives.
                    if (!_outputClosed)
                        pending = DeliverText(frame.Payload);
                    _assembler.ReleaseMessageBuffer();
                    if (!pending.IsCompletedSuccessfully)
                        return false;
                    continue;
                case WsFrameKind.Ping:
                    SendFrame(WsOpcode.Pong, frame.Payload, default, default);
                    continue;
                case WsFrameKind.Close:
                    // Echo the peer's code (or an empty close for an empty one); no-op if ours went first.
                    SendClose(frame.Status, "");
                    _peerClosed = true;
                    return true;
                default:
                    SendClose(frame.Status, ErrorReason(frame.Status));
                    return true;
            }
        }
    }

    private ValueTask DeliverText(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var pending = _handler.OnTextMessage(this, utf8);
            return pending.IsCompletedSuccessfully ? default : AwaitHandlerAsync(pending);
        }
        catch (Exception e)
        {
            Report(e);
            Close(WsCloseStatus.InternalError, "internal error");
            return default;
        }
    }

    private async ValueTask AwaitHandlerAsync(ValueTask pending)
    {
        try
        {
            await pending;
        }
        catch (Exception e)
        {
            Report(e);
            Close(WsCloseStatus.InternalError, "internal error");
        }
    }

    private async Task ShutdownAsync()
    {
        try
        {
            _phase = ConnectionPhase.Closing;
            SetDeadline(_options.CloseTimeoutMilliseconds);
            lock (_sendLock)
            {
                _outputClosed = true;
                CompleteOutputLocked();
            }
            await _sendTask;
            if (Volatile.Read(ref _aborted) == 0)
            {
                try { _socket.Shutdown(SocketShutdown.Send); } catch (Exception e) when (IsDisconnect(e)) { }
            }
            if (Volatile.Read(ref _aborted) == 0 && !_peerClosed)
            {
                // After an HTTP response or a protocol failure the peer may still be sending. Closing a
                // socket with unread input sends RST, which can destroy our response or close frame
                // before the peer reads it; so read until it hangs up too (or the deadline cuts it).
                var reader = _input.Reader;
                while (true)
                {
                    var result = await reader.ReadAsync();
                    reader.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted || result.IsCanceled)
                        break;
                }
            }
        }
        catch (Exception e)
        {
            Report(e);
        }
        finally
        {
            _phase = ConnectionPhase.Done;
            Volatile.Write(ref _deadlineTick, 0);
            DisposeSocket();
            // Completing the reader first also releases a receive loop parked on a full input pipe.
            _input.Reader.Complete();
            await _receiveTask;
            _assembler.Dispose();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var writer = _input.Writer;
        try
        {
            while (true)
            {
                // Wait for data before taking a buffer, so idle connections hold no receive memory.
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                var memory = writer.GetMemory(MinReceiveBuffer);
                int received = await _socket.ReceiveAsync(memory, SocketFlags.None);
                if (received == 0)
                    break;
                Volatile.Write(ref _lastReceiveTick, Environment.TickCount64);
                writer.Advance(received);
                var flush = await writer.FlushAsync();
                if (flush.IsCompleted || flush.IsCanceled)
                    break;
            }
        }
        catch (Exception e) when (IsDisconnect(e))
        {
        }
        catch (Exception e)
        {
            Report(e);
        }
        finally
        {
            writer.Complete();
        }
    }

    private async Task SendLoopAsync()
    {
        var reader = _output.Reader;
        bool clean = false;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync();
                var buffer = result.Buffer;
                if (buffer.IsSingleSegment)
                {
                    await _socket.SendAsync(buffer.First, SocketFlags.None);
                    Interlocked.Add(ref _pendingOutboundBytes, -buffer.Length);
                }
                else
                {
                    await SendGatheredAsync(buffer);
                }
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                    break;
            }
            clean = true;
        }
        catch (Exception e) when (IsDisconnect(e))
        {
        }
        catch (Exception e)
        {
            Report(e);
        }
        finally
        {
            reader.Complete();
            // A failed send means the peer is gone; make the receive side notice too.
            if (!clean)
                Abort();
        }
    }

    private const int MaxSegmentsPerSend = 64;
    private List<ArraySegment<byte>>? _sendSegments;

    /// <summary>
    /// Sends a multi-block output buffer with gathered writes (sendmsg with up to 64 blocks) instead
    /// of one system call per 4 KiB block: a REQ answer of hundreds of events is hundreds of KiB.
    /// </summary>
    private async Task SendGatheredAsync(System.Buffers.ReadOnlySequence<byte> buffer)
    {
        var segments = _sendSegments ??= new List<ArraySegment<byte>>(MaxSegmentsPerSend);
        long batchBytes = 0;
        foreach (var memory in buffer)
        {
            if (memory.IsEmpty) continue;
            if (!System.Runtime.InteropServices.MemoryMarshal.TryGetArray(memory, out ArraySegment<byte> array))
            {
                await FlushSegmentsAsync(segments, batchBytes);
                batchBytes = 0;
                await _socket.SendAsync(memory, SocketFlags.None);
                Interlocked.Add(ref _pendingOutboundBytes, -memory.Length);
                continue;
            }
            segments.Add(array);
            batchBytes += array.Count;
            if (segments.Count == MaxSegmentsPerSend)
            {
                await FlushSegmentsAsync(segments, batchBytes);
                batchBytes = 0;
            }
        }
        await FlushSegmentsAsync(segments, batchBytes);
    }

    private async Task FlushSegmentsAsync(List<ArraySegment<byte>> segments, long bytes)
    {
        if (segments.Count == 0) return;
        try
        {
            // Stream sockets complete a buffer-list send only when every byte is written.
            await _socket.SendAsync(segments, SocketFlags.None);
        }
        finally
        {
            segments.Clear();
        }
        Interlocked.Add(ref _pendingOutboundBytes, -bytes);
    }

    private bool SendFrame(WsOpcode opcode, ReadOnlySpan<byte> part1, ReadOnlySpan<byte> part2, ReadOnlySpan<byte> part3)
    {
        long payloadLength = (long)part1.Length + part2.Length + part3.Length;
        Span<byte> header = stackalloc byte[WsFrameHeader.MaxLength];
        int headerLength = WsFrameHeader.Write(header, opcode, fin: true, payloadLength);
        var frame = new WsOutboundFrame(header[..headerLength], part1, part2, part3);
        bool socketFailed = false;
        lock (_sendLock)
        {
            if (_outputClosed)
                return false;
            if (Interlocked.Read(ref _pendingOutboundBytes) + frame.Length > _options.MaxPendingOutboundBytes)
            {
                _outputClosed = true;
                CompleteOutputLocked();
            }
            else
            {
                long sent = 0;
                // A frame right behind the previous one (a REQ answer, a batch of OKs) is queued instead:
                // the send loop then writes the whole burst with a few gathered system calls, where
                // sending each frame inline would cost one system call per event.
                // Nothing pending means every byte queued so far is already in the kernel and the send
                // loop has no socket send in flight (it subtracts only once a send completed), so this
                // frame can go straight out without overtaking anything; holding the lock keeps any
                // other frame, and any new work for the send loop, from starting meanwhile.
                long now = Stopwatch.GetTimestamp();
                bool burst = now - _lastFrameTimestamp < _burstTicks;
                _lastFrameTimestamp = now;
                if (!burst && Interlocked.Read(ref _pendingOutboundBytes) == 0)
                {
                    sent = SendInlineLocked(frame);
                    if (sent == frame.Length)
                    {
                        FramesSentInline++;
                        return true;
                    }
                }
                if (sent >= 0)
                {
                    if (sent > 0)
                        FramesSplit++;
                    QueueLocked(frame, sent);
                    return true;
                }
                socketFailed = true;
                _outputClosed = true;
                CompleteOutputLocked();
            }
        }
        if (!socketFailed)
            WebSocketListener.CountSlowClientTermination();
        Abort();
        return false;
    }

    /// <summary>
    /// Writes as much of the frame as the socket takes without waiting (the socket is non-blocking, see
    /// the constructor), from the calling thread: a live event then reaches the wire without a hop to the
    /// thread pool for the send loop. Only called with nothing pending and under the send lock.
    /// </summary>
    /// <returns>Bytes the kernel took (all, some or none), or -1 when the socket failed.</returns>
    private long SendInlineLocked(scoped in WsOutboundFrame frame)
    {
        // The parts are spans the caller owns, so they are gathered into one buffer for one system call.
        var scratch = t_inlineScratch ??= GC.AllocateUninitializedArray<byte>(InlineScratchSize);
        long sent = 0;
        while (sent < frame.Length)
        {
            int chunk = frame.CopyTo(sent, scratch);
            int accepted;
            SocketError error;
            try
            {
                accepted = _socket.Send(scratch.AsSpan(0, chunk), SocketFlags.None, out error);
            }
            catch (ObjectDisposedException)
            {
                return -1;
            }
            if (error == SocketError.WouldBlock)
                return sent;
            if (error != SocketError.Success)
                return -1;
            sent += accepted;
            if (accepted < chunk)
                return sent;
        }
        return sent;
    }

    /// <summary>Hands the frame from byte <paramref name="from"/> on to the send loop.</summary>
    private void QueueLocked(scoped in WsOutboundFrame frame, long from)
    {
        var writer = _output.Writer;
        long skip = from;
        for (int i = 0; i < WsOutboundFrame.PartCount; i++)
        {
            var part = frame.Part(i);
            if (skip >= part.Length)
            {
                skip -= part.Length;
                continue;
            }
            Append(writer, part[(int)skip..]);
            skip = 0;
        }
        Interlocked.Add(ref _pendingOutboundBytes, frame.Length - from);
        Flush(writer);
    }

    /// <summary>Queues a close frame (code 0 = an empty one) and stops all further output.</summary>
    private bool SendClose(ushort statusCode, string reason)
    {
        Span<byte> payload = stackalloc byte[125];
        int length = 0;
        if (statusCode != 0)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload, statusCode);
            // Control frames carry at most 125 bytes; a too-long reason is cut at a character boundary.
            Utf8.FromUtf16(reason, payload[2..], out _, out int written, replaceInvalidSequences: true, isFinalBlock: true);
            length = 2 + written;
        }
        Span<byte> header = stackalloc byte[WsFrameHeader.MaxLength];
        int headerLength = WsFrameHeader.Write(header, WsOpcode.Close, fin: true, length);
        lock (_sendLock)
        {
            if (_outputClosed)
                return false;
            var writer = _output.Writer;
            Append(writer, header[..headerLength]);
            Append(writer, payload[..length]);
            Interlocked.Add(ref _pendingOutboundBytes, headerLength + length);
            _outputClosed = true;
            Flush(writer);
        }
        return true;
    }

    /// <summary>HTTP responses, before any frame; not subject to the pending cap.</summary>
    private bool WriteRaw(ReadOnlySpan<byte> bytes)
    {
        lock (_sendLock)
        {
            if (_outputClosed)
                return false;
            Append(_output.Writer, bytes);
            Interlocked.Add(ref _pendingOutboundBytes, bytes.Length);
            Flush(_output.Writer);
        }
        return true;
    }

    /// <summary>Copies into whatever block space the pipe has, never asking for more than one block.</summary>
    internal static void Append(PipeWriter writer, ReadOnlySpan<byte> source)
    {
        while (!source.IsEmpty)
        {
            var destination = writer.GetSpan();
            int length = Math.Min(destination.Length, source.Length);
            source[..length].CopyTo(destination);
            writer.Advance(length);
            source = source[length..];
        }
    }

    private static void Flush(PipeWriter writer)
    {
        // With pausing disabled the flush completes synchronously; it only wakes the send loop.
        var flush = writer.FlushAsync();
        if (flush.IsCompleted)
            flush.GetAwaiter().GetResult();
        else
            _ = flush.AsTask();
    }

    private void CompleteOutputLocked()
    {
        if (_outputCompleted)
            return;
        _outputCompleted = true;
        _output.Writer.Complete();
    }

    private void SetDeadline(long milliseconds)
    {
        long deadline = Environment.TickCount64 + milliseconds;
        long current = Volatile.Read(ref _deadlineTick);
        if (current == 0 || deadline < current)
            Volatile.Write(ref _deadlineTick, deadline);
    }

    private void ApplyRealIp(HttpRequestInfo request)
    {
        if (_options.RealIpHeader.Length == 0 || request.GetHeader(_options.RealIpHeader) is not { } value)
            return;
        // Proxies append to X-Forwarded-For style lists; the first entry is the client.
        int comma = value.IndexOf(',');
        string first = (comma < 0 ? value : value[..comma]).Trim();
        if (IPAddress.TryParse(first, out var address))
        {
            RemoteAddress = Normalize(address);
            request.RemoteAddress = RemoteAddress;
        }
    }

    private void DisposeSocket()
    {
        try
        {
            _socket.Dispose();
        }
        catch (Exception e) when (IsDisconnect(e))
        {
        }
    }

    private void Report(Exception e)
    {
        try
        {
            _options.OnError?.Invoke(e);
        }
        catch
        {
            // The error sink is not allowed to take the connection down with it.
        }
    }

    private static bool AcceptsNostrJson(HttpRequestInfo request) =>
        request.GetHeader("Accept") is { } accept && accept.Contains("application/nostr+json", StringComparison.OrdinalIgnoreCase);

    private static bool IsDisconnect(Exception e) =>
        e is SocketException or ObjectDisposedException or OperationCanceledException or IOException;

    private static IPAddress Normalize(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static string ErrorReason(ushort status) => status switch
    {
        WsCloseStatus.ProtocolError => "protocol error",
        WsCloseStatus.UnsupportedData => "binary messages are not supported",
        WsCloseStatus.InvalidPayload => "invalid UTF-8",
        WsCloseStatus.MessageTooBig => "message too big",
        _ => "",
    };

    private enum ConnectionPhase
    {
        Http,
        Open,
        Closing,
        Done,
    }
}
