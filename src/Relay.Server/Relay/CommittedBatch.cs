using System.Buffers;
using System.Collections.Concurrent;

namespace Relay.Server.Relay;

/// <summary>
/// The events of one write transaction that subscribers may see (stored and ephemeral), copied into one
/// pooled arena, shared by every monitor thread and returned to the pool by the last one to finish.
/// </summary>
internal sealed class CommittedBatch
{
    private static readonly ConcurrentBag<CommittedBatch> s_pool = new();

    internal struct Slot
    {
        public int PackedStart, PackedLength, JsonStart, JsonLength;
        public ulong LevId;   // 0 for ephemeral events (never stored)
    }

    private byte[] _arena = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private Slot[] _slots = new Slot[256];
    private int _used;
    private int _refs;

    public int Count { get; private set; }
    public ref readonly Slot this[int i] => ref _slots[i];
    public ReadOnlySpan<byte> Packed(in Slot s) => _arena.AsSpan(s.PackedStart, s.PackedLength);
    public ReadOnlySpan<byte> Json(in Slot s) => _arena.AsSpan(s.JsonStart, s.JsonLength);

    public static CommittedBatch Rent() => s_pool.TryTake(out var b) ? b : new CommittedBatch();

    public void Add(ReadOnlySpan<byte> packed, ReadOnlySpan<byte> json, ulong levId)
    {
        int need = _used + packed.Length + json.Length;
        if (need > _arena.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(need, _arena.Length * 2));
            _arena.AsSpan(0, _used).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_arena);
            _arena = bigger;
        }
        if (Count == _slots.Length) Array.Resize(ref _slots, _slots.Length * 2);
        ref var slot = ref _slots[Count++];
        slot.PackedStart = _used;
        slot.PackedLength = packed.Length;
        packed.CopyTo(_arena.AsSpan(_used));
        _used += packed.Length;
        slot.JsonStart = _used;
        slot.JsonLength = json.Length;
        json.CopyTo(_arena.AsSpan(_used));
        _used += json.Length;
        slot.LevId = levId;
    }

    public void SetReaders(int readers) => Volatile.Write(ref _refs, readers);

    /// <summary>Called by each reader when done; the last one recycles the batch.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) != 0) return;
        _used = 0;
        Count = 0;
        s_pool.Add(this);
    }
}
