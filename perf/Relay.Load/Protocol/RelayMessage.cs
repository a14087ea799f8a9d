using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace Relay.Load.Protocol;

public enum RelayMessageType : byte { Unknown, Event, Ok, Eose, Closed, Notice, Count, Auth }

/// <summary>
/// One relay-to-client message, read in place: <c>["OK",id,bool,msg]</c>, <c>["EOSE",sub]</c>,
/// <c>["EVENT",sub,{...}]</c>, <c>["CLOSED",sub,msg]</c>, <c>["NOTICE",msg]</c>. Strings are the raw
/// (still escaped) JSON bytes; the load tool only compares ids and sub ids, which never need escaping.
/// </summary>
public readonly ref struct RelayMessage
{
    public RelayMessageType Type { get; init; }
    public ReadOnlySpan<byte> SubscriptionId { get; init; }
    public ReadOnlySpan<byte> EventIdHex { get; init; }
    public bool Accepted { get; init; }
    public ReadOnlySpan<byte> Text { get; init; }
    public ReadOnlySpan<byte> Event { get; init; }

    /// <summary>
    /// Reads a message; with <paramref name="skipEventBody"/> an EVENT's object is not walked (its
    /// <see cref="Event"/> is left empty), for a reader that only needs the sub id.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> json, out RelayMessage message, bool skipEventBody = false)
    {
        message = default;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray) return false;
            if (!reader.Read() || reader.TokenType != JsonTokenType.String) return false;
            if (reader.ValueTextEquals("OK"u8))
            {
                ReadOnlySpan<byte> id = NextString(json, ref reader);
                if (!reader.Read() || (reader.TokenType != JsonTokenType.True && reader.TokenType != JsonTokenType.False)) return false;
                bool accepted = reader.TokenType == JsonTokenType.True;
                ReadOnlySpan<byte> text = reader.Read() && reader.TokenType == JsonTokenType.String ? RawString(json, ref reader) : default;
                message = new RelayMessage { Type = RelayMessageType.Ok, EventIdHex = id, Accepted = accepted, Text = text };
                return true;
            }
            if (reader.ValueTextEquals("EVENT"u8))
            {
                ReadOnlySpan<byte> sub = NextString(json, ref reader);
                if (skipEventBody)
                {
                    message = new RelayMessage { Type = RelayMessageType.Event, SubscriptionId = sub };
                    return true;
                }
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
                int start = (int)reader.TokenStartIndex;
                reader.Skip();
                message = new RelayMessage { Type = RelayMessageType.Event, SubscriptionId = sub, Event = json[start..(int)reader.BytesConsumed] };
                return true;
            }
            if (reader.ValueTextEquals("EOSE"u8))
            {
                message = new RelayMessage { Type = RelayMessageType.Eose, SubscriptionId = NextString(json, ref reader) };
                return true;
            }
            if (reader.ValueTextEquals("CLOSED"u8))
            {
                ReadOnlySpan<byte> sub = NextString(json, ref reader);
                ReadOnlySpan<byte> text = reader.Read() && reader.TokenType == JsonTokenType.String ? RawString(json, ref reader) : default;
                message = new RelayMessage { Type = RelayMessageType.Closed, SubscriptionId = sub, Text = text };
                return true;
            }
            if (reader.ValueTextEquals("NOTICE"u8))
            {
                message = new RelayMessage { Type = RelayMessageType.Notice, Text = NextString(json, ref reader) };
                return true;
            }
            if (reader.ValueTextEquals("COUNT"u8)) { message = new RelayMessage { Type = RelayMessageType.Count, SubscriptionId = NextString(json, ref reader) }; return true; }
            if (reader.ValueTextEquals("AUTH"u8)) { message = new RelayMessage { Type = RelayMessageType.Auth }; return true; }
            message = new RelayMessage { Type = RelayMessageType.Unknown };
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// The NIP-01 machine-readable prefix of a message (<c>blocked</c> of <c>blocked: spam</c>), for
    /// grouping. strfry puts <c>ERROR: </c> before the prefix of its CLOSED and NOTICE texts
    /// (<c>ERROR: bad req: ...</c>, <c>ERROR: too many concurrent REQs</c>); that is kept with the prefix after it.
    /// </summary>
    public static string PrefixOf(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty) return "(empty)";
        if (text.StartsWith("ERROR: "u8) && text.Length > 7) return "ERROR: " + PrefixOf(text[7..]);
        int colon = text.IndexOf((byte)':');
        ReadOnlySpan<byte> prefix = colon > 0 && colon <= 40 ? text[..colon] : text[..Math.Min(text.Length, 40)];
        return Encoding.UTF8.GetString(prefix);
    }

    /// <summary>Parses the decimal digits of a sub id part, e.g. "12" of "12.345".</summary>
    public static bool TryParseInt(ReadOnlySpan<byte> digits, out long value) =>
        Utf8Parser.TryParse(digits, out value, out int consumed) && consumed == digits.Length;

    private static ReadOnlySpan<byte> NextString(ReadOnlySpan<byte> json, scoped ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.String) throw new JsonException("expected a string");
        return RawString(json, ref reader);
    }

    // The reader's ValueSpan is scoped to the reader; the same bytes sliced from the input may escape.
    private static ReadOnlySpan<byte> RawString(ReadOnlySpan<byte> json, scoped ref Utf8JsonReader reader) =>
        json.Slice((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
}

/// <summary>Reads one field of an event JSON object in place.</summary>
public static class EventFields
{
    /// <summary>The second element of the first tag named <paramref name="name"/>.</summary>
    public static bool TryGetTagValue(ReadOnlySpan<byte> eventJson, ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        value = default;
        var reader = new Utf8JsonReader(eventJson);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("tags"u8)) { reader.Read(); reader.Skip(); continue; }
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.StartArray)
            {
                reader.Read();
                bool match = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(name);
                if (match && reader.Read() && reader.TokenType == JsonTokenType.String)
                {
                    value = eventJson.Slice((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
                    return true;
                }
                while (reader.TokenType != JsonTokenType.EndArray) reader.Read();
            }
            return false;
        }
        return false;
    }
}
