using Relay.Native.Events;
using Relay.Native.Query;

namespace Relay.Server.Policy;

/// <summary>
/// Pubkeys sorted for binary search. Lookups take a span and allocate nothing; sorting rather than
/// hashing keeps a lookup's cost independent of what keys a client chooses to present.
/// </summary>
internal sealed class PubkeySet
{
    private readonly Bytes32[] _keys;

    private PubkeySet(Bytes32[] sortedDistinct) => _keys = sortedDistinct;

    /// <summary>From lowercase hex keys (as the config and the pubkeys file normalize them).</summary>
    public static PubkeySet FromHex(IEnumerable<string> hexKeys)
    {
        var keys = new SortedSet<Bytes32>();
        Span<byte> raw = stackalloc byte[32];
        foreach (string hex in hexKeys)
        {
            if (hex.Length != 64 || !Hex.TryDecodeLower(System.Text.Encoding.ASCII.GetBytes(hex), raw))
                throw new ArgumentException($"not a lowercase hex pubkey: {hex}", nameof(hexKeys));
            keys.Add(Bytes32.From(raw));
        }
        var array = new Bytes32[keys.Count];
        keys.CopyTo(array);
        return new PubkeySet(array);
    }

    public int Count => _keys.Length;

    public bool Contains(ReadOnlySpan<byte> pubkey32) => _keys.Length > 0 && Filter.Contains(_keys, pubkey32);

    /// <summary>True when any of <paramref name="pubkeys"/> is in the set.</summary>
    public bool ContainsAny(ReadOnlySpan<Bytes32> pubkeys)
    {
        foreach (ref readonly var key in pubkeys)
            if (Contains(key.Span)) return true;
        return false;
    }
}
