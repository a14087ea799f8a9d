namespace Relay.Native.Crypto;

/// <summary>BIP-340 signature verification over an event id (the 32-byte message) and an x-only pubkey.</summary>
/// <remarks>Implementations are safe to call from several ingester threads at once.</remarks>
public interface ISchnorrVerifier
{
    string Name { get; }

    bool Verify(ReadOnlySpan<byte> sig64, ReadOnlySpan<byte> msg32, ReadOnlySpan<byte> pubKey32);

    /// <summary>
    /// Verifies <c>results.Length</c> signatures laid out back to back: 64 bytes each in
    /// <paramref name="sigs"/>, 32 each in <paramref name="msgs"/> and <paramref name="pubKeys"/>.
    /// </summary>
    void VerifyBatch(ReadOnlySpan<byte> sigs, ReadOnlySpan<byte> msgs, ReadOnlySpan<byte> pubKeys, Span<bool> results);
}
