namespace Relay.Server.Policy;

/// <summary>Where an event came from, in the words strfry's plugin protocol uses (<c>sourceType</c>).</summary>
internal enum SourceType : byte
{
    IP4,
    IP6,
    Import,
    Stream,
    Sync,
    Stored,
}

internal enum PolicyAction : byte
{
    Accept,
    Reject,
    /// <summary>The client is told the event was accepted, but it is not stored.</summary>
    ShadowReject,
    /// <summary>The plugin failed (timeout, crash, bad answer); the event is refused with an <c>error:</c> message.</summary>
    Error,
}

/// <summary>The plugin's decision on one event; <see cref="Message"/> is the OK text (empty when none).</summary>
internal readonly record struct PolicyVerdict(PolicyAction Action, string Message)
{
    public static readonly PolicyVerdict Accept = new(PolicyAction.Accept, "");

    public static PolicyVerdict Failed(string reason) => new(PolicyAction.Error, "error: write policy plugin " + reason);
}

internal static class SourceTypes
{
    /// <summary>The protocol's spelling, as UTF-8 JSON string content.</summary>
    public static ReadOnlySpan<byte> Utf8Name(SourceType type) => type switch
    {
        SourceType.IP4 => "IP4"u8,
        SourceType.IP6 => "IP6"u8,
        SourceType.Import => "Import"u8,
        SourceType.Stream => "Stream"u8,
        SourceType.Sync => "Sync"u8,
        _ => "Stored"u8,
    };
}
