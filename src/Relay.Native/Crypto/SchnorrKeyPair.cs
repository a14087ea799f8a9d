using System.Diagnostics.CodeAnalysis;
using NBitcoin.Secp256k1;

namespace Relay.Native.Crypto;

/// <summary>
/// A secret key made ready once for signing many messages, for the load generator and tools; not on
/// the relay's path. The caller supplies BIP-340's auxiliary randomness, so a fixed aux gives a
/// reproducible signature, and both backends give byte-identical ones.
/// </summary>
/// <remarks>
/// Holds the secret in memory for its whole life (libsecp256k1's keypair or NBitcoin's key).
/// <see cref="Sign"/> may be called from several threads at once: the native context is never
/// randomized and the keypair is only read.
/// </remarks>
public sealed class SchnorrKeyPair
{
    private readonly byte[]? _nativeKeyPair;
    private readonly ECPrivKey? _managedKey;
    private readonly byte[] _pubKey;

    private SchnorrKeyPair(byte[]? nativeKeyPair, ECPrivKey? managedKey, byte[] pubKey)
    {
        _nativeKeyPair = nativeKeyPair;
        _managedKey = managedKey;
        _pubKey = pubKey;
    }

    /// <summary>True when libsecp256k1 with the schnorrsig signing calls is installed.</summary>
    public static bool NativeAvailable => Libsecp256k1.Instance is { CanSign: true };

    /// <summary>The x-only public key, 32 bytes.</summary>
    public ReadOnlySpan<byte> PubKey => _pubKey;

    public bool IsNative => _nativeKeyPair is not null;

    public string BackendName => IsNative ? "libsecp256k1" : "NBitcoin.Secp256k1";

    /// <exception cref="ArgumentException">The secret is not 32 bytes or not a valid secp256k1 secret key.</exception>
    public static SchnorrKeyPair Create(ReadOnlySpan<byte> secret32, bool preferNative = true) =>
        TryCreate(secret32, preferNative, out SchnorrKeyPair? keyPair)
            ? keyPair
            : throw new ArgumentException("invalid secret key", nameof(secret32));

    /// <summary>
    /// False when the secret is zero or not below the group order. Uses libsecp256k1 when
    /// <paramref name="preferNative"/> and it is installed, NBitcoin.Secp256k1 otherwise.
    /// </summary>
    /// <exception cref="ArgumentException">The secret is not 32 bytes.</exception>
    public static bool TryCreate(ReadOnlySpan<byte> secret32, bool preferNative, [NotNullWhen(true)] out SchnorrKeyPair? keyPair)
    {
        if (secret32.Length != 32) throw new ArgumentException("expected 32 bytes", nameof(secret32));
        keyPair = null;
        var pubKey = new byte[32];
        if (preferNative && Libsecp256k1.Instance is { CanSign: true } library)
        {
            var nativeKeyPair = new byte[Libsecp256k1.KeyPairSize];
            if (!library.TryCreateKeyPair(secret32, nativeKeyPair, pubKey)) return false;
            keyPair = new SchnorrKeyPair(nativeKeyPair, null, pubKey);
            return true;
        }
        if (!ECPrivKey.TryCreate(secret32, out ECPrivKey? managedKey) || managedKey is null) return false;
        managedKey.CreateXOnlyPubKey().WriteToSpan(pubKey);
        keyPair = new SchnorrKeyPair(null, managedKey, pubKey);
        return true;
    }

    /// <summary>The BIP-340 signature of a 32-byte message (an event id) with the given auxiliary randomness.</summary>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Sign(ReadOnlySpan<byte> msg32, ReadOnlySpan<byte> aux32, Span<byte> sig64)
    {
        if (msg32.Length != 32) throw new ArgumentException("expected 32 bytes", nameof(msg32));
        if (aux32.Length != 32) throw new ArgumentException("expected 32 bytes", nameof(aux32));
        if (sig64.Length != 64) throw new ArgumentException("expected 64 bytes", nameof(sig64));
        if (_nativeKeyPair is not null)
        {
            // Cannot fail for a keypair the library built itself with sizes checked above.
            if (!Libsecp256k1.Instance!.TrySignWithKeyPair(_nativeKeyPair, msg32, aux32, sig64))
                throw new InvalidOperationException("secp256k1_schnorrsig_sign32 failed");
            return;
        }
        // NBitcoin takes the aux data as memory, hence the copy; the managed path is the slow fallback anyway.
        _managedKey!.SignBIP340(msg32, aux32.ToArray()).WriteToSpan(sig64);
    }
}
