using System.Text.Json;
using Relay.Native.Crypto;
using Relay.Native.Events;
using Relay.Server.Relay;

namespace Relay.Server.Policy;

/// <summary>
/// Answers <c>["AUTH", event]</c> (NIP-42) with an OK, always. Runs on the connection's receive
/// loop, before the connection's next message is read: a client that sends AUTH and then an EVENT
/// or REQ without waiting for the OK is already authenticated for them. One signature check per
/// AUTH is cheap there; the event goes through the same parser (and id check) as any EVENT and is
/// never stored or delivered.
/// </summary>
internal sealed class Nip42Authenticator(ISchnorrVerifier verifier)
{
    public const int AuthKind = 22242;
    /// <summary>NIP-42: created_at "within a reasonable time (e.g. 10 minutes)", either way.</summary>
    public const long WindowSeconds = 600;

    // The window is checked here with its own message; the parser's created_at limits are opened up.
    private static readonly EventLimits s_limits = new()
    {
        MaxEventSize = 16384,
        MaxNumTags = 64,
        MaxTagValSize = 1024,
        RejectEventsNewerThanSeconds = long.MaxValue / 4,
        RejectEventsOlderThanSeconds = long.MaxValue / 4,
    };

    public void Handle(ClientSession session, ReadOnlySpan<byte> eventJson, AuthSettings auth)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        int maxPacked = EventParser.MaxPackedSize(eventJson.Length);
        byte[] buffer = EventBuffers.Pool.Rent(maxPacked + EventParser.MaxJsonSize(eventJson.Length));
        try
        {
            var status = EventParser.Parse(eventJson, s_limits, now, buffer.AsSpan(0, maxPacked), out _,
                buffer.AsSpan(maxPacked), out int jsonLength, out ParsedEventHeader header, out string? error);
            if (status != EventParseStatus.Ok)
            {
                Refuse(session, header, eventJson, error ?? "invalid: malformed event");
                return;
            }
            error = Check(session, header, buffer.AsSpan(maxPacked, jsonLength), auth, now);
            if (error is not null)
            {
                Refuse(session, header, eventJson, error);
                return;
            }
            var state = session.AuthState;
            bool first = !state.IsAuthenticated;
            switch (state.Add(header.PubKey))
            {
                case ConnectionAuth.AddResult.Full:
                    Refuse(session, header, eventJson, $"restricted: at most {ConnectionAuth.MaxPubkeys} pubkeys may authenticate on one connection");
                    return;
                case ConnectionAuth.AddResult.AlreadyThere:
                    Metrics.AuthSuccess.Add(1);
                    session.SendOk(header.Id.Span, true, "duplicate: already authenticated as this pubkey");
                    return;
            }
            Metrics.AuthSuccess.Add(1);
            if (first) Metrics.AuthenticatedConnections.Add(1);
            session.SendOk(header.Id.Span, true, "");
        }
        finally
        {
            EventBuffers.Pool.Return(buffer);
        }
    }

    /// <summary>The refusal for a well-formed event, cheapest checks first, the signature last; null when it authenticates.</summary>
    private string? Check(ClientSession session, in ParsedEventHeader header, ReadOnlySpan<byte> json, AuthSettings auth, long now)
    {
        if (!auth.Active) return "restricted: AUTH is not enabled on this relay";
        if (header.Kind != AuthKind) return "invalid: an AUTH event must be kind 22242";
        if (Math.Abs(header.CreatedAt - now) > WindowSeconds) return "invalid: AUTH event created_at must be within 10 minutes of the relay's time";
        FindTags(json, session.Id, auth.ServiceUrl, out bool challengeMatches, out bool relayMatches);
        if (!challengeMatches) return "invalid: challenge tag does not match this connection's challenge";
        if (!relayMatches) return $"invalid: relay tag must name this relay ({auth.ServiceUrlText})";
        if (!verifier.Verify(header.Sig.Span, header.Id.Span, header.PubKey.Span)) return EventErrors.BadSignature;
        return null;
    }

    /// <summary>Looks for a <c>challenge</c> tag with this connection's challenge and a <c>relay</c> tag naming this relay (any of several).</summary>
    private static void FindTags(ReadOnlySpan<byte> normalizedJson, long connectionId, RelayUrl serviceUrl, out bool challengeMatches, out bool relayMatches)
    {
        challengeMatches = relayMatches = false;
        var reader = new Utf8JsonReader(normalizedJson);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isTags = reader.ValueTextEquals("tags"u8);
            reader.Read();
            if (!isTags)
            {
                reader.Skip();
                continue;
            }
            // The parser checked the shape: an array of non-empty arrays of strings.
            while (reader.Read() && reader.TokenType == JsonTokenType.StartArray)
            {
                reader.Read();
                bool isChallenge = reader.ValueTextEquals("challenge"u8);
                bool isRelay = !isChallenge && reader.ValueTextEquals("relay"u8);
                if (reader.Read() && reader.TokenType == JsonTokenType.String)
                {
                    if (isChallenge && !challengeMatches)
                        challengeMatches = !reader.ValueIsEscaped && AuthChallenges.Matches(connectionId, reader.ValueSpan);
                    else if (isRelay && !relayMatches)
                        relayMatches = RelayUrl.TryParse(reader.GetString(), out var url) && url == serviceUrl;
                }
                while (reader.TokenType != JsonTokenType.EndArray) reader.Read();
            }
            return;
        }
    }

    private static void Refuse(ClientSession session, in ParsedEventHeader header, ReadOnlySpan<byte> eventJson, string message)
    {
        Metrics.AuthFailure.Add(1);
        if (header.IdValid)
        {
            session.SendOk(header.Id.Span, false, message);
            return;
        }
        Span<byte> idText = stackalloc byte[256];
        if (EventParser.TryFindIdText(eventJson, idText, out int idLength))
            session.SendOkWithIdText(idText[..idLength], false, message);
        else
            session.SendNotice(message);
    }
}
