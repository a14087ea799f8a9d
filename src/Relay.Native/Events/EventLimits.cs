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
    /// <summary>
    /// Characters of the content as JavaScript counts them (UTF-16 code units, as NIP-11's
    /// max_content_length is checked by clients and nostream); 0 = bounded only by <see cref="MaxEventSize"/>.
    /// </summary>
    public int MaxContentLength { get; init; }
    public long RejectEventsNewerThanSeconds { get; init; } = 900;
    public long RejectEventsOlderThanSeconds { get; init; } = 94608000;
}
