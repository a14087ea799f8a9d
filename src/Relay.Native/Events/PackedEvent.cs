using System.Buffers.Binary;

namespace Relay.Native.Events;

/// <summary>
/// The binary record of an event that everything below the parser works on: matching, indexing,
/// supersession, deletion, expiration. Built once by the ingester, stored as the value of the
/// <c>events</c> database, read in place from LMDB pages.
/// <code>
///  0  id          32 bytes
/// 32  pubkey      32 bytes
/// 64  created_at  i64 LE
/// 72  expiration  i64 LE (0 = none; NIP-40)
/// 80  kind        u16 LE
/// 82  tag count   u16 LE
/// 84  tags        letter (1 byte, ASCII a-z A-Z), value length (u16 LE), value (UTF-8, JSON-unescaped)
/// </code>
/// Only tags whose name is one ASCII letter and that have a value are packed, with their first
/// value (NIP-01 indexes single-letter tags by their first value), in the order of the event.
/// </summary>
public readonly ref struct PackedEvent
{
    public const int HeaderSize = 84;
    public const int MaxTagValueLength = ushort.MaxValue;

    private readonly ReadOnlySpan<byte> _data;

    public PackedEvent(ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderSize) throw new ArgumentException("packed event too short", nameof(data));
        _data = data;
    }

    public ReadOnlySpan<byte> Raw => _data;
    public ReadOnlySpan<byte> Id => _data.Slice(0, 32);
    public ReadOnlySpan<byte> PubKey => _data.Slice(32, 32);
    public long CreatedAt => BinaryPrimitives.ReadInt64LittleEndian(_data.Slice(64));
    public long Expiration => BinaryPrimitives.ReadInt64LittleEndian(_data.Slice(72));
    public int Kind => BinaryPrimitives.ReadUInt16LittleEndian(_data.Slice(80));
    public int TagCount => BinaryPrimitives.ReadUInt16LittleEndian(_data.Slice(82));
    public TagEnumerator Tags => new(_data.Slice(HeaderSize), TagCount);

    /// <summary>True when the event carries a NIP-40 expiration at or before <paramref name="now"/>.</summary>
    public bool IsExpiredAt(long now) { long e = Expiration; return e != 0 && e <= now; }

    /// <summary>Value of the first tag with this letter, or false. (For addressable events, the <c>d</c> tag.)</summary>
    public bool TryGetFirstTag(byte letter, out ReadOnlySpan<byte> value)
    {
        foreach (var tag in Tags)
        {
            if (tag.Letter == letter) { value = tag.Value; return true; }
        }
        value = default;
        return false;
    }

    public ref struct TagEnumerator
    {
        private ReadOnlySpan<byte> _rest;
        private int _remaining;
        private PackedTag _current;

        internal TagEnumerator(ReadOnlySpan<byte> tags, int count) { _rest = tags; _remaining = count; _current = default; }

        public readonly TagEnumerator GetEnumerator() => this;
        public readonly PackedTag Current => _current;

        public bool MoveNext()
        {
            if (_remaining == 0) return false;
            _remaining--;
            int len = BinaryPrimitives.ReadUInt16LittleEndian(_rest.Slice(1));
            _current = new PackedTag(_rest[0], _rest.Slice(3, len));
            _rest = _rest.Slice(3 + len);
            return true;
        }
    }
}

public readonly ref struct PackedTag
{
    public PackedTag(byte letter, ReadOnlySpan<byte> value) { Letter = letter; Value = value; }
    public byte Letter { get; }
    public ReadOnlySpan<byte> Value { get; }
}

/// <summary>Writes a <see cref="PackedEvent"/> into a caller-provided buffer.</summary>
public ref struct PackedEventWriter
{
    private readonly Span<byte> _buffer;
    private int _length;
    private int _tagCount;

    public PackedEventWriter(Span<byte> buffer, ReadOnlySpan<byte> id, ReadOnlySpan<byte> pubKey, long createdAt, int kind, long expiration)
    {
        if (buffer.Length < PackedEvent.HeaderSize) throw new ArgumentException("buffer too small", nameof(buffer));
        if ((uint)kind > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(kind));
        _buffer = buffer;
        id.CopyTo(buffer);
        pubKey.CopyTo(buffer.Slice(32));
        BinaryPrimitives.WriteInt64LittleEndian(buffer.Slice(64), createdAt);
        BinaryPrimitives.WriteInt64LittleEndian(buffer.Slice(72), expiration);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.Slice(80), (ushort)kind);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.Slice(82), 0);
        _length = PackedEvent.HeaderSize;
        _tagCount = 0;
    }

    public readonly int Length => _length;

    /// <summary>False when the buffer is full (the caller sizes it from the event's length, so this means a bug or a hostile size).</summary>
    public bool TryAddTag(byte letter, ReadOnlySpan<byte> value)
    {
        if (value.Length > PackedEvent.MaxTagValueLength || _tagCount == ushort.MaxValue) return false;
        if (_length + 3 + value.Length > _buffer.Length) return false;
        _buffer[_length] = letter;
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.Slice(_length + 1), (ushort)value.Length);
        value.CopyTo(_buffer.Slice(_length + 3));
        _length += 3 + value.Length;
        _tagCount++;
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.Slice(82), (ushort)_tagCount);
        return true;
    }

    public void SetExpiration(long expiration) => BinaryPrimitives.WriteInt64LittleEndian(_buffer.Slice(72), expiration);

    public readonly ReadOnlySpan<byte> Written => _buffer.Slice(0, _length);
}
