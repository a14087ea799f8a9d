using System.Text;
using System.Text.Json;

namespace Relay.Native.Protocol;

/// <summary>
/// Recognizes a client message and cuts it into slices of the received bytes. What is inside the
/// event and the filters is left to <see cref="Events.EventParser"/> and <see cref="FilterParser"/>;
/// here only the envelope is checked, strictly: exact element counts and types, one JSON value, no
/// trailing bytes.
/// </summary>
public static class ClientMessageReader
{
    public const string NotJson = "invalid: malformed JSON";
    public const string NotAnArray = "invalid: message is not a JSON array";
    public const string EmptyArray = "invalid: empty message";
    public const string VerbNotString = "invalid: message type is not a string";
    public const string EventNotObject = "invalid: EVENT needs one event object";
    public const string AuthNotObject = "invalid: AUTH needs one event object";
    public const string SubscriptionIdNotString = "invalid: subscription id is not a string";
    public const string BadSubscriptionId = "invalid: subscription id must be 1 to 64 characters, no control characters";
    public const string FilterNotObject = "invalid: filters must be JSON objects";
    public const string CloseShape = "invalid: CLOSE takes one subscription id";
    public const string LoneSurrogate = "invalid: string escapes a lone surrogate";

    // Ids longer than this are not echoed in a CLOSED: past NIP-01's limit already, and a client
    // that sends kilobytes of id gets a NOTICE instead of its kilobytes back.
    private const int MaxEchoedSubscriptionIdLength = 1024;

    /// <summary>
    /// False when the message is not usable; answer with a NOTICE carrying <paramref name="notice"/>,
    /// or with CLOSED when <see cref="ClientMessage.ReplyWithClosed"/> is set.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> message, out ClientMessage msg, out string? notice)
    {
        msg = default;
        try
        {
            notice = ReadCore(message, ref msg);
        }
        catch (JsonException)
        {
            // Malformed bytes, or nesting beyond the reader's depth limit (64) inside a filter or event.
            notice = NotJson;
        }
        catch (InvalidOperationException)
        {
            // ValueTextEquals unescapes the verb to compare it, and refuses a lone surrogate (\udc00).
            notice = LoneSurrogate;
        }
        if (notice is null) return true;
        msg.EventJson = default;
        msg.FiltersJson = default;
        if (!msg.ReplyWithClosed) msg.SubscriptionIdRaw = default;
        return false;
    }

    private static string? ReadCore(ReadOnlySpan<byte> message, ref ClientMessage msg)
    {
        var reader = new Utf8JsonReader(message);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray) return NotAnArray;
        if (!reader.Read()) return NotJson;
        if (reader.TokenType == JsonTokenType.EndArray) return EmptyArray;
        if (reader.TokenType != JsonTokenType.String) return VerbNotString;

        if (reader.ValueTextEquals("EVENT"u8)) msg.Verb = ClientVerb.Event;
        else if (reader.ValueTextEquals("REQ"u8)) msg.Verb = ClientVerb.Req;
        else if (reader.ValueTextEquals("CLOSE"u8)) msg.Verb = ClientVerb.Close;
        else if (reader.ValueTextEquals("COUNT"u8)) msg.Verb = ClientVerb.Count;
        else if (reader.ValueTextEquals("AUTH"u8)) msg.Verb = ClientVerb.Auth;
        else return UnknownVerb(ref reader);

        string? error = msg.Verb switch
        {
            ClientVerb.Event => ReadEvent(ref reader, message, ref msg, EventNotObject),
            ClientVerb.Auth => ReadEvent(ref reader, message, ref msg, AuthNotObject),
            ClientVerb.Close => ReadClose(ref reader, message, ref msg),
            _ => ReadSubscription(ref reader, message, ref msg),
        };
        if (error is not null) return error;
        // The array is closed; anything but whitespace after it makes Read throw.
        return reader.Read() ? NotJson : null;
    }

    private static string? ReadEvent(ref Utf8JsonReader reader, ReadOnlySpan<byte> message, ref ClientMessage msg, string shapeError)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return shapeError;
        int start = (int)reader.TokenStartIndex;
        reader.Skip();
        msg.EventJson = message.Slice(start, (int)reader.BytesConsumed - start);
        if (!reader.Read() || reader.TokenType != JsonTokenType.EndArray) return shapeError;
        return null;
    }

    private static string? ReadClose(ref Utf8JsonReader reader, ReadOnlySpan<byte> message, ref ClientMessage msg)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.String) return SubscriptionIdNotString;
        if (!SubscriptionId.IsValid(ref reader)) return BadSubscriptionId;
        msg.SubscriptionIdRaw = message.Slice((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
        if (!reader.Read() || reader.TokenType != JsonTokenType.EndArray) return CloseShape;
        return null;
    }

    private static string? ReadSubscription(ref Utf8JsonReader reader, ReadOnlySpan<byte> message, ref ClientMessage msg)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.String) return SubscriptionIdNotString;
        msg.SubscriptionIdRaw = message.Slice((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
        // From here on every refusal can name the subscription, so it is answered with CLOSED.
        msg.ReplyWithClosed = msg.SubscriptionIdRaw.Length <= MaxEchoedSubscriptionIdLength;
        if (!SubscriptionId.IsValid(ref reader)) return BadSubscriptionId;

        int first = -1, end = -1;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject) return FilterNotObject;
            if (first < 0) first = (int)reader.TokenStartIndex;
            reader.Skip();
            end = (int)reader.BytesConsumed;
        }
        if (first >= 0) msg.FiltersJson = message.Slice(first, end - first);
        msg.ReplyWithClosed = false;
        return null;
    }

    /// <summary>Error path: names the verb in the notice, cut short and unescaped, so a client can see what it sent.</summary>
    private static string UnknownVerb(ref Utf8JsonReader reader)
    {
        string verb;
        try
        {
            verb = reader.GetString() ?? "";
        }
        catch (InvalidOperationException)
        {
            verb = Encoding.UTF8.GetString(reader.ValueSpan);
        }
        if (verb.Length > 32) verb = verb.Substring(0, 32) + "...";
        return "invalid: unknown message type: " + verb;
    }
}
