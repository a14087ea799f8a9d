using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Relay.Native.Events;

/// <summary>A 32-byte value held inline: an event id, a pubkey, a hash. Ordered bytewise.</summary>
[InlineArray(32)]
public struct Bytes32 : IEquatable<Bytes32>, IComparable<Bytes32>
{
    private byte _first;

    public static Bytes32 From(ReadOnlySpan<byte> source)
    {
        if (source.Length != 32) throw new ArgumentException("expected 32 bytes", nameof(source));
        Bytes32 value = default;
        source.CopyTo(value);
        return value;
    }

    public readonly ReadOnlySpan<byte> Span =>
        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.AsRef(in _first), 32);

    public readonly bool Equals(Bytes32 other) => Span.SequenceEqual(other.Span);
    public readonly int CompareTo(Bytes32 other) => Span.SequenceCompareTo(other.Span);
    public override readonly bool Equals(object? obj) => obj is Bytes32 other && Equals(other);
    public override readonly int GetHashCode() => MemoryMarshal.Read<int>(Span);
    public override readonly string ToString() => Hex.Encode(Span);

    public static bool operator ==(Bytes32 a, Bytes32 b) => a.Equals(b);
    public static bool operator !=(Bytes32 a, Bytes32 b) => !a.Equals(b);
}
