using System.Buffers;
using System.Collections.Concurrent;

namespace Relay.Server.Transport;

/// <summary>
/// Fixed 4 KiB blocks shared by every connection's pipes. The block object is its own
/// <see cref="IMemoryOwner{T}"/>, so renting one allocates nothing once the pool is warm, however many
/// connections write at once (ArrayPool.Shared keeps only a few arrays per core and would start
/// allocating under a fan-out burst). The arrays live on the pinned heap because sockets pin them anyway.
/// Retention is capped so one burst does not pin its peak memory for ever.
/// </summary>
internal sealed class BlockMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 4096;

    private readonly ConcurrentQueue<Block> _free = new();
    private readonly int _maxRetainedBlocks;
    private int _retainedBlocks;

    public BlockMemoryPool(int maxRetainedBlocks)
    {
        _maxRetainedBlocks = maxRetainedBlocks;
    }

    /// <summary>64 MiB of retained blocks at most.</summary>
    public static BlockMemoryPool Instance { get; } = new(maxRetainedBlocks: 16384);

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _retainedBlocks);
            return block;
        }
        return new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _retainedBlocks) <= _maxRetainedBlocks)
            _free.Enqueue(block);
        else
            Interlocked.Decrement(ref _retainedBlocks);
    }

    private sealed class Block : IMemoryOwner<byte>
    {
        private readonly BlockMemoryPool _pool;
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);

        public Block(BlockMemoryPool pool) => _pool = pool;

        public Memory<byte> Memory => _array;

        public void Dispose() => _pool.Return(this);
    }
}
