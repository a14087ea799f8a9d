using NBitcoin.Secp256k1;

namespace Relay.Native.Crypto;

/// <summary>NBitcoin.Secp256k1: pure C#, always available, about a third of libsecp256k1's speed.</summary>
internal sealed class ManagedSchnorrVerifier : ISchnorrVerifier
{
    public string Name => "managed (NBitcoin.Secp256k1)";

    public bool Verify(ReadOnlySpan<byte> sig64, ReadOnlySpan<byte> msg32, ReadOnlySpan<byte> pubKey32)
    {
        if (sig64.Length != 64 || msg32.Length != 32 || pubKey32.Length != 32) return false;
        if (!ECXOnlyPubKey.TryCreate(pubKey32, out var pubKey)) return false;
        if (!SecpSchnorrSignature.TryCreate(sig64, out var sig)) return false;
        return pubKey.SigVerifyBIP340(sig, msg32);
    }

    public void VerifyBatch(ReadOnlySpan<byte> sigs, ReadOnlySpan<byte> msgs, ReadOnlySpan<byte> pubKeys, Span<bool> results) =>
        SchnorrBatch.VerifyEach(this, sigs, msgs, pubKeys, results);
}
