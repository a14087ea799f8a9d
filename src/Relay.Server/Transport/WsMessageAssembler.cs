using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Unicode;

namespace Relay.Server.Transport;

internal enum WsFrameKind
{
    NeedMoreData,
    /// <summary>A data frame was buffered; its message is not complete yet.</summary>
    Fragment,
    /// <summary>A complete, UTF-8-valid text message is in <see cref="WsFrame.Payload"/>.</summary>
    Text,
    Ping,
    Pong,
    /// <summary>The peer's close frame; <see cref="WsFrame.Status"/> is its code, or 0 if it sent none.</summary>
    Close,
    /// <summary>The peer broke the protocol; <see cref="WsFrame.Status"/> is the close code to answer with.</summary>
    Error,
}

internal readonly ref struct WsFrame
{
    public WsFrame(WsFrameKind kind, ReadOnlySpan<byte> payload = default, ushort status = 0)
    {
        Kind = kind;
        Payload = payload;
        Status = status;
    }

    public WsFrameKind Kind { get; }

    /// <summary>Unmasked payload, valid until the next call to the assembler or until the pipe is advanced.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    public ushort Status { get; }
}

/// <summary>
/// Turns client frames at the start of a receive buffer into messages: validates each header, enforces
/// the message size cap before any payload is buffered, reassembles fragments and checks UTF-8.
/// A single-frame message lying in one buffer segment is unmasked in place and handed on without a copy;
/// anything else is copied into a pooled buffer that is given back after the message is delivered.
/// One instance per connection, used only by its receive loop.
/// </summary>
internal sealed class WsMessageAssembler : IDisposable
{
    private const int MinMessageBuffer = 4096;

    private readonly int _maxMessageSize;
    private readonly byte[] _control = new byte[125];
    private byte[]? _message;
    private int _messageLength;
    private bool _inFragmentedMessage;

    public WsMessageAssembler(int maxMessageSize)
    {
        _maxMessageSize = maxMessageSize;
    }

    /// <summary>
    /// Reads one frame from the start of <paramref name="buffer"/> and slices it off. On
    /// <see cref="WsFrameKind.NeedMoreData"/> and <see cref="WsFrameKind.Error"/> the buffer is left as it was.
    /// </summary>
    public WsFrameKind TryReadFrame(ref ReadOnlySequence<byte> buffer, out WsFrame frame)
    {
        frame = default;
        Span<byte> headerBytes = stackalloc byte[WsFrameHeader.MaxLength];
        int available = (int)Math.Min(buffer.Length, WsFrameHeader.MaxLength);
        buffer.Slice(0, available).CopyTo(headerBytes);
        var status = WsFrameHeader.TryParse(headerBytes[..available], out var header);
        if (status == WsHeaderStatus.NeedMoreData)
            return WsFrameKind.NeedMoreData;
        if (status == WsHeaderStatus.Invalid || header.Rsv != 0 || !header.Masked)
            return Fail(out frame, WsCloseStatus.ProtocolError);

        if (header.IsControl)
            return ReadControlFrame(ref buffer, header, out frame);

        switch (header.Opcode)
        {
            case WsOpcode.Continuation when !_inFragmentedMessage:
            case WsOpcode.Text when _inFragmentedMessage:
            case WsOpcode.Binary when _inFragmentedMessage:
                return Fail(out frame, WsCloseStatus.ProtocolError);
            case WsOpcode.Binary:
                // Nostr is text only; refusing at the first binary frame saves buffering it.
                return Fail(out frame, WsCloseStatus.UnsupportedData);
            case WsOpcode.Continuation:
            case WsOpcode.Text:
                break;
            default:
                return Fail(out frame, WsCloseStatus.ProtocolError);
        }

        long messageLength = (_inFragmentedMessage ? _messageLength : 0) + header.PayloadLength;
        if (messageLength > _maxMessageSize)
            return Fail(out frame, WsCloseStatus.MessageTooBig);
        long frameLength = header.HeaderLength + header.PayloadLength;
        if (buffer.Length < frameLength)
            return WsFrameKind.NeedMoreData;

        var payload = buffer.Slice(header.HeaderLength, header.PayloadLength);
        buffer = buffer.Slice(frameLength);

        if (header.Fin && !_inFragmentedMessage && payload.IsSingleSegment)
        {
            var span = Writable(payload.FirstSpan);
            WsMask.Apply(span, header.MaskKey, 0);
            return Deliver(span, out frame);
        }

        if (!_inFragmentedMessage)
        {
            _messageLength = 0;
            _inFragmentedMessage = true;
        }
        Append(payload, header.MaskKey);
        if (!header.Fin)
            return WsFrameKind.Fragment;
        _inFragmentedMessage = false;
        return Deliver(_message.AsSpan(0, _messageLength), out frame);
    }

    /// <summary>Gives the reassembly buffer back to the pool once its message has been consumed.</summary>
    public void ReleaseMessageBuffer()
    {
        if (_inFragmentedMessage || _message is null)
            return;
        ArrayPool<byte>.Shared.Return(_message);
        _message = null;
        _messageLength = 0;
    }

    public void Dispose()
    {
        _inFragmentedMessage = false;
        ReleaseMessageBuffer();
    }

    private WsFrameKind ReadControlFrame(ref ReadOnlySequence<byte> buffer, WsFrameHeader header, out WsFrame frame)
    {
        frame = default;
        if (!header.Fin || header.PayloadLength > 125)
            return Fail(out frame, WsCloseStatus.ProtocolError);
        if (header.Opcode is not (WsOpcode.Close or WsOpcode.Ping or WsOpcode.Pong))
            return Fail(out frame, WsCloseStatus.ProtocolError);
        int frameLength = header.HeaderLength + (int)header.PayloadLength;
        if (buffer.Length < frameLength)
            return WsFrameKind.NeedMoreData;

        var payload = _control.AsSpan(0, (int)header.PayloadLength);
        buffer.Slice(header.HeaderLength, payload.Length).CopyTo(payload);
        WsMask.Apply(payload, header.MaskKey, 0);

        if (header.Opcode == WsOpcode.Close)
        {
            ushort code = 0;
            if (payload.Length == 1)
                return Fail(out frame, WsCloseStatus.ProtocolError);
            if (payload.Length >= 2)
            {
                code = BinaryPrimitives.ReadUInt16BigEndian(payload);
                if (!WsCloseStatus.IsValidOnWire(code))
                    return Fail(out frame, WsCloseStatus.ProtocolError);
                if (!Utf8.IsValid(payload[2..]))
                    return Fail(out frame, WsCloseStatus.InvalidPayload);
            }
            buffer = buffer.Slice(frameLength);
            frame = new WsFrame(WsFrameKind.Close, payload, code);
            return WsFrameKind.Close;
        }

        buffer = buffer.Slice(frameLength);
        var kind = header.Opcode == WsOpcode.Ping ? WsFrameKind.Ping : WsFrameKind.Pong;
        frame = new WsFrame(kind, payload);
        return kind;
    }

    private void Append(ReadOnlySequence<byte> payload, uint maskKey)
    {
        int needed = _messageLength + (int)payload.Length;
        if (_message is null || _message.Length < needed)
        {
            int size = Math.Min(_maxMessageSize, Math.Max(MinMessageBuffer, Math.Max(needed, (_message?.Length ?? 0) * 2)));
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(size, needed));
            if (_message is not null)
            {
                _message.AsSpan(0, _messageLength).CopyTo(grown);
                ArrayPool<byte>.Shared.Return(_message);
            }
            _message = grown;
        }
        var destination = _message.AsSpan(_messageLength, (int)payload.Length);
        payload.CopyTo(destination);
        WsMask.Apply(destination, maskKey, 0);
        _messageLength = needed;
    }

    private static WsFrameKind Deliver(ReadOnlySpan<byte> message, out WsFrame frame)
    {
        if (!Utf8.IsValid(message))
            return Fail(out frame, WsCloseStatus.InvalidPayload);
        frame = new WsFrame(WsFrameKind.Text, message);
        return WsFrameKind.Text;
    }

    private static WsFrameKind Fail(out WsFrame frame, ushort status)
    {
        frame = new WsFrame(WsFrameKind.Error, default, status);
        return WsFrameKind.Error;
    }

    // The receive pipe's memory is ours until we advance past it, so unmasking in place is safe.
    private static Span<byte> Writable(ReadOnlySpan<byte> span) =>
        MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(span), span.Length);
}
