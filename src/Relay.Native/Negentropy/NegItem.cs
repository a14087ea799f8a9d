using System.Buffers.Binary;
using Relay.Native.Events;

namespace Relay.Native.Negentropy;

/// <summary>One reconciled record: an event's created_at and id, ordered by timestamp, then id bytewise.</summary>
public readonly struct NegItem : IComparable<NegItem>, IEquatable<NegItem>
{
    /// <summary>The 40-byte key form (timestamp big-endian ‖ id) whose bytewise order is the item order.</summary>
    public const int KeySize = 8 + NegentropyProtocol.IdSize;

    public NegItem(ulong timestamp, Bytes32 id)
    {
        Timestamp = timestamp;
        Id = id;
    }

    public NegItem(ulong timestamp, ReadOnlySpan<byte> id)
    {
        Timestamp = timestamp;
        Id = Bytes32.From(id);
    }

    // Fields, not properties: a property would hand out a copy, and a span over a copy's storage
    // (Bytes32.Span) outlives it as soon as it is kept past one statement.
    public readonly ulong Timestamp;
    public readonly Bytes32 Id;

    public int CompareTo(NegItem other)
    {
        if (Timestamp != other.Timestamp) return Timestamp < other.Timestamp ? -1 : 1;
        return Id.Span.SequenceCompareTo(other.Id.Span);
    }

    public bool Equals(NegItem other) => Timestamp == other.Timestamp && Id.Equals(other.Id);
    public override bool Equals(object? obj) => obj is NegItem other && Equals(other);
    public override int GetHashCode() => HashCode.Combine(Timestamp, Id);
    public override string ToString() => Timestamp + ":" + Id;

    public static bool operator ==(NegItem a, NegItem b) => a.Equals(b);
    public static bool operator !=(NegItem a, NegItem b) => !a.Equals(b);
    public static bool operator <(NegItem a, NegItem b) => a.CompareTo(b) < 0;
    public static bool operator >(NegItem a, NegItem b) => a.CompareTo(b) > 0;
    public static bool operator <=(NegItem a, NegItem b) => a.CompareTo(b) <= 0;
    public static bool operator >=(NegItem a, NegItem b) => a.CompareTo(b) >= 0;

    internal void WriteKey(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, Timestamp);
        Id.Span.CopyTo(destination.Slice(8));
    }

    internal static NegItem FromKey(ReadOnlySpan<byte> key) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(key), key.Slice(8, NegentropyProtocol.IdSize));
}

/// <summary>
/// A range boundary: a timestamp and an id prefix of 0..32 bytes, the missing bytes being zero. An
/// item is below the bound when it sorts before (timestamp, prefix padded with zeros).
/// </summary>
public readonly struct NegBound : IComparable<NegBound>, IEquatable<NegBound>
{
    public NegBound(ulong timestamp, ReadOnlySpan<byte> idPrefix)
    {
        if (idPrefix.Length > NegentropyProtocol.IdSize) throw new ArgumentException("an id prefix has at most 32 bytes", nameof(idPrefix));
        Timestamp = timestamp;
        Bytes32 padded = default;
        idPrefix.CopyTo(padded);
        IdPrefix = padded;
        PrefixLength = idPrefix.Length;
    }

    private NegBound(ulong timestamp, Bytes32 padded, int prefixLength)
    {
        Timestamp = timestamp;
        IdPrefix = padded;
        PrefixLength = prefixLength;
    }

    /// <summary>Encoded as timestamp 0: above every item (items may not use u64 max).</summary>
    public static NegBound Infinity => new(ulong.MaxValue, default(Bytes32), 0);

    /// <summary>The bound just at <paramref name="timestamp"/>: every item with a smaller timestamp is below it.</summary>
    public static NegBound AtTimestamp(ulong timestamp) => new(timestamp, default(Bytes32), 0);

    /// <summary>The bound exactly at an item (full id).</summary>
    public static NegBound AtItem(in NegItem item) => new(item.Timestamp, item.Id, NegentropyProtocol.IdSize);

    public readonly ulong Timestamp;
    /// <summary>The prefix, padded with zeros to 32 bytes (a field, see <see cref="NegItem.Id"/>).</summary>
    public readonly Bytes32 IdPrefix;
    public readonly int PrefixLength;

    public bool IsInfinity => Timestamp == ulong.MaxValue;

    /// <summary>Negative when <paramref name="item"/> is below this bound.</summary>
    public static int CompareItem(in NegItem item, in NegBound bound)
    {
        if (item.Timestamp != bound.Timestamp) return item.Timestamp < bound.Timestamp ? -1 : 1;
        return item.Id.Span.SequenceCompareTo(bound.IdPrefix.Span);
    }

    public int CompareTo(NegBound other)
    {
        if (Timestamp != other.Timestamp) return Timestamp < other.Timestamp ? -1 : 1;
        return IdPrefix.Span.SequenceCompareTo(other.IdPrefix.Span);
    }

    /// <summary>Same position in the item order (the encodings may still differ in prefix length).</summary>
    public bool Equals(NegBound other) => CompareTo(other) == 0;
    public override bool Equals(object? obj) => obj is NegBound other && Equals(other);
    public override int GetHashCode() => HashCode.Combine(Timestamp, IdPrefix);
    public override string ToString() => IsInfinity ? "inf" : Timestamp + ":" + Convert.ToHexStringLower(IdPrefix.Span.Slice(0, PrefixLength));

    public static bool operator ==(NegBound a, NegBound b) => a.Equals(b);
    public static bool operator !=(NegBound a, NegBound b) => !a.Equals(b);
    public static bool operator <(NegBound a, NegBound b) => a.CompareTo(b) < 0;
    public static bool operator >(NegBound a, NegBound b) => a.CompareTo(b) > 0;
    public static bool operator <=(NegBound a, NegBound b) => a.CompareTo(b) <= 0;
    public static bool operator >=(NegBound a, NegBound b) => a.CompareTo(b) >= 0;

    /// <summary>The 40-byte key form, comparable bytewise with <see cref="NegItem"/> keys.</summary>
    internal void WriteKey(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, Timestamp);
        IdPrefix.Span.CopyTo(destination.Slice(8));
    }

    /// <summary>
    /// The shortest bound that separates <paramref name="previous"/> (below) from <paramref name="current"/>
    /// (at or above): the timestamp alone if they differ, else the common id prefix plus one byte.
    /// </summary>
    public static NegBound Between(in NegItem previous, in NegItem current)
    {
        if (previous.Timestamp != current.Timestamp) return AtTimestamp(current.Timestamp);
        var a = previous.Id.Span;
        var b = current.Id.Span;
        int shared = a.CommonPrefixLength(b);
        int length = Math.Min(shared + 1, NegentropyProtocol.IdSize);
        return new NegBound(current.Timestamp, b.Slice(0, length));
    }
}
