namespace Relay.Server.Relay;

/// <summary>What became of an item offered to a <see cref="WorkQueue{T}"/>.</summary>
internal enum EnqueueResult : byte
{
    Queued,
    /// <summary>The queue is at capacity: wait with <see cref="WorkQueue{T}.EnqueueAsync"/>.</summary>
    Full,
    /// <summary>The queue was completed (shutdown); the item was not taken.</summary>
    Completed,
}

/// <summary>
/// A bounded inbox for one relay thread. The owning thread takes the whole backlog at once, which
/// batches naturally. Items are structs held in a ring, so queuing allocates nothing.
/// <para>
/// Two ways in, for two kinds of producer. Relay threads (ingester, writer, workers) call
/// <see cref="Enqueue"/> and block while the queue is full: back-pressure then reaches whoever feeds
/// them. Socket receive loops run on the thread pool and must never block it (a flood would starve
/// every connection's I/O), so they call <see cref="TryEnqueue"/> and, when it says Full, await
/// <see cref="EnqueueAsync"/>, which parks the connection's loop without holding a thread.
/// </para>
/// </summary>
internal sealed class WorkQueue<T>
{
    private readonly T[] _ring;
    private readonly object _lock = new();
    // Receive loops waiting for room, oldest first; woken one per freed slot.
    private readonly Queue<TaskCompletionSource<bool>> _roomWaiters = new();
    private int _head, _count;
    private bool _completed;

    public WorkQueue(int capacity) => _ring = new T[capacity];

    public int Capacity => _ring.Length;

    public int Count { get { lock (_lock) return _count; } }

    /// <summary>Waits (blocking the calling thread) for room; false when the queue was completed.</summary>
    public bool Enqueue(in T item)
    {
        lock (_lock)
        {
            while (_count == _ring.Length && !_completed) Monitor.Wait(_lock);
            if (_completed) return false;
            PutLocked(item);
            return true;
        }
    }

    /// <summary>Never blocks. Async waiters queued earlier keep their turn: a new item does not overtake them.</summary>
    public EnqueueResult TryEnqueue(in T item)
    {
        lock (_lock)
        {
            if (_completed) return EnqueueResult.Completed;
            if (_count == _ring.Length || _roomWaiters.Count > 0) return EnqueueResult.Full;
            PutLocked(item);
            return EnqueueResult.Queued;
        }
    }

    /// <summary>
    /// Waits without a thread until there is room, then queues the item. False when the queue was
    /// completed first. Allocates (a waiter) only when it has to wait.
    /// </summary>
    public async ValueTask<bool> EnqueueAsync(T item)
    {
        while (true)
        {
            TaskCompletionSource<bool> waiter;
            lock (_lock)
            {
                if (_completed) return false;
                if (_count < _ring.Length)
                {
                    PutLocked(item);
                    // Room may remain for the next waiter in line.
                    if (_count < _ring.Length) WakeOneWaiterLocked();
                    return true;
                }
                waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                _roomWaiters.Enqueue(waiter);
            }
            if (!await waiter.Task.ConfigureAwait(false)) return false;
        }
    }

    /// <summary>
    /// Moves up to <c>into.Length</c> items into <paramref name="into"/>, waiting up to
    /// <paramref name="timeoutMs"/> for the first one. Returns the number taken, or -1 once completed and empty.
    /// </summary>
    public int DrainTo(Span<T> into, int timeoutMs = Timeout.Infinite)
    {
        lock (_lock)
        {
            if (_count == 0)
            {
                if (_completed) return -1;
                Monitor.Wait(_lock, timeoutMs);
                if (_count == 0) return _completed ? -1 : 0;
            }
            bool wasFull = _count == _ring.Length;
            int n = Math.Min(_count, into.Length);
            for (int i = 0; i < n; i++)
            {
                into[i] = _ring[_head];
                _ring[_head] = default!;
                _head = (_head + 1) % _ring.Length;
            }
            _count -= n;
            if (wasFull) Monitor.PulseAll(_lock);
            for (int i = 0; i < n && _roomWaiters.Count > 0; i++) WakeOneWaiterLocked();
            return n;
        }
    }

    /// <summary>Wakes the consumer without an item (e.g. a timer's request).</summary>
    public void Wake() { lock (_lock) Monitor.PulseAll(_lock); }

    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
            Monitor.PulseAll(_lock);
            while (_roomWaiters.TryDequeue(out var waiter)) waiter.TrySetResult(false);
        }
    }

    private void PutLocked(in T item)
    {
        _ring[(_head + _count) % _ring.Length] = item;
        _count++;
        if (_count == 1) Monitor.PulseAll(_lock);
    }

    private void WakeOneWaiterLocked()
    {
        if (_roomWaiters.TryDequeue(out var waiter)) waiter.TrySetResult(true);
    }
}
