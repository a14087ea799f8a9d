using System.Buffers.Text;

namespace Relay.Native.Events;

/// <summary>Appends to a caller-sized span; running out of room is a sizing bug and throws.</summary>
internal ref struct SpanWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    public SpanWriter(Span<byte> buffer) { _buffer = buffer; _position = 0; }

    public readonly int Position => _position;
    public readonly ReadOnlySpan<byte> Written => _buffer.Slice(0, _position);

    public void Write(scoped ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer.Slice(_position));
        _position += bytes.Length;
    }

    public void Write(byte b) => _buffer[_position++] = b;

    public void WriteHex(scoped ReadOnlySpan<byte> bytes)
    {
        Hex.EncodeLower(bytes, _buffer.Slice(_position, bytes.Length * 2));
        _position += bytes.Length * 2;
    }

    public void WriteInteger(long value)
    {
        if (!Utf8Formatter.TryFormat(value, _buffer.Slice(_position), out int written))
            throw new ArgumentException("buffer too small");
        _position += written;
    }

    public void WriteCanonicalString(scoped ReadOnlySpan<byte> utf8) =>
        _position += CanonicalJson.WriteString(utf8, _buffer.Slice(_position));
}
