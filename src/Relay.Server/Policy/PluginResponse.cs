using System.Text.Json;
using Relay.Native.Events;

namespace Relay.Server.Policy;

/// <summary>
/// One line from the plugin, read without building strings except the message. A line that is not a
/// single JSON object is noise (strfry logs and skips it); an object is an answer, and whether it
/// answers the request waiting for it is the host's call.
/// </summary>
internal ref struct PluginResponse
{
    /// <summary>False: not a JSON object (skip the line).</summary>
    public bool IsAnswer;
    /// <summary>An <c>id</c> of 64 lowercase hex characters was present; anything else cannot match an event.</summary>
    public bool HasId;
    public Bytes32 Id;
    /// <summary>Null when <c>action</c> is missing or not one of the three.</summary>
    public PolicyAction? Action;
    public string Message;

    public static PluginResponse Parse(ReadOnlySpan<byte> line)
    {
        var r = new PluginResponse { Message = "" };
        try
        {
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return r;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                int field = reader.ValueTextEquals("id"u8) ? 1 : reader.ValueTextEquals("action"u8) ? 2 : reader.ValueTextEquals("msg"u8) ? 3 : 0;
                reader.Read();
                if (reader.TokenType != JsonTokenType.String || field == 0)
                {
                    if (field == 1) r.HasId = false;
                    if (field == 2) r.Action = null;
                    reader.Skip();
                    continue;
                }
                switch (field)
                {
                    case 1:
                        r.HasId = !reader.ValueIsEscaped && reader.ValueSpan.Length == 64 && Hex.TryDecodeLower(reader.ValueSpan, r.Id);
                        break;
                    case 2:
                        r.Action = reader.ValueTextEquals("accept"u8) ? PolicyAction.Accept
                            : reader.ValueTextEquals("reject"u8) ? PolicyAction.Reject
                            : reader.ValueTextEquals("shadowReject"u8) ? PolicyAction.ShadowReject
                            : null;
                        break;
                    default:
                        r.Message = reader.ValueSpan.IsEmpty ? "" : reader.GetString() ?? "";
                        break;
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject) return r;
            // One value and nothing after it, as a JSON parser of the whole line would insist.
            if (reader.Read()) return r;
            r.IsAnswer = true;
        }
        catch (JsonException)
        {
        }
        return r;
    }
}
