namespace Relay.Native.Events;

/// <summary>What the relay accepts in one event; defaults are strfry's <c>events.*</c> settings.</summary>
public sealed class EventLimits
{
    public static EventLimits Default { get; } = new();

    /// <summary>Bytes of the normalized JSON (what is stored and sent back), not of the message received.</summary>
    public int MaxEventSize { get; init; } = 65536;
    public int MaxNumTags { get; init; } = 2000;
    /// <summary>Bytes (UTF-8, unescaped) of any element of any tag, the tag name included.</summary>
    public int MaxTagValSize { get; init; } = 1024;
    public long RejectEventsNewerThanSeconds { get; init; } = 900;
    public long RejectEventsOlderThanSeconds { get; init; } = 94608000;
}
