namespace Relay.Native.Crypto;

internal static class SchnorrBatch
{
    /// <summary>Checks the batch layout once so the per-item loop can slice without checks failing midway.</summary>
    public static void CheckLayout(ReadOnlySpan<byte> sigs, ReadOnlySpan<byte> msgs, ReadOnlySpan<byte> pubKeys, Span<bool> results)
    {
        int count = results.Length;
        if (sigs.Length != 64 * count || msgs.Length != 32 * count || pubKeys.Length != 32 * count)
            throw new ArgumentException("batch spans must hold 64/32/32 bytes per result");
    }

    public static void VerifyEach(ISchnorrVerifier verifier, ReadOnlySpan<byte> sigs, ReadOnlySpan<byte> msgs, ReadOnlySpan<byte> pubKeys, Span<bool> results)
    {
        CheckLayout(sigs, msgs, pubKeys, results);
        for (int i = 0; i < results.Length; i++)
            results[i] = verifier.Verify(sigs.Slice(64 * i, 64), msgs.Slice(32 * i, 32), pubKeys.Slice(32 * i, 32));
    }
}
