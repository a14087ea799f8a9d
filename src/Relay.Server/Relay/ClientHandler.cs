using System.Text;
using Relay.Native.Protocol;
using Relay.Native.Query;
using Relay.Server.Policy;
using Relay.Server.Transport;

namespace Relay.Server.Relay;

/// <summary>
/// The protocol boundary: turns each client message into work for the relay threads, and every
/// message it cannot accept into a NIP-01 answer (NOTICE, CLOSED) on a connection that stays open.
/// Runs on the connection's receive loop; it only parses the envelope and routes.
/// </summary>
internal sealed class ClientHandler : IWebSocketHandler
{
    private readonly RelayServer _relay;

    public ClientHandler(RelayServer relay) => _relay = relay;

    public void OnOpen(WsConnection connection) => connection.State = new ClientSession(connection) { Log = _relay.Log };

    public void OnClose(WsConnection connection)
    {
        if (connection.State is not ClientSession session) return;
        session.Closed = true;
        if (session.Auth is { IsAuthenticated: true }) Metrics.AuthenticatedConnections.Add(-1);
        // Must arrive (it frees the monitor's state for this connection), but this runs on the thread
        // pool: never block it. Everything the connection sent before is already queued ahead of it.
        var posted = _relay.ReqWorkerFor(session).Post(new ReqJob { Kind = ReqJobKind.Disconnect, Session = session });
        if (!posted.IsCompletedSuccessfully) _ = posted.AsTask();
    }

    public ValueTask OnTextMessage(WsConnection connection, ReadOnlySpan<byte> utf8)
    {
        if (connection.State is not ClientSession session) return default;
        bool read = ClientMessageReader.TryRead(utf8, out ClientMessage msg, out string? notice);
        Metrics.CountClientMessage(msg.Verb);
        if (session.Log.DumpsIncoming) session.Log.Incoming(session, msg.Verb, utf8);
        if (!read)
        {
            // A REQ/COUNT/CLOSE whose subscription id could be read gets CLOSED; anything else a NOTICE.
            if (msg.ReplyWithClosed)
                session.SendClosed(msg.SubscriptionIdRaw, notice ?? "invalid: malformed message");
            else
                Notice(session, notice ?? "invalid: malformed message");
            return default;
        }
        switch (msg.Verb)
        {
            case ClientVerb.Event: return OnEvent(session, msg.EventJson);
            case ClientVerb.Req: return OnReq(session, msg, isCount: false);
            case ClientVerb.Count: return OnReq(session, msg, isCount: true);
            case ClientVerb.Close: return OnCloseSubscription(session, msg.SubscriptionIdRaw);
            case ClientVerb.Auth: _relay.Authenticator.Handle(session, msg.EventJson, _relay.Settings.Policy.Auth); return default;
            default: Notice(session, "invalid: unknown message type"); return default;
        }
    }

    private ValueTask OnEvent(ClientSession session, ReadOnlySpan<byte> eventJson)
    {
        Metrics.EventsReceived.Add(1);
        byte[] buffer = EventBuffers.Pool.Rent(eventJson.Length);
        eventJson.CopyTo(buffer);
        return _relay.NextIngester().Post(new IngestJob { Session = session, Buffer = buffer, Length = eventJson.Length });
    }

    private ValueTask OnReq(ClientSession session, in ClientMessage msg, bool isCount)
    {
        var subIdRaw = msg.SubscriptionIdRaw;
        var settings = _relay.Settings;
        if (isCount && settings.Config.Relay.MaxFilterLimitCount == 0)
        {
            session.SendClosed(subIdRaw, "unsupported: COUNT is disabled on this relay");
            return default;
        }
        // NIP-01 requires at least one filter; an empty EOSE would look like "nothing stored".
        if (msg.FiltersJson.IsEmpty)
        {
            session.SendClosed(subIdRaw, isCount ? "invalid: COUNT needs at least one filter" : "invalid: REQ needs at least one filter");
            return default;
        }
        if (!FilterParser.TryParse(msg.FiltersJson, settings.FilterLimits, out Filter[] filters, out string? error))
        {
            session.SendClosed(subIdRaw, error ?? "invalid: bad filter");
            return default;
        }
        var policy = settings.Policy;
        if (policy.Filters.Check(filters) is { } refusal)
        {
            session.SendClosed(subIdRaw, refusal);
            return default;
        }
        var admission = policy.Reads.Admit(session, filters);
        // The challenge goes first: clients answer an auth-required CLOSED with the challenge they have.
        if (admission.SendChallenge) AuthChallenges.SendTo(session);
        if (!admission.Allowed)
        {
            session.SendClosed(subIdRaw, admission.Refusal!);
            return default;
        }
        if (isCount)
            return _relay.ReqWorkerFor(session).Post(new ReqJob { Kind = ReqJobKind.Count, Session = session, SubIdRaw = subIdRaw.ToArray(), Filters = filters });
        string subId = Encoding.UTF8.GetString(subIdRaw);
        int maxSubs = settings.Config.Relay.MaxSubsPerConnection;
        if (!session.IsOpen(subId) && session.OpenCount >= maxSubs)
        {
            session.SendClosed(subIdRaw, $"blocked: too many open subscriptions (max {maxSubs})");
            return default;
        }
        var sub = new Subscription(session, subIdRaw.ToArray(), filters);
        session.Open(sub);
        return _relay.ReqWorkerFor(session).Post(new ReqJob { Kind = ReqJobKind.Req, Session = session, SubIdRaw = sub.SubIdRaw, Filters = filters, Subscription = sub });
    }

    private ValueTask OnCloseSubscription(ClientSession session, ReadOnlySpan<byte> subIdRaw)
    {
        string subId = Encoding.UTF8.GetString(subIdRaw);
        session.Retire(subId);
        return _relay.ReqWorkerFor(session).Post(new ReqJob { Kind = ReqJobKind.Close, Session = session, SubIdRaw = subIdRaw.ToArray() });
    }

    private static void Notice(ClientSession session, string message)
    {
        Metrics.Notices.Add(1);
        session.SendNotice(message);
    }
}
