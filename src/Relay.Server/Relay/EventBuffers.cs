using System.Buffers;

namespace Relay.Server.Relay;

/// <summary>
/// The pool for event buffers that cross threads (rented on a receive loop or an ingester, returned
/// by the writer). ArrayPool.Shared keeps only a few arrays per size and core, and thousands of
/// events in flight would allocate afresh; this pool holds enough for a full pipeline.
/// </summary>
internal static class EventBuffers
{
    public static readonly ArrayPool<byte> Pool = ArrayPool<byte>.Create(maxArrayLength: 4 << 20, maxArraysPerBucket: 4096);
}
