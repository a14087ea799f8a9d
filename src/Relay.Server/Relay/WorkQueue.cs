namespace Relay.Server.Relay;

/// <summary>
/// A bounded inbox for one relay thread. Producers block when it is full (back-pressure reaches the
/// socket that feeds them); the owning thread takes the whole backlog at once, which batches naturally.
/// Items are structs held in a ring, so queuing allocates nothing.
/// </summary>
internal sealed class WorkQueue<T>
{
    private readonly T[] _ring;
    private readonly object _lock = new();
    private int _head, _count;
    private bool _completed;

    public WorkQueue(int capacity) => _ring = new T[capacity];

    public int Count { get { lock (_lock) return _count; } }

    /// <summary>Waits for room; false when the queue was completed (shutdown).</summary>
    public bool Enqueue(in T item)
    {
        lock (_lock)
        {
            while (_count == _ring.Length && !_completed) Monitor.Wait(_lock);
            if (_completed) return false;
            _ring[(_head + _count) % _ring.Length] = item;
            _count++;
            if (_count == 1) Monitor.PulseAll(_lock);
            return true;
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
        }
    }
}
