using System.Buffers.Binary;
using NBitcoin.Secp256k1;
using Sha256 = System.Security.Cryptography.SHA256;

namespace Relay.Load.Generation;

/// <summary>
/// One secret key per author, derived from the seed so a replay can be re-signed or extended.
/// Signs with libsecp256k1 when the system has it, else with NBitcoin.Secp256k1 (same signatures).
/// </summary>
public sealed class AuthorKeys
{
    private readonly ECPrivKey[] _secrets;
    private readonly byte[][]? _keypairs;
    private readonly byte[][] _pubKeys;
    private readonly string[] _pubKeyHex;

    private AuthorKeys(ECPrivKey[] secrets, byte[][]? keypairs, byte[][] pubKeys)
    {
        _secrets = secrets;
        _keypairs = keypairs;
        _pubKeys = pubKeys;
        _pubKeyHex = new string[pubKeys.Length];
        for (int i = 0; i < pubKeys.Length; i++) _pubKeyHex[i] = Convert.ToHexStringLower(pubKeys[i]);
    }

    public int Count => _secrets.Length;
    public ReadOnlySpan<byte> PubKey(int author) => _pubKeys[author];
    public string PubKeyHex(int author) => _pubKeyHex[author];
    public string SignerName => _keypairs is null ? "NBitcoin.Secp256k1" : "libsecp256k1";

    public static AuthorKeys Derive(ulong seed, string purpose, int count, bool preferNative = true)
    {
        bool native = preferNative && LibSecp256k1.IsAvailable;
        var secrets = new ECPrivKey[count];
        var keypairs = native ? new byte[count][] : null;
        var pubKeys = new byte[count][];
        Parallel.For(0, count, i =>
        {
            Span<byte> secret = stackalloc byte[32];
            secrets[i] = DeriveSecret(seed, purpose, i, secret);
            var pub = new byte[32];
            if (keypairs is not null)
            {
                keypairs[i] = new byte[96];
                if (!LibSecp256k1.TryCreateKeypair(secret, keypairs[i], pub)) throw new InvalidOperationException("secp256k1_keypair_create failed");
            }
            else
            {
                secrets[i].CreateXOnlyPubKey().WriteToSpan(pub);
            }
            pubKeys[i] = pub;
        });
        return new AuthorKeys(secrets, keypairs, pubKeys);
    }

    /// <summary>BIP-340 signature of a 32-byte event id with the given auxiliary data.</summary>
    public void Sign(int author, ReadOnlySpan<byte> id, byte[] auxiliary, Span<byte> signature)
    {
        if (_keypairs is not null)
        {
            LibSecp256k1.Sign(_keypairs[author], id, auxiliary, signature);
            return;
        }
        _secrets[author].SignBIP340(id, auxiliary).WriteToSpan(signature);
    }

    private static ECPrivKey DeriveSecret(ulong seed, string purpose, int index, Span<byte> secret)
    {
        Span<byte> input = stackalloc byte[64];
        for (uint attempt = 0; ; attempt++)
        {
            input.Clear();
            int n = System.Text.Encoding.ASCII.GetBytes(purpose.AsSpan(0, Math.Min(purpose.Length, 40)), input);
            BinaryPrimitives.WriteUInt64LittleEndian(input.Slice(n), seed);
            BinaryPrimitives.WriteInt32LittleEndian(input.Slice(n + 8), index);
            BinaryPrimitives.WriteUInt32LittleEndian(input.Slice(n + 12), attempt);
            Sha256.HashData(input.Slice(0, n + 16), secret);
            // A hash at or above the curve order (or zero) is not a key; vanishingly rare, so try the next.
            if (ECPrivKey.TryCreate(secret, out ECPrivKey? key) && key is not null) return key;
        }
    }
}
