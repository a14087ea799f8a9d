using System.Runtime.InteropServices;

namespace Relay.Native.Crypto;

/// <summary>
/// libsecp256k1 (Debian's libsecp256k1-1, built with the schnorrsig module) bound through function
/// pointers looked up at run time, so the relay still starts where the library is missing and
/// Native AOT needs no static link.
/// </summary>
/// <remarks>
/// One context for the whole process, never destroyed. It is created without randomization and
/// never randomized afterwards, which is what makes concurrent verify and sign calls on it safe.
/// </remarks>
internal sealed unsafe class Libsecp256k1
{
    // SECP256K1_CONTEXT_VERIFY | SECP256K1_CONTEXT_SIGN: versions before 0.2 need both to precompute
    // their tables; 0.2 and later ignore everything but the type bit.
    private const uint ContextVerifyAndSign = 0x301;
    public const int XOnlyPubKeySize = 64;   // secp256k1_xonly_pubkey, opaque
    public const int KeyPairSize = 96;       // secp256k1_keypair, opaque

    private static readonly string[] LibraryNames =
        ["libsecp256k1.so.1", "libsecp256k1.so.2", "libsecp256k1.so", "libsecp256k1"];

    private readonly nint _context;
    private readonly delegate* unmanaged<nint, byte*, byte*, int> _xonlyPubKeyParse;
    private readonly delegate* unmanaged<nint, byte*, byte*, nuint, byte*, int> _schnorrsigVerify;
    private readonly delegate* unmanaged<nint, byte*, byte*, int> _keyPairCreate;
    private readonly delegate* unmanaged<nint, byte*, int*, byte*, int> _keyPairXOnlyPub;
    private readonly delegate* unmanaged<nint, byte*, byte*, int> _xonlyPubKeySerialize;
    private readonly delegate* unmanaged<nint, byte*, byte*, byte*, byte*, int> _schnorrsigSign32;

    private static readonly Libsecp256k1? s_instance = Load();

    /// <summary>The loaded library, or null when no usable libsecp256k1 is installed.</summary>
    public static Libsecp256k1? Instance => s_instance;

    public string LibraryName { get; }

    /// <summary>True when the library also exports what signing needs (0.2.0 renamed the sign call).</summary>
    public bool CanSign => _keyPairCreate != null && _keyPairXOnlyPub != null && _xonlyPubKeySerialize != null && _schnorrsigSign32 != null;

    private Libsecp256k1(string libraryName, nint context, nint parse, nint verify, nint keyPairCreate, nint keyPairXOnlyPub, nint serialize, nint sign32)
    {
        LibraryName = libraryName;
        _context = context;
        _xonlyPubKeyParse = (delegate* unmanaged<nint, byte*, byte*, int>)parse;
        _schnorrsigVerify = (delegate* unmanaged<nint, byte*, byte*, nuint, byte*, int>)verify;
        _keyPairCreate = (delegate* unmanaged<nint, byte*, byte*, int>)keyPairCreate;
        _keyPairXOnlyPub = (delegate* unmanaged<nint, byte*, int*, byte*, int>)keyPairXOnlyPub;
        _xonlyPubKeySerialize = (delegate* unmanaged<nint, byte*, byte*, int>)serialize;
        _schnorrsigSign32 = (delegate* unmanaged<nint, byte*, byte*, byte*, byte*, int>)sign32;
    }

    private static Libsecp256k1? Load()
    {
        foreach (string name in LibraryNames)
        {
            if (!NativeLibrary.TryLoad(name, typeof(Libsecp256k1).Assembly, null, out nint handle)) continue;
            if (NativeLibrary.TryGetExport(handle, "secp256k1_context_create", out nint create)
                && NativeLibrary.TryGetExport(handle, "secp256k1_xonly_pubkey_parse", out nint parse)
                && NativeLibrary.TryGetExport(handle, "secp256k1_schnorrsig_verify", out nint verify))
            {
                NativeLibrary.TryGetExport(handle, "secp256k1_keypair_create", out nint keyPairCreate);
                NativeLibrary.TryGetExport(handle, "secp256k1_keypair_xonly_pub", out nint keyPairXOnlyPub);
                NativeLibrary.TryGetExport(handle, "secp256k1_xonly_pubkey_serialize", out nint serialize);
                NativeLibrary.TryGetExport(handle, "secp256k1_schnorrsig_sign32", out nint sign32);
                nint context = ((delegate* unmanaged<uint, nint>)create)(ContextVerifyAndSign);
                if (context != 0) return new Libsecp256k1(name, context, parse, verify, keyPairCreate, keyPairXOnlyPub, serialize, sign32);
            }
            // A library without the schnorrsig module is of no use; keep looking under other names.
            NativeLibrary.Free(handle);
        }
        return null;
    }

    public bool Verify(ReadOnlySpan<byte> sig64, ReadOnlySpan<byte> msg32, ReadOnlySpan<byte> pubKey32)
    {
        if (sig64.Length != 64 || msg32.Length != 32 || pubKey32.Length != 32) return false;
        byte* xonly = stackalloc byte[XOnlyPubKeySize];
        fixed (byte* sig = sig64)
        fixed (byte* msg = msg32)
        fixed (byte* pub = pubKey32)
        {
            if (_xonlyPubKeyParse(_context, xonly, pub) != 1) return false;
            return _schnorrsigVerify(_context, sig, msg, 32, xonly) == 1;
        }
    }

    /// <summary>False when the secret is not a valid key (zero or not below the group order).</summary>
    public bool TryGetPublicKey(ReadOnlySpan<byte> secret32, Span<byte> pubKey32)
    {
        Span<byte> keyPair = stackalloc byte[KeyPairSize];
        bool ok = TryCreateKeyPair(secret32, keyPair, pubKey32);
        keyPair.Clear();
        return ok;
    }

    public bool TrySign(ReadOnlySpan<byte> secret32, ReadOnlySpan<byte> msg32, ReadOnlySpan<byte> auxRand32, Span<byte> sig64)
    {
        if (!CanSign || secret32.Length != 32 || msg32.Length != 32 || auxRand32.Length != 32 || sig64.Length != 64) return false;
        byte* keyPair = stackalloc byte[KeyPairSize];
        fixed (byte* secret = secret32)
        fixed (byte* msg = msg32)
        fixed (byte* aux = auxRand32)
        fixed (byte* sig = sig64)
        {
            if (_keyPairCreate(_context, keyPair, secret) != 1) return false;
            return _schnorrsigSign32(_context, sig, msg, keyPair, aux) == 1;
        }
    }

    /// <summary>
    /// Builds the library's opaque keypair (it holds the secret) and the x-only public key, so that
    /// signing many messages with one key skips the point multiplication each time.
    /// False when the secret is not a valid key.
    /// </summary>
    public bool TryCreateKeyPair(ReadOnlySpan<byte> secret32, Span<byte> keyPair96, Span<byte> pubKey32)
    {
        if (!CanSign || secret32.Length != 32 || keyPair96.Length != KeyPairSize || pubKey32.Length != 32) return false;
        byte* xonly = stackalloc byte[XOnlyPubKeySize];
        int parity;
        fixed (byte* secret = secret32)
        fixed (byte* keyPair = keyPair96)
        fixed (byte* output = pubKey32)
        {
            if (_keyPairCreate(_context, keyPair, secret) != 1) return false;
            if (_keyPairXOnlyPub(_context, xonly, &parity, keyPair) != 1) return false;
            return _xonlyPubKeySerialize(_context, output, xonly) == 1;
        }
    }

    /// <summary>Signs with a keypair from <see cref="TryCreateKeyPair"/>; the same aux data gives the same signature.</summary>
    public bool TrySignWithKeyPair(ReadOnlySpan<byte> keyPair96, ReadOnlySpan<byte> msg32, ReadOnlySpan<byte> auxRand32, Span<byte> sig64)
    {
        if (!CanSign || keyPair96.Length != KeyPairSize || msg32.Length != 32 || auxRand32.Length != 32 || sig64.Length != 64) return false;
        fixed (byte* keyPair = keyPair96)
        fixed (byte* msg = msg32)
        fixed (byte* aux = auxRand32)
        fixed (byte* sig = sig64)
        {
            return _schnorrsigSign32(_context, sig, msg, keyPair, aux) == 1;
        }
    }
}
