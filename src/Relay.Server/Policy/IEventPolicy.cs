namespace Relay.Server.Policy;

/// <summary>Where an event came from: the values of strfry's plugin <c>sourceType</c> field.</summary>
internal enum EventSourceType : byte { IP4, IP6, Import, Stream, Sync, Stored }

/// <summary>strfry's plugin actions: store it, refuse it (the message says why), or pretend to store it.</summary>
internal enum PolicyAction : byte { Accept, Reject, ShadowReject }

/// <summary>One event put to the write policy.</summary>
/// <param name="EventJson">The normalized event JSON (what would be stored); valid only during the call.</param>
/// <param name="ReceivedAt">Unix seconds.</param>
/// <param name="SourceInfo">The client's IP for IP4/IP6, the file or relay URL otherwise (strfry's <c>sourceInfo</c>).</param>
internal readonly record struct PolicyRequest(ReadOnlyMemory<byte> EventJson, EventSourceType Source, string SourceInfo, long ReceivedAt);

internal readonly record struct PolicyVerdict(PolicyAction Action, string Message)
{
    public static PolicyVerdict Accept { get; } = new(PolicyAction.Accept, "");
}

/// <summary>
/// A write policy (strfry's <c>relay.writePolicy.plugin</c>): asked about each event after it was
/// verified and before it is written, never inside the write transaction. Callers await each
/// answer before asking about the next event of the same source, in order.
/// </summary>
internal interface IEventPolicy
{
    ValueTask<PolicyVerdict> CheckAsync(PolicyRequest request, CancellationToken cancellationToken);
}

/// <summary>No policy configured: every event is accepted, synchronously and without allocating.</summary>
internal sealed class AcceptAllPolicy : IEventPolicy
{
    public static AcceptAllPolicy Instance { get; } = new();

    public ValueTask<PolicyVerdict> CheckAsync(PolicyRequest request, CancellationToken cancellationToken) => new(PolicyVerdict.Accept);
}
