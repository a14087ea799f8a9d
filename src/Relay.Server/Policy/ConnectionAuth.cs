using Relay.Native.Events;

namespace Relay.Server.Policy;

/// <summary>
/// NIP-42 state of one connection: the pubkeys it authenticated as (several: NIP-42 says every
/// pubkey that authenticates counts) and whether its challenge was sent. Made only when a
/// connection first needs it. Written on the connection's receive loop; read by ingesters, REQ
/// workers and monitors through one volatile read of an array that is replaced, never changed.
/// </summary>
internal sealed class ConnectionAuth
{
    /// <summary>A bound on what one connection can make the relay keep and scan per event.</summary>
    public const int MaxPubkeys = 32;

    private Bytes32[] _pubkeys = [];
    private int _challengeSent;

    public ReadOnlySpan<Bytes32> Pubkeys => Volatile.Read(ref _pubkeys);

    public bool IsAuthenticated => Volatile.Read(ref _pubkeys).Length > 0;

    /// <summary>The first pubkey that authenticated, as hex (made once; the write-policy plugin's <c>authed</c>).</summary>
    public string? FirstPubkeyHex { get; private set; }

    public bool Has(ReadOnlySpan<byte> pubkey32)
    {
        foreach (ref readonly var key in Pubkeys)
            if (key.Span.SequenceEqual(pubkey32)) return true;
        return false;
    }

    public bool TryMarkChallengeSent() => Interlocked.Exchange(ref _challengeSent, 1) == 0;

    public enum AddResult : byte { Added, AlreadyThere, Full }

    /// <summary>Only the connection's receive loop adds (AUTH is handled there, in order), so no lock.</summary>
    public AddResult Add(in Bytes32 pubkey)
    {
        var current = _pubkeys;
        foreach (var key in current)
            if (key == pubkey) return AddResult.AlreadyThere;
        if (current.Length >= MaxPubkeys) return AddResult.Full;
        var next = new Bytes32[current.Length + 1];
        current.CopyTo(next, 0);
        next[^1] = pubkey;
        if (current.Length == 0) FirstPubkeyHex = Hex.Encode(pubkey.Span);
        Volatile.Write(ref _pubkeys, next);
        return AddResult.Added;
    }
}
