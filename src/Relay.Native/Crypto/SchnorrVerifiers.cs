namespace Relay.Native.Crypto;

public static class SchnorrVerifiers
{
    private static readonly ISchnorrVerifier s_default = TryCreateNative() ?? CreateManaged();

    /// <summary>libsecp256k1 when it is installed, else the managed implementation.</summary>
    public static ISchnorrVerifier Default => s_default;

    /// <summary>Null when no libsecp256k1 with the schnorrsig module can be loaded.</summary>
    public static ISchnorrVerifier? TryCreateNative() =>
        Libsecp256k1.Instance is { } library ? new NativeSchnorrVerifier(library) : null;

    public static ISchnorrVerifier CreateManaged() => new ManagedSchnorrVerifier();
}
