using Relay.Native.Events;
using Relay.Native.Query;

namespace Relay.Server.Relay;

/// <summary>An EVENT as received: the event object's bytes in a pooled buffer.</summary>
internal struct IngestJob
{
    public ClientSession Session;
    public byte[] Buffer;
    public int Length;
}

/// <summary>
/// A verified event on its way to the writer: its packed record and normalized JSON in one pooled
/// buffer (packed first, JSON from <see cref="JsonStart"/>), returned by the writer.
/// </summary>
internal struct WriteJob
{
    public ClientSession? Session;
    public byte[] Buffer;
    public int PackedLength;
    public int JsonStart;
    public int JsonLength;
    public Bytes32 Id;

    public readonly ReadOnlyMemory<byte> Packed => Buffer.AsMemory(0, PackedLength);
    public readonly ReadOnlyMemory<byte> Json => Buffer.AsMemory(JsonStart, JsonLength);
}

internal enum ReqJobKind : byte { Req, Count, Close, Disconnect }

/// <summary>REQ, COUNT and CLOSE pass through the same worker so they stay in order per connection.</summary>
internal struct ReqJob
{
    public ReqJobKind Kind;
    public ClientSession Session;
    public byte[] SubIdRaw;
    public Filter[]? Filters;
    /// <summary>REQ only: made on the receive loop, so CLOSE can retire it before any later message.</summary>
    public Subscription? Subscription;
}

internal enum MonitorJobKind : byte { Add, Remove, Disconnect, Events }

internal struct MonitorJob
{
    public MonitorJobKind Kind;
    public Subscription? Subscription;
    public ClientSession? Session;
    public string? SubId;
    public CommittedBatch? Batch;
}
