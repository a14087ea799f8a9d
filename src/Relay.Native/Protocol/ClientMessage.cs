namespace Relay.Native.Protocol;

public enum ClientVerb : byte { Unknown, Event, Req, Close, Count, Auth }

/// <summary>One client message, as slices of the received bytes (nothing is copied).</summary>
public ref struct ClientMessage
{
    public ClientVerb Verb;

    /// <summary>EVENT / AUTH: the bytes of the event object, <c>{</c> to <c>}</c>.</summary>
    public ReadOnlySpan<byte> EventJson;

    /// <summary>
    /// REQ / COUNT / CLOSE: the subscription id exactly as sent, between its quotes (escapes left as
    /// they were), so replies can echo it back byte for byte.
    /// </summary>
    public ReadOnlySpan<byte> SubscriptionIdRaw;

    /// <summary>REQ / COUNT: from the first filter's <c>{</c> to the last filter's <c>}</c>; empty when there are none.</summary>
    public ReadOnlySpan<byte> FiltersJson;

    /// <summary>
    /// Set when reading failed for a REQ or COUNT whose subscription id can be echoed: NIP-01 wants a
    /// refused REQ answered with <c>CLOSED</c> (<see cref="SubscriptionIdRaw"/>, the notice text)
    /// rather than a NOTICE.
    /// </summary>
    public bool ReplyWithClosed;
}
