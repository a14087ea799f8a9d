using System.Buffers;
using System.Net.Sockets;
using Relay.Native.Events;
using Relay.Native.Protocol;
using Relay.Native.Query;
using Relay.Server.Policy;
using Relay.Server.Transport;

namespace Relay.Server.Relay;

/// <summary>
/// What the relay knows about one WebSocket connection. The open-subscription set is touched only on
/// the connection's receive loop (REQ, CLOSE come in order there); other threads only send replies.
/// </summary>
internal sealed class ClientSession
{
    public ClientSession(WsConnection connection) => Connection = connection;

    public WsConnection Connection { get; }
    public long Id => Connection.Id;
    /// <summary>The relay's relay.logging flags, reachable from every thread that handles this connection.</summary>
    public LogSwitches Log { get; init; } = LogSwitches.Off;
    public volatile bool Closed;

    private Dictionary<string, Subscription>? _open;
    private ConnectionAuth? _auth;

    /// <summary>NIP-42 state; null until the connection was sent a challenge or sent an AUTH (idle connections keep nothing).</summary>
    public ConnectionAuth? Auth => Volatile.Read(ref _auth);

    /// <summary><see cref="Auth"/>, made on first use (from any thread).</summary>
    public ConnectionAuth AuthState => Auth ?? Interlocked.CompareExchange(ref _auth, new ConnectionAuth(), null) ?? _auth!;

    /// <summary>The pubkeys this connection authenticated as (NIP-42); empty when none.</summary>
    public ReadOnlySpan<Bytes32> AuthedPubkeys => Auth is { } auth ? auth.Pubkeys : default;
    private string? _sourceInfo;

    /// <summary>
    /// NIP-42: the first pubkey this connection authenticated as, hex; null until AUTH succeeds. The
    /// write-policy plugin sees it as <c>authed</c> (strfry's field holds one pubkey).
    /// </summary>
    public string? AuthedPubKey => Auth?.FirstPubkeyHex;

    /// <summary>The client's address family as the write-policy plugin names it (the address honours realIpHeader).</summary>
    public EventSourceType PolicySource => Connection.RemoteAddress.AddressFamily == AddressFamily.InterNetworkV6 ? EventSourceType.IP6 : EventSourceType.IP4;

    /// <summary>The client's address as text, made once per connection (the plugin's <c>sourceInfo</c>).</summary>
    public string SourceInfo => _sourceInfo ??= Connection.RemoteAddress.ToString();

    /// <summary>Open subscriptions (REQ ids not yet CLOSEd); touched only on the receive loop.</summary>
    public int OpenCount => _open?.Count ?? 0;

    public bool IsOpen(string subId) => _open?.ContainsKey(subId) == true;

    /// <summary>
    /// Opens a subscription. A REQ reusing an id retires the old one here, on the receive loop, before
    /// any later message of the connection is read; the monitor hears of it later, through the REQ worker.
    /// </summary>
    public void Open(Subscription sub)
    {
        _open ??= new Dictionary<string, Subscription>(StringComparer.Ordinal);
        if (_open.Remove(sub.SubId, out var old)) old.Removed = true;
        _open[sub.SubId] = sub;
    }

    /// <summary>CLOSE: from now on the subscription receives nothing, even events already on their way.</summary>
    public void Retire(string subId)
    {
        if (_open is not null && _open.Remove(subId, out var old)) old.Removed = true;
    }

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;

    /// <summary>A per-thread scratch writer for one outgoing message.</summary>
    public static ArrayBufferWriter<byte> Scratch()
    {
        var b = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        b.ResetWrittenCount();
        return b;
    }

    public void SendOk(ReadOnlySpan<byte> id32, bool accepted, string message)
    {
        var b = Scratch();
        RelayMessageWriter.Ok(b, id32, accepted, message);
        if (Connection.SendText(b.WrittenSpan)) Metrics.CountRelayMessage(RelayVerb.Ok);
    }

    public void SendOkWithIdText(ReadOnlySpan<byte> idUtf8, bool accepted, string message)
    {
        var b = Scratch();
        RelayMessageWriter.OkWithIdText(b, idUtf8, accepted, message);
        if (Connection.SendText(b.WrittenSpan)) Metrics.CountRelayMessage(RelayVerb.Ok);
    }

    public void SendNotice(string message)
    {
        var b = Scratch();
        RelayMessageWriter.Notice(b, message);
        if (Connection.SendText(b.WrittenSpan)) Metrics.CountRelayMessage(RelayVerb.Notice);
    }

    public void SendClosed(ReadOnlySpan<byte> subIdRaw, string message)
    {
        var b = Scratch();
        RelayMessageWriter.Closed(b, subIdRaw, message);
        if (Connection.SendText(b.WrittenSpan)) Metrics.CountRelayMessage(RelayVerb.Closed);
    }
}

/// <summary>One REQ that stays open after EOSE: its filters and the bytes that frame its live events.</summary>
internal sealed class Subscription
{
    private static readonly byte[] s_eventSuffix = "]"u8.ToArray();

    public Subscription(ClientSession session, byte[] subIdRaw, Filter[] filters)
    {
        Session = session;
        SubIdRaw = subIdRaw;
        SubId = System.Text.Encoding.UTF8.GetString(subIdRaw);
        Filters = filters;
        var b = new ArrayBufferWriter<byte>(subIdRaw.Length + 16);
        RelayMessageWriter.EventPrefix(b, subIdRaw);
        EventPrefix = b.WrittenSpan.ToArray();
    }

    public ClientSession Session { get; }
    public byte[] SubIdRaw { get; }
    public string SubId { get; }
    public Filter[] Filters { get; }
    /// <summary><c>["EVENT","&lt;sub&gt;",</c>: stored JSON goes between this and <c>]</c>.</summary>
    public byte[] EventPrefix { get; }
    /// <summary>Highest levId the initial query could see; live delivery starts above it.</summary>
    public ulong SnapshotLevId { get; set; }
    public volatile bool Removed;

    public bool SendEvent(ReadOnlySpan<byte> json)
    {
        bool sent = Session.Connection.SendText(EventPrefix, json, s_eventSuffix);
        if (sent) Metrics.CountRelayMessage(RelayVerb.Event);
        return sent;
    }
}
