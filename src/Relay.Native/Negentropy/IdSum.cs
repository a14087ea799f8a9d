using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Relay.Native.Events;

namespace Relay.Native.Negentropy;

/// <summary>
/// The sum of a set of ids, each read as a 256-bit little-endian integer, modulo 2^256. Adding and
/// subtracting are exact inverses, which is what lets a tree keep per-subtree sums and answer the
/// sum of any index range as the difference of two prefix sums.
/// </summary>
public struct IdSum : IEquatable<IdSum>
{
    public const int Size = 32;

    private ulong _w0, _w1, _w2, _w3;

    public static IdSum Zero => default;

    public static IdSum Read(ReadOnlySpan<byte> source)
    {
        IdSum sum;
        sum._w0 = BinaryPrimitives.ReadUInt64LittleEndian(source);
        sum._w1 = BinaryPrimitives.ReadUInt64LittleEndian(source.Slice(8));
        sum._w2 = BinaryPrimitives.ReadUInt64LittleEndian(source.Slice(16));
        sum._w3 = BinaryPrimitives.ReadUInt64LittleEndian(source.Slice(24));
        return sum;
    }

    public readonly void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, _w0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(8), _w1);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(16), _w2);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(24), _w3);
    }

    /// <summary>Adds a 32-byte id (or a serialized sum).</summary>
    public void Add(ReadOnlySpan<byte> id) => Add(
        BinaryPrimitives.ReadUInt64LittleEndian(id),
        BinaryPrimitives.ReadUInt64LittleEndian(id.Slice(8)),
        BinaryPrimitives.ReadUInt64LittleEndian(id.Slice(16)),
        BinaryPrimitives.ReadUInt64LittleEndian(id.Slice(24)));

    public void Add(in Bytes32 id) => Add(id.Span);

    public void Add(in IdSum other) => Add(other._w0, other._w1, other._w2, other._w3);

    public void Subtract(ReadOnlySpan<byte> id) => Subtract(
        BinaryPrimitives.ReadUInt64LittleEndian(id),
        BinaryPrimitives.ReadUInt64LittleEndian(id.Slice(8)),
        BinaryPrimitives.ReadUInt64LittleEndian(id.Slice(16)),
        BinaryPrimitives.ReadUInt64LittleEndian(id.Slice(24)));

    public void Subtract(in IdSum other) => Subtract(other._w0, other._w1, other._w2, other._w3);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Add(ulong b0, ulong b1, ulong b2, ulong b3)
    {
        ulong s0 = _w0 + b0;
        ulong carry = s0 < b0 ? 1UL : 0UL;
        ulong s1 = _w1 + b1;
        ulong c1 = s1 < b1 ? 1UL : 0UL;
        s1 += carry;
        c1 |= s1 < carry ? 1UL : 0UL;
        ulong s2 = _w2 + b2;
        ulong c2 = s2 < b2 ? 1UL : 0UL;
        s2 += c1;
        c2 |= s2 < c1 ? 1UL : 0UL;
        _w0 = s0;
        _w1 = s1;
        _w2 = s2;
        _w3 = _w3 + b3 + c2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Subtract(ulong b0, ulong b1, ulong b2, ulong b3)
    {
        ulong d0 = _w0 - b0;
        ulong borrow = _w0 < b0 ? 1UL : 0UL;
        ulong d1 = _w1 - b1;
        ulong o1 = _w1 < b1 ? 1UL : 0UL;
        o1 |= d1 < borrow ? 1UL : 0UL;
        d1 -= borrow;
        ulong d2 = _w2 - b2;
        ulong o2 = _w2 < b2 ? 1UL : 0UL;
        o2 |= d2 < o1 ? 1UL : 0UL;
        d2 -= o1;
        _w0 = d0;
        _w1 = d1;
        _w2 = d2;
        _w3 = _w3 - b3 - o2;
    }

    /// <summary>The Negentropy fingerprint of a range holding <paramref name="count"/> items with this sum.</summary>
    public readonly Fingerprint ToFingerprint(ulong count)
    {
        Span<byte> input = stackalloc byte[Size + NegVarint.MaxLength];
        Write(input);
        int length = Size + NegVarint.Write(input.Slice(Size), count);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input.Slice(0, length), hash);
        Fingerprint fingerprint = default;
        hash.Slice(0, NegentropyProtocol.FingerprintSize).CopyTo(fingerprint);
        return fingerprint;
    }

    public readonly bool Equals(IdSum other) => _w0 == other._w0 && _w1 == other._w1 && _w2 == other._w2 && _w3 == other._w3;
    public override readonly bool Equals(object? obj) => obj is IdSum other && Equals(other);
    public override readonly int GetHashCode() => HashCode.Combine(_w0, _w1, _w2, _w3);

    public override readonly string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        Write(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    public static bool operator ==(IdSum a, IdSum b) => a.Equals(b);
    public static bool operator !=(IdSum a, IdSum b) => !a.Equals(b);
}

/// <summary>The 16-byte digest of a range (see <see cref="IdSum.ToFingerprint"/>).</summary>
[InlineArray(NegentropyProtocol.FingerprintSize)]
public struct Fingerprint : IEquatable<Fingerprint>
{
    private byte _first;

    public static Fingerprint From(ReadOnlySpan<byte> source)
    {
        if (source.Length != NegentropyProtocol.FingerprintSize) throw new ArgumentException("expected 16 bytes", nameof(source));
        Fingerprint value = default;
        source.CopyTo(value);
        return value;
    }

    public readonly ReadOnlySpan<byte> Span =>
        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.AsRef(in _first), NegentropyProtocol.FingerprintSize);

    public readonly bool Equals(Fingerprint other) => Span.SequenceEqual(other.Span);
    public override readonly bool Equals(object? obj) => obj is Fingerprint other && Equals(other);
    public override readonly int GetHashCode() => MemoryMarshal.Read<int>(Span);
    public override readonly string ToString() => Convert.ToHexStringLower(Span);

    public static bool operator ==(Fingerprint a, Fingerprint b) => a.Equals(b);
    public static bool operator !=(Fingerprint a, Fingerprint b) => !a.Equals(b);
}
