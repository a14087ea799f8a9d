using System.Security.Cryptography;
using NBitcoin.Secp256k1;

namespace Relay.Native.Crypto;

/// <summary>
/// BIP-340 signing, for tests, tools and the load generator; not on the relay's path.
/// Uses libsecp256k1 when it is installed, NBitcoin.Secp256k1 otherwise.
/// </summary>
public static class Schnorr
{
    /// <summary>The x-only public key (32 bytes) of a secret key.</summary>
    /// <exception cref="ArgumentException">The secret is not a valid secp256k1 secret key.</exception>
    public static byte[] PublicKeyFromSecret(ReadOnlySpan<byte> secret32)
    {
        if (Libsecp256k1.Instance is not { CanSign: true } library) return PublicKeyFromSecretManaged(secret32);
        var pubKey = new byte[32];
        if (!library.TryGetPublicKey(secret32, pubKey)) throw new ArgumentException("invalid secret key", nameof(secret32));
        return pubKey;
    }

    /// <summary>Signs with fresh auxiliary randomness, as BIP-340 recommends.</summary>
    /// <exception cref="ArgumentException">The secret is not a valid secp256k1 secret key.</exception>
    public static void Sign(ReadOnlySpan<byte> secret32, ReadOnlySpan<byte> msg32, Span<byte> sig64)
    {
        if (Libsecp256k1.Instance is not { CanSign: true } library)
        {
            SignManaged(secret32, msg32, sig64);
            return;
        }
        CheckSizes(msg32, sig64);
        Span<byte> aux = stackalloc byte[32];
        RandomNumberGenerator.Fill(aux);
        if (!library.TrySign(secret32, msg32, aux, sig64)) throw new ArgumentException("invalid secret key", nameof(secret32));
    }

    internal static byte[] PublicKeyFromSecretManaged(ReadOnlySpan<byte> secret32)
    {
        var pubKey = new byte[32];
        CreatePrivateKey(secret32).CreateXOnlyPubKey().WriteToSpan(pubKey);
        return pubKey;
    }

    internal static void SignManaged(ReadOnlySpan<byte> secret32, ReadOnlySpan<byte> msg32, Span<byte> sig64)
    {
        CheckSizes(msg32, sig64);
        CreatePrivateKey(secret32).SignBIP340(msg32, RandomNumberGenerator.GetBytes(32)).WriteToSpan(sig64);
    }

    private static void CheckSizes(ReadOnlySpan<byte> msg32, Span<byte> sig64)
    {
        if (msg32.Length != 32) throw new ArgumentException("expected 32 bytes", nameof(msg32));
        if (sig64.Length != 64) throw new ArgumentException("expected 64 bytes", nameof(sig64));
    }

    private static ECPrivKey CreatePrivateKey(ReadOnlySpan<byte> secret32)
    {
        if (secret32.Length != 32 || !ECPrivKey.TryCreate(secret32, out var key) || key is null)
            throw new ArgumentException("invalid secret key", nameof(secret32));
        return key;
    }
}
