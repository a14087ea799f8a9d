namespace Relay.Server.Policy;

internal static class SourceTypes
{
    /// <summary>The plugin protocol's spelling of a source, as UTF-8 JSON string content.</summary>
    public static ReadOnlySpan<byte> Utf8Name(EventSourceType type) => type switch
    {
        EventSourceType.IP4 => "IP4"u8,
        EventSourceType.IP6 => "IP6"u8,
        EventSourceType.Import => "Import"u8,
        EventSourceType.Stream => "Stream"u8,
        EventSourceType.Sync => "Sync"u8,
        _ => "Stored"u8,
    };
}
