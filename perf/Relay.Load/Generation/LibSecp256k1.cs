using System.Runtime.InteropServices;

namespace Relay.Load.Generation;

/// <summary>
/// BIP-340 signing through the system libsecp256k1 (Debian's libsecp256k1-1 has the schnorrsig
/// module). NBitcoin.Secp256k1 signs only ~1.7k events/s per core here, which would make a 200k
/// file take a minute; the C library is ~30x faster. Loaded by hand so a missing library just means
/// falling back to NBitcoin, which produces the same signatures (BIP-340 with fixed aux data).
/// </summary>
internal static unsafe class LibSecp256k1
{
    private const uint ContextSignVerify = 0x301;
    private static readonly nint s_context;
    private static readonly delegate* unmanaged<nint, byte*, byte*, int> s_keypairCreate;
    private static readonly delegate* unmanaged<nint, byte*, int*, byte*, int> s_keypairXOnlyPub;
    private static readonly delegate* unmanaged<nint, byte*, byte*, int> s_xonlySerialize;
    private static readonly delegate* unmanaged<nint, byte*, byte*, byte*, byte*, int> s_sign32;

    static LibSecp256k1()
    {
        nint library = 0;
        foreach (string name in (ReadOnlySpan<string>)["libsecp256k1.so.1", "libsecp256k1.so.2", "libsecp256k1.so", "libsecp256k1"])
            if (NativeLibrary.TryLoad(name, out library)) break;
        if (library == 0) return;
        if (!NativeLibrary.TryGetExport(library, "secp256k1_context_create", out nint create)
            || !NativeLibrary.TryGetExport(library, "secp256k1_keypair_create", out nint keypairCreate)
            || !NativeLibrary.TryGetExport(library, "secp256k1_keypair_xonly_pub", out nint keypairXOnlyPub)
            || !NativeLibrary.TryGetExport(library, "secp256k1_xonly_pubkey_serialize", out nint xonlySerialize)
            || !NativeLibrary.TryGetExport(library, "secp256k1_schnorrsig_sign32", out nint sign32))
            return;
        s_keypairCreate = (delegate* unmanaged<nint, byte*, byte*, int>)keypairCreate;
        s_keypairXOnlyPub = (delegate* unmanaged<nint, byte*, int*, byte*, int>)keypairXOnlyPub;
        s_xonlySerialize = (delegate* unmanaged<nint, byte*, byte*, int>)xonlySerialize;
        s_sign32 = (delegate* unmanaged<nint, byte*, byte*, byte*, byte*, int>)sign32;
        // The context is only read by the calls below, so all generator threads may share it.
        s_context = ((delegate* unmanaged<uint, nint>)create)(ContextSignVerify);
    }

    public static bool IsAvailable => s_context != 0;

    /// <summary>Builds the library's 96-byte keypair and the 32-byte x-only public key.</summary>
    public static bool TryCreateKeypair(ReadOnlySpan<byte> secret, Span<byte> keypair, Span<byte> xOnlyPubKey)
    {
        if (!IsAvailable || secret.Length != 32 || keypair.Length != 96 || xOnlyPubKey.Length != 32) return false;
        byte* xonly = stackalloc byte[64];
        int parity;
        fixed (byte* sec = secret)
        fixed (byte* pair = keypair)
        fixed (byte* output = xOnlyPubKey)
        {
            return s_keypairCreate(s_context, pair, sec) == 1
                && s_keypairXOnlyPub(s_context, xonly, &parity, pair) == 1
                && s_xonlySerialize(s_context, output, xonly) == 1;
        }
    }

    public static void Sign(ReadOnlySpan<byte> keypair, ReadOnlySpan<byte> message, ReadOnlySpan<byte> auxiliary, Span<byte> signature)
    {
        if (keypair.Length != 96 || message.Length != 32 || auxiliary.Length != 32 || signature.Length != 64)
            throw new ArgumentException("bad BIP-340 argument sizes");
        fixed (byte* pair = keypair)
        fixed (byte* msg = message)
        fixed (byte* aux = auxiliary)
        fixed (byte* sig = signature)
        {
            if (s_sign32(s_context, sig, msg, pair, aux) != 1) throw new InvalidOperationException("secp256k1_schnorrsig_sign32 failed");
        }
    }
}
