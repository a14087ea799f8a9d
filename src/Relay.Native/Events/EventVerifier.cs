using Relay.Native.Crypto;

namespace Relay.Native.Events;

/// <summary>Parses and fully checks one event (id and signature), for tests and tools (import, sync).</summary>
public static class EventVerifier
{
    public static bool TryVerify(ReadOnlySpan<byte> eventJson, long now, out string? error) =>
        TryVerify(eventJson, now, EventLimits.Default, SchnorrVerifiers.Default, out _, out error);

    public static bool TryVerify(ReadOnlySpan<byte> eventJson, long now, EventLimits limits, ISchnorrVerifier verifier,
        out ParsedEventHeader header, out string? error)
    {
        ArgumentNullException.ThrowIfNull(verifier);
        var packed = new byte[EventParser.MaxPackedSize(eventJson.Length)];
        var json = new byte[EventParser.MaxJsonSize(eventJson.Length)];
        if (EventParser.Parse(eventJson, limits, now, packed, out _, json, out _, out header, out error) != EventParseStatus.Ok)
            return false;
        if (!verifier.Verify(header.Sig.Span, header.Id.Span, header.PubKey.Span))
        {
            error = EventErrors.BadSignature;
            return false;
        }
        return true;
    }
}
