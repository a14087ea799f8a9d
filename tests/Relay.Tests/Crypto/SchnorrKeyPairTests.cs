using Relay.Native.Crypto;
using static Relay.Tests.Events.NostrToolsVectors;

namespace Relay.Tests.Crypto;

public class SchnorrKeyPairTests
{
    // BIP-340 test vector 1: a fixed secret, message and aux give exactly this signature.
    private const string Bip340Secret = "b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef";
    private const string Bip340PubKey = "dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659";
    private const string Bip340Aux = "0000000000000000000000000000000000000000000000000000000000000001";
    private const string Bip340Msg = "243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89";
    private const string Bip340Sig = "6896bd60eeae296db48a229ff71dfe071bde413e6d43f917dc8dcf8c78de33418906d11ac976abccb20b091292bff4ea897efcb639ea871cfa95f6de339e4b0a";

    // The group order n: the smallest 32-byte value that is not a secret key.
    private const string GroupOrder = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

    /// <summary>CI installs libsecp256k1, so getting the managed key when asking for native is a failure, not a skip.</summary>
    private static SchnorrKeyPair Create(string backend, string secretHex)
    {
        var keyPair = SchnorrKeyPair.Create(Convert.FromHexString(secretHex), preferNative: backend == SchnorrTests.Native);
        Assert.Equal(backend == SchnorrTests.Native, keyPair.IsNative);
        return keyPair;
    }

    private static string Sign(SchnorrKeyPair keyPair, string msgHex, string auxHex)
    {
        var sig = new byte[64];
        keyPair.Sign(Convert.FromHexString(msgHex), Convert.FromHexString(auxHex), sig);
        return Convert.ToHexStringLower(sig);
    }

    [Theory]
    [MemberData(nameof(SchnorrTests.Backends), MemberType = typeof(SchnorrTests))]
    public void Signature_matches_the_BIP340_test_vector(string backend)
    {
        var keyPair = Create(backend, Bip340Secret);

        Assert.Equal(Bip340PubKey, Convert.ToHexStringLower(keyPair.PubKey));
        Assert.Equal(Bip340Sig, Sign(keyPair, Bip340Msg, Bip340Aux));
    }

    [Theory]
    [MemberData(nameof(SchnorrTests.Backends), MemberType = typeof(SchnorrTests))]
    public void Public_key_matches_nostr_tools(string backend)
    {
        Assert.Equal(PubKey, Convert.ToHexStringLower(Create(backend, SecretKey).PubKey));
    }

    [Fact]
    public void Both_backends_sign_identically_with_the_same_aux_and_each_verifies_on_both_verifiers()
    {
        var native = Create(SchnorrTests.Native, SecretKey);
        var managed = Create(SchnorrTests.Managed, SecretKey);
        byte[] pubKey = Convert.FromHexString(PubKey);

        foreach (string msg in new[] { SimpleId, ControlsId, ReplaceableId })
        {
            // The load generator's convention: the id itself is the aux data.
            string nativeSig = Sign(native, msg, msg);
            string managedSig = Sign(managed, msg, msg);

            Assert.Equal(nativeSig, managedSig);
            Assert.True(SchnorrTests.Create(SchnorrTests.Native).Verify(Convert.FromHexString(nativeSig), Convert.FromHexString(msg), pubKey));
            Assert.True(SchnorrTests.Create(SchnorrTests.Managed).Verify(Convert.FromHexString(managedSig), Convert.FromHexString(msg), pubKey));
        }
    }

    [Theory]
    [MemberData(nameof(SchnorrTests.Backends), MemberType = typeof(SchnorrTests))]
    public void Other_aux_gives_another_signature_that_also_verifies(string backend)
    {
        var keyPair = Create(backend, SecretKey);
        string otherAux = new('5', 64);

        string first = Sign(keyPair, SimpleId, SimpleId);
        string again = Sign(keyPair, SimpleId, SimpleId);
        string other = Sign(keyPair, SimpleId, otherAux);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.True(SchnorrVerifiers.Default.Verify(Convert.FromHexString(other), Convert.FromHexString(SimpleId), Convert.FromHexString(PubKey)));
    }

    [Theory]
    [MemberData(nameof(SchnorrTests.Backends), MemberType = typeof(SchnorrTests))]
    public void Zero_and_the_group_order_are_not_secret_keys(string backend)
    {
        bool preferNative = backend == SchnorrTests.Native;

        Assert.False(SchnorrKeyPair.TryCreate(new byte[32], preferNative, out _));
        Assert.False(SchnorrKeyPair.TryCreate(Convert.FromHexString(GroupOrder), preferNative, out _));
        Assert.Throws<ArgumentException>(() => SchnorrKeyPair.Create(new byte[32], preferNative));
        // One below the order is the largest valid secret.
        Assert.True(SchnorrKeyPair.TryCreate(Convert.FromHexString(GroupOrder[..^1] + "0"), preferNative, out _));
    }

    [Theory]
    [MemberData(nameof(SchnorrTests.Backends), MemberType = typeof(SchnorrTests))]
    public void Wrong_lengths_throw(string backend)
    {
        var keyPair = Create(backend, SecretKey);

        Assert.Throws<ArgumentException>(() => SchnorrKeyPair.Create(new byte[31]));
        Assert.Throws<ArgumentException>(() => keyPair.Sign(new byte[31], new byte[32], new byte[64]));
        Assert.Throws<ArgumentException>(() => keyPair.Sign(new byte[32], new byte[31], new byte[64]));
        Assert.Throws<ArgumentException>(() => keyPair.Sign(new byte[32], new byte[32], new byte[63]));
    }

    [Fact]
    public void Native_signing_allocates_nothing()
    {
        var keyPair = Create(SchnorrTests.Native, SecretKey);
        byte[] msg = Convert.FromHexString(ControlsId);
        var sig = new byte[64];
        for (int i = 0; i < 20; i++) keyPair.Sign(msg, msg, sig);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) keyPair.Sign(msg, msg, sig);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(SchnorrVerifiers.Default.Verify(sig, msg, Convert.FromHexString(PubKey)));
    }
}
