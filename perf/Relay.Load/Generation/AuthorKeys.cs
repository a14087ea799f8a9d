using System.Buffers.Binary;
using Relay.Native.Crypto;
using Sha256 = System.Security.Cryptography.SHA256;

namespace Relay.Load.Generation;

/// <summary>
/// One secret key per author, derived from the seed so a replay can be re-signed or extended.
/// Signs with libsecp256k1 when the system has it, else with NBitcoin.Secp256k1 (same signatures).
/// </summary>
public sealed class AuthorKeys
{
    private readonly SchnorrKeyPair[] _keyPairs;
    private readonly string[] _pubKeyHex;

    private AuthorKeys(SchnorrKeyPair[] keyPairs)
    {
        _keyPairs = keyPairs;
        _pubKeyHex = new string[keyPairs.Length];
        for (int i = 0; i < keyPairs.Length; i++) _pubKeyHex[i] = Convert.ToHexStringLower(keyPairs[i].PubKey);
    }

    public int Count => _keyPairs.Length;
    public ReadOnlySpan<byte> PubKey(int author) => _keyPairs[author].PubKey;
    public string PubKeyHex(int author) => _pubKeyHex[author];
    public string SignerName => _keyPairs.Length == 0 ? "none" : _keyPairs[0].BackendName;

    public static AuthorKeys Derive(ulong seed, string purpose, int count, bool preferNative = true)
    {
        var keyPairs = new SchnorrKeyPair[count];
        Parallel.For(0, count, i => keyPairs[i] = DeriveKeyPair(seed, purpose, i, preferNative));
        return new AuthorKeys(keyPairs);
    }

    /// <summary>BIP-340 signature of a 32-byte event id with the given auxiliary data.</summary>
    public void Sign(int author, ReadOnlySpan<byte> id, ReadOnlySpan<byte> auxiliary, Span<byte> signature) =>
        _keyPairs[author].Sign(id, auxiliary, signature);

    private static SchnorrKeyPair DeriveKeyPair(ulong seed, string purpose, int index, bool preferNative)
    {
        Span<byte> input = stackalloc byte[64];
        Span<byte> secret = stackalloc byte[32];
        for (uint attempt = 0; ; attempt++)
        {
            input.Clear();
            int n = System.Text.Encoding.ASCII.GetBytes(purpose.AsSpan(0, Math.Min(purpose.Length, 40)), input);
            BinaryPrimitives.WriteUInt64LittleEndian(input.Slice(n), seed);
            BinaryPrimitives.WriteInt32LittleEndian(input.Slice(n + 8), index);
            BinaryPrimitives.WriteUInt32LittleEndian(input.Slice(n + 12), attempt);
            Sha256.HashData(input.Slice(0, n + 16), secret);
            // A hash at or above the curve order (or zero) is not a key; vanishingly rare, so try the next.
            if (SchnorrKeyPair.TryCreate(secret, preferNative, out SchnorrKeyPair? keyPair)) return keyPair;
        }
    }
}
