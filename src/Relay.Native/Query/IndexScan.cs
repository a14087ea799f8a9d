using System.Buffers.Binary;
using LightningDB;
using Relay.Native.Storage;

namespace Relay.Native.Query;

/// <summary>
/// Walks several runs of one index at once (one run per filter value: a tag value, an author, a
/// kind...) newest-first between until and since, and yields the levIds grouped by created_at.
/// Groups matter because NIP-01 orders equal timestamps by id, which the index does not know:
/// the caller sorts each group by id.
/// <para>
/// One LMDB cursor serves all the runs: each run keeps the key it stopped at and buffers a chunk
/// of entries, re-seeking only when its chunk is used up. A max-heap on the head timestamp of
/// each run merges them. Everything is reused from query to query; nothing is allocated per
/// entry.
/// </para>
/// </summary>
internal sealed class IndexScan
{
    private byte[] _prefixBytes = new byte[512];
    private int _prefixBytesUsed;
    private int[] _prefixStart = new int[16];
    private int[] _prefixLength = new int[16];
    private int _runCount;

    // Per run: where the next refill resumes (strictly below this time ‖ levId), its buffered
    // chunk [head, count) and whether the index has more.
    private ulong[] _resumeTime = new ulong[16];
    private ulong[] _resumeLevId = new ulong[16];
    private int[] _head = new int[16];
    private int[] _count = new int[16];
    private bool[] _exhausted = new bool[16];
    private ulong[] _bufferTime = new ulong[256];
    private ulong[] _bufferLevId = new ulong[256];
    private int _chunk;

    private int[] _heap = new int[16];
    private int _heapSize;

    private ulong[] _group = new ulong[64];
    private int _groupCount;

    private LightningCursor? _cursor;
    private ulong _since;

    public int RunCount => _runCount;

    /// <summary>The levIds of the last group returned by <see cref="NextGroup"/>; a value may repeat.</summary>
    public ReadOnlySpan<ulong> Group => _group.AsSpan(0, _groupCount);

    public void Reset()
    {
        _runCount = 0;
        _prefixBytesUsed = 0;
        _heapSize = 0;
        _groupCount = 0;
        _cursor = null;
    }

    /// <summary>Space for the next run's key prefix; finish with <see cref="EndValue"/>.</summary>
    public Span<byte> BeginValue(int maxLength)
    {
        if (_prefixBytesUsed + maxLength > _prefixBytes.Length)
            Array.Resize(ref _prefixBytes, Math.Max(_prefixBytes.Length * 2, _prefixBytesUsed + maxLength));
        return _prefixBytes.AsSpan(_prefixBytesUsed, maxLength);
    }

    public void EndValue(int length)
    {
        var prefix = _prefixBytes.AsSpan(_prefixBytesUsed, length);
        // Filter value sets are sorted, so a repeated value is adjacent; scanning it twice would
        // only produce duplicates to drop.
        if (_runCount > 0 && Prefix(_runCount - 1).SequenceEqual(prefix)) return;
        if (_runCount == _prefixStart.Length) GrowRuns();
        _prefixStart[_runCount] = _prefixBytesUsed;
        _prefixLength[_runCount] = length;
        _prefixBytesUsed += length;
        _runCount++;
    }

    /// <summary>Positions every run at <paramref name="until"/> and builds the merge heap.</summary>
    /// <param name="expected">How many entries the caller hopes to need; sizes the chunks.</param>
    public void Start(LightningCursor cursor, ulong since, ulong until, long expected)
    {
        _cursor = cursor;
        _since = since;
        // Enough for the limit if the runs share it evenly; a run that needs more refills.
        _chunk = (int)Math.Clamp(Math.Min(expected, 1 << 20) / Math.Max(_runCount, 1) + 1, 8, 256);
        int bufferSize = _runCount * _chunk;
        if (_bufferTime.Length < bufferSize)
        {
            _bufferTime = new ulong[bufferSize];
            _bufferLevId = new ulong[bufferSize];
        }
        _heapSize = 0;
        for (int run = 0; run < _runCount; run++)
        {
            _resumeTime[run] = until;
            _resumeLevId[run] = ulong.MaxValue;
            _head[run] = 0;
            _count[run] = 0;
            _exhausted[run] = false;
            if (EnsureHead(run)) Push(run);
        }
    }

    /// <summary>
    /// Moves a started scan to another cursor of the same database, e.g. of a newer read
    /// transaction: the buffered entries and the resume keys (created_at ‖ levId per run) stay,
    /// so the next refill continues strictly below where the old cursor stopped. Null unbinds.
    /// </summary>
    public void Rebind(LightningCursor? cursor) => _cursor = cursor;

    /// <summary>Collects every entry with the newest remaining created_at into <see cref="Group"/>.</summary>
    public bool NextGroup(out ulong createdAt)
    {
        _groupCount = 0;
        if (_heapSize == 0)
        {
            createdAt = 0;
            return false;
        }
        ulong time = HeadTime(_heap[0]);
        while (_heapSize > 0 && HeadTime(_heap[0]) == time)
        {
            int run = _heap[0];
            while (true)
            {
                if (_head[run] < _count[run])
                {
                    int at = run * _chunk + _head[run];
                    if (_bufferTime[at] != time) break;
                    AddToGroup(_bufferLevId[at]);
                    _head[run]++;
                }
                else if (!EnsureHead(run))
                {
                    break;
                }
            }
            if (EnsureHead(run)) SiftDown(0);
            else RemoveTop();
        }
        createdAt = time;
        return true;
    }

    private ReadOnlySpan<byte> Prefix(int run) => _prefixBytes.AsSpan(_prefixStart[run], _prefixLength[run]);

    private ulong HeadTime(int run) => _bufferTime[run * _chunk + _head[run]];

    private bool EnsureHead(int run)
    {
        if (_head[run] < _count[run]) return true;
        if (_exhausted[run]) return false;
        Refill(run);
        return _head[run] < _count[run];
    }

    private void Refill(int run)
    {
        var cursor = _cursor!;
        var prefix = Prefix(run);
        int keyLength = prefix.Length + IndexKeys.TimeSuffixSize;
        Span<byte> key = stackalloc byte[IndexKeys.MaxKeySize];
        prefix.CopyTo(key);
        IndexKeys.WriteTimeSuffix(key.Slice(prefix.Length), _resumeTime[run], _resumeLevId[run]);

        // SetRange lands on the first key >= the resume key; one step back is the newest entry
        // strictly below it. Nothing >= it at all means the newest candidate is the last key.
        var rc = cursor.SetRange(key.Slice(0, keyLength));
        (MDBResultCode, MDBValue, MDBValue) entry;
        if (rc == MDBResultCode.Success) entry = cursor.Previous();
        else if (rc == MDBResultCode.NotFound) entry = cursor.Last();
        else
        {
            rc.ThrowOnError();
            return;
        }

        int start = run * _chunk, n = 0;
        _head[run] = 0;
        while (true)
        {
            if (entry.Item1 != MDBResultCode.Success)
            {
                if (entry.Item1 != MDBResultCode.NotFound) entry.Item1.ThrowOnError();
                _exhausted[run] = true;
                break;
            }
            var found = entry.Item2.AsSpan();
            // The tag value encoding is prefix-free, so a key of this run has exactly this length.
            if (found.Length != keyLength || !found.StartsWith(prefix))
            {
                _exhausted[run] = true;
                break;
            }
            ulong time = BinaryPrimitives.ReadUInt64BigEndian(found.Slice(prefix.Length));
            if (time < _since)
            {
                _exhausted[run] = true;
                break;
            }
            ulong levId = BinaryPrimitives.ReadUInt64BigEndian(found.Slice(prefix.Length + 8));
            _bufferTime[start + n] = time;
            _bufferLevId[start + n] = levId;
            _resumeTime[run] = time;
            _resumeLevId[run] = levId;
            if (++n == _chunk) break;
            entry = cursor.Previous();
        }
        _count[run] = n;
    }

    private void AddToGroup(ulong levId)
    {
        if (_groupCount == _group.Length) Array.Resize(ref _group, _group.Length * 2);
        _group[_groupCount++] = levId;
    }

    private void GrowRuns()
    {
        int size = _prefixStart.Length * 2;
        Array.Resize(ref _prefixStart, size);
        Array.Resize(ref _prefixLength, size);
        Array.Resize(ref _resumeTime, size);
        Array.Resize(ref _resumeLevId, size);
        Array.Resize(ref _head, size);
        Array.Resize(ref _count, size);
        Array.Resize(ref _exhausted, size);
        Array.Resize(ref _heap, size);
    }

    private void Push(int run)
    {
        int i = _heapSize++;
        _heap[i] = run;
        ulong time = HeadTime(run);
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (HeadTime(_heap[parent]) >= time) break;
            _heap[i] = _heap[parent];
            i = parent;
        }
        _heap[i] = run;
    }

    private void RemoveTop()
    {
        _heapSize--;
        if (_heapSize == 0) return;
        _heap[0] = _heap[_heapSize];
        SiftDown(0);
    }

    private void SiftDown(int i)
    {
        int run = _heap[i];
        ulong time = HeadTime(run);
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= _heapSize) break;
            if (child + 1 < _heapSize && HeadTime(_heap[child + 1]) > HeadTime(_heap[child])) child++;
            if (HeadTime(_heap[child]) <= time) break;
            _heap[i] = _heap[child];
            i = child;
        }
        _heap[i] = run;
    }
}
