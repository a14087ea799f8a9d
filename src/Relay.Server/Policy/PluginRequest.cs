using System.Buffers;
using System.Buffers.Text;
using Relay.Native.Protocol;

namespace Relay.Server.Policy;

/// <summary>
/// One request line of strfry's write-policy protocol. strfry renders the request as a JSON object
/// whose keys come out sorted, minified, one per line; a plugin written for strfry may rely on that
/// layout (or on a key being where it always was), so the bytes here are the same.
/// </summary>
internal static class PluginRequest
{
    /// <summary>The bytes a request adds around the event JSON, plus the variable fields.</summary>
    public static int MaxOverhead(string sourceInfo, string? authed) =>
        128 + 6 * sourceInfo.Length + (authed is null ? 0 : 16 + 6 * authed.Length);

    /// <summary>Appends the line, newline included. <paramref name="eventJson"/> goes in verbatim: the event as stored.</summary>
    public static void Write(IBufferWriter<byte> w, ReadOnlySpan<byte> eventJson, long receivedAt, EventSourceType source, string sourceInfo, string? authed)
    {
        if (authed is not null)
        {
            w.Write("{\"authed\":"u8);
            RelayMessageWriter.WriteString(w, authed);
            w.Write(",\"event\":"u8);
        }
        else
        {
            w.Write("{\"event\":"u8);
        }
        w.Write(eventJson);
        w.Write(",\"receivedAt\":"u8);
        Span<byte> number = w.GetSpan(20);
        Utf8Formatter.TryFormat(receivedAt, number, out int written);
        w.Advance(written);
        w.Write(",\"sourceInfo\":"u8);
        RelayMessageWriter.WriteString(w, sourceInfo);
        w.Write(",\"sourceType\":\""u8);
        w.Write(SourceTypes.Utf8Name(source));
        w.Write("\",\"type\":\"new\"}\n"u8);
    }
}
