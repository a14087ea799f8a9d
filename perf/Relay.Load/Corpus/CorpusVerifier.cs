using Relay.Native.Crypto;
using Relay.Native.Events;

namespace Relay.Load.Corpus;

/// <summary>
/// Checks a generated event the way the relay will: Relay.Native's parser (canonical form, id) and
/// its BIP-340 verifier, a different route from the generator's own serialization.
/// </summary>
public static class CorpusVerifier
{
    // strfry's default size and tag limits apply, so a file that passes is one a default relay takes;
    // the created_at window does not, because a file is replayed long after its --now.
    private static readonly EventLimits s_limits = new()
    {
        RejectEventsNewerThanSeconds = int.MaxValue,
        RejectEventsOlderThanSeconds = int.MaxValue,
    };

    /// <summary>Null when the event is valid, else the relay's reason (e.g. <c>invalid: bad signature</c>).</summary>
    /// <param name="generatedAt">The file's <c>--now</c>: NIP-40 expiration is judged at generation time.</param>
    public static string? Verify(ReadOnlySpan<byte> eventJson, long generatedAt) =>
        EventVerifier.TryVerify(eventJson, generatedAt, s_limits, SchnorrVerifiers.Default, out _, out string? error)
            ? null
            : error ?? "invalid";
}
