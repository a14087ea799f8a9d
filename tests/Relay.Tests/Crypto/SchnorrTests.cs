using System.Text;
using Relay.Native.Crypto;
using Relay.Native.Events;
using Relay.Tests.Events;
using static Relay.Tests.Events.NostrToolsVectors;

namespace Relay.Tests.Crypto;

public class SchnorrTests
{
    public const string Native = "native";
    public const string Managed = "managed";

    // BIP-340 test vector 5: a public key that is not on the curve.
    private const string NotOnCurvePubKey = "eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34";
    private const string NotOnCurveSig = "6cff5c3ba86c69ea4b7376f31a9bcb4f74c1976089b2d9963da2e5543e17776969e89b4c5564d00349106b8497785dd7d1d713a8ae82b32fa79d5f7fc407d39b";
    private const string NotOnCurveMsg = "243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89";

    /// <summary>CI installs libsecp256k1, so its absence is a failure here, never a skip.</summary>
    internal static ISchnorrVerifier Create(string backend) => backend == Native
        ? SchnorrVerifiers.TryCreateNative() ?? throw new Xunit.Sdk.XunitException("libsecp256k1 with the schnorrsig module is not installed (apt-get install libsecp256k1-1)")
        : SchnorrVerifiers.CreateManaged();

    public static TheoryData<string> Backends => new() { Native, Managed };

    public static TheoryData<string, string, string> SignedByNostrTools()
    {
        var data = new TheoryData<string, string, string>();
        foreach (string backend in new[] { Native, Managed })
        {
            data.Add(backend, SimpleId, SimpleSig);
            data.Add(backend, ControlsId, ControlsSig);
            data.Add(backend, ReplaceableId, ReplaceableSig);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SignedByNostrTools))]
    public void Signature_made_by_nostr_tools_verifies(string backend, string id, string sig)
    {
        Assert.True(Create(backend).Verify(Convert.FromHexString(sig), Convert.FromHexString(id), Convert.FromHexString(PubKey)));
    }

    [Theory]
    [MemberData(nameof(SignedByNostrTools))]
    public void Signature_with_one_bit_flipped_fails(string backend, string id, string sig)
    {
        var verifier = Create(backend);
        byte[] msg = Convert.FromHexString(id), pubKey = Convert.FromHexString(PubKey);
        foreach (int bit in new[] { 0, 255, 256, 511 })
        {
            byte[] bad = Convert.FromHexString(sig);
            bad[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(verifier.Verify(bad, msg, pubKey), $"bit {bit}");
        }
    }

    [Theory]
    [MemberData(nameof(SignedByNostrTools))]
    public void Signature_over_another_message_fails(string backend, string id, string sig)
    {
        byte[] msg = Convert.FromHexString(id);
        msg[31] ^= 1;

        Assert.False(Create(backend).Verify(Convert.FromHexString(sig), msg, Convert.FromHexString(PubKey)));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Signature_under_another_valid_pubkey_fails(string backend)
    {
        byte[] otherPubKey = Schnorr.PublicKeyFromSecret(Convert.FromHexString(SecretKey.Replace('7', '6')));

        Assert.False(Create(backend).Verify(Convert.FromHexString(SimpleSig), Convert.FromHexString(SimpleId), otherPubKey));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Pubkey_not_on_the_curve_fails(string backend)
    {
        var verifier = Create(backend);

        Assert.False(verifier.Verify(Convert.FromHexString(NotOnCurveSig), Convert.FromHexString(NotOnCurveMsg), Convert.FromHexString(NotOnCurvePubKey)));
        // x at or above the field prime is not a coordinate at all.
        Assert.False(verifier.Verify(Convert.FromHexString(SimpleSig), Convert.FromHexString(SimpleId), Enumerable.Repeat((byte)0xFF, 32).ToArray()));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Wrong_input_lengths_fail_instead_of_throwing(string backend)
    {
        var verifier = Create(backend);
        byte[] sig = Convert.FromHexString(SimpleSig), msg = Convert.FromHexString(SimpleId), pubKey = Convert.FromHexString(PubKey);

        Assert.False(verifier.Verify(sig.AsSpan(0, 63), msg, pubKey));
        Assert.False(verifier.Verify(sig, msg.AsSpan(0, 31), pubKey));
        Assert.False(verifier.Verify(sig, msg, pubKey.AsSpan(0, 31)));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Batch_reports_each_signature_on_its_own(string backend)
    {
        var verifier = Create(backend);
        string[] ids = [SimpleId, ControlsId, ReplaceableId, SimpleId];
        string[] sigs = [SimpleSig, ControlsSig, SimpleSig, SimpleSig];
        string[] pubKeys = [PubKey, PubKey, PubKey, NotOnCurvePubKey];

        var results = new bool[4];
        verifier.VerifyBatch(Convert.FromHexString(string.Concat(sigs)), Convert.FromHexString(string.Concat(ids)),
            Convert.FromHexString(string.Concat(pubKeys)), results);

        Assert.Equal([true, true, false, false], results);
        Assert.Throws<ArgumentException>(() => verifier.VerifyBatch(new byte[64], new byte[32], new byte[32], new bool[2]));
    }

    [Fact]
    public void Native_library_is_installed_and_is_the_default()
    {
        var native = Create(Native);

        Assert.StartsWith("native", native.Name);
        Assert.StartsWith("native", SchnorrVerifiers.Default.Name);
    }

    [Fact]
    public void Native_verification_allocates_nothing()
    {
        var verifier = Create(Native);
        byte[] sig = Convert.FromHexString(ControlsSig), msg = Convert.FromHexString(ControlsId), pubKey = Convert.FromHexString(PubKey);
        byte[] sigs = Convert.FromHexString(SimpleSig + ControlsSig), msgs = Convert.FromHexString(SimpleId + ControlsId);
        byte[] pubKeys = Convert.FromHexString(PubKey + PubKey);
        var results = new bool[2];
        for (int i = 0; i < 20; i++) { verifier.Verify(sig, msg, pubKey); verifier.VerifyBatch(sigs, msgs, pubKeys, results); }

        long before = GC.GetAllocatedBytesForCurrentThread();
        int ok = 0;
        for (int i = 0; i < 100; i++)
        {
            if (verifier.Verify(sig, msg, pubKey)) ok++;
            verifier.VerifyBatch(sigs, msgs, pubKeys, results);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(100, ok);
        Assert.Equal([true, true], results);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Public_key_from_secret_matches_nostr_tools_on_both_backends()
    {
        byte[] secret = Convert.FromHexString(SecretKey);

        Assert.Equal(PubKey, Convert.ToHexStringLower(Schnorr.PublicKeyFromSecret(secret)));
        Assert.Equal(PubKey, Convert.ToHexStringLower(Schnorr.PublicKeyFromSecretManaged(secret)));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Signatures_from_either_signer_verify_on_this_backend(string backend)
    {
        var verifier = Create(backend);
        byte[] secret = Convert.FromHexString(SecretKey), msg = Convert.FromHexString(ControlsId), pubKey = Convert.FromHexString(PubKey);
        var native = new byte[64];
        var managed = new byte[64];

        Schnorr.Sign(secret, msg, native);
        Schnorr.SignManaged(secret, msg, managed);

        Assert.True(verifier.Verify(native, msg, pubKey));
        Assert.True(verifier.Verify(managed, msg, pubKey));
    }

    [Fact]
    public void Zero_is_not_a_secret_key()
    {
        var zero = new byte[32];

        Assert.Throws<ArgumentException>(() => Schnorr.PublicKeyFromSecret(zero));
        Assert.Throws<ArgumentException>(() => Schnorr.PublicKeyFromSecretManaged(zero));
        Assert.Throws<ArgumentException>(() => Schnorr.Sign(zero, new byte[32], new byte[64]));
        Assert.Throws<ArgumentException>(() => Schnorr.SignManaged(zero, new byte[32], new byte[64]));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Event_signed_by_EventSigner_passes_full_verification(string backend)
    {
        byte[] json = EventSigner.Sign(Convert.FromHexString(SecretKey), 1, 1700000000, ControlsTags, ControlsContent);

        Assert.True(EventVerifier.TryVerify(json, Now, EventLimits.Default, Create(backend), out var header, out string? error), error);
        // Same id as nostr-tools computed for the same fields; the signature differs (fresh aux randomness).
        Assert.Equal(ControlsId, header.Id.ToString());
        Assert.StartsWith(ControlsNormalized[..^138], Encoding.UTF8.GetString(json));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Event_with_a_forged_signature_fails_full_verification(string backend)
    {
        string forged = ControlsNormalized.Replace(ControlsSig, SimpleSig, StringComparison.Ordinal);

        Assert.False(EventVerifier.TryVerify(Encoding.UTF8.GetBytes(forged), Now, EventLimits.Default, Create(backend), out _, out string? error));
        Assert.Equal(EventErrors.BadSignature, error);
    }
}
