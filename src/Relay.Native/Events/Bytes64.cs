using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Relay.Native.Events;

/// <summary>A 64-byte value held inline: a BIP-340 signature.</summary>
[InlineArray(64)]
public struct Bytes64 : IEquatable<Bytes64>
{
    private byte _first;

    public static Bytes64 From(ReadOnlySpan<byte> source)
    {
        if (source.Length != 64) throw new ArgumentException("expected 64 bytes", nameof(source));
        Bytes64 value = default;
        source.CopyTo(value);
        return value;
    }

    public readonly ReadOnlySpan<byte> Span =>
        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.AsRef(in _first), 64);

    public readonly bool Equals(Bytes64 other) => Span.SequenceEqual(other.Span);
    public override readonly bool Equals(object? obj) => obj is Bytes64 other && Equals(other);
    public override readonly int GetHashCode() => MemoryMarshal.Read<int>(Span);
    public override readonly string ToString() => Hex.Encode(Span);

    public static bool operator ==(Bytes64 a, Bytes64 b) => a.Equals(b);
    public static bool operator !=(Bytes64 a, Bytes64 b) => !a.Equals(b);
}
