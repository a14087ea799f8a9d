using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Relay.Native.Events;

namespace Relay.Native.Query;

/// <summary>
/// Hashes ids and pubkeys for the live indexes. <see cref="Bytes32.GetHashCode"/> is the first four
/// bytes, which is fine for real hashes but not here: filter ids come from clients, who can pick
/// thousands of values sharing a prefix and turn every lookup into a list walk. HashCode's seed is
/// random per process, so colliding values cannot be chosen in advance.
/// </summary>
internal sealed class LiveBytes32Comparer : IEqualityComparer<Bytes32>
{
    public static readonly LiveBytes32Comparer Instance = new();

    public bool Equals(Bytes32 x, Bytes32 y) => x.Span.SequenceEqual(y.Span);

    public int GetHashCode(Bytes32 value)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(value.Span);
        return HashCode.Combine(words[0], words[1], words[2], words[3]);
    }
}

/// <summary>
/// Tag values as dictionary keys, looked up by the span of a packed tag without copying it
/// (<see cref="Dictionary{TKey,TValue}.GetAlternateLookup{TAlternateKey}"/>). Seeded per process
/// for the same reason as <see cref="LiveBytes32Comparer"/>: tag values are entirely client-chosen.
/// </summary>
internal sealed class LiveTagValueComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly LiveTagValueComparer Instance = new();

    private readonly long _seed = BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
    public int GetHashCode(byte[] value) => Hash(value);

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);
    public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);
    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

    private int Hash(ReadOnlySpan<byte> value)
    {
        ulong h = XxHash3.HashToUInt64(value, _seed);
        return (int)(h ^ (h >> 32));
    }
}
