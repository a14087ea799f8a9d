using System.Buffers.Binary;
using LightningDB;

namespace Relay.Native.Storage;

/// <summary>
/// Walks the created_at index of a <see cref="ReadView"/> between two times (inclusive), oldest
/// first or newest first, ties in levId order (insertion order), as strfry's export does. Yields
/// levIds only; the caller reads the payload it needs. Valid while its view is.
/// </summary>
public sealed class CreatedAtScan : IDisposable
{
    private readonly LightningCursor _cursor;
    private readonly ulong _since;
    private readonly ulong _until;
    private readonly bool _newestFirst;
    private bool _started;
    private bool _done;

    internal CreatedAtScan(LightningCursor cursor, ulong since, ulong until, bool newestFirst)
    {
        _cursor = cursor;
        _since = since;
        _until = until;
        _newestFirst = newestFirst;
        _done = since > until;
    }

    /// <summary>The next entry's levId and created_at; false at the end of the range.</summary>
    public bool MoveNext(out ulong levId, out ulong createdAt)
    {
        levId = 0;
        createdAt = 0;
        if (_done) return false;
        var (rc, key, _) = _started ? (_newestFirst ? _cursor.Previous() : _cursor.Next()) : First();
        _started = true;
        if (rc != MDBResultCode.Success)
        {
            if (rc != MDBResultCode.NotFound) rc.ThrowOnError();
            _done = true;
            return false;
        }
        var k = key.AsSpan();
        createdAt = BinaryPrimitives.ReadUInt64BigEndian(k);
        if (_newestFirst ? createdAt < _since : createdAt > _until)
        {
            _done = true;
            return false;
        }
        levId = BinaryPrimitives.ReadUInt64BigEndian(k.Slice(8));
        return true;
    }

    private (MDBResultCode, MDBValue, MDBValue) First()
    {
        Span<byte> key = stackalloc byte[IndexKeys.TimeSuffixSize];
        if (!_newestFirst)
        {
            IndexKeys.WriteTimeSuffix(key, _since, 0);
            return _cursor.SetRange(key) == MDBResultCode.Success ? _cursor.GetCurrent() : (MDBResultCode.NotFound, default, default);
        }
        // No levId is ulong.MaxValue, so the first key at or above (until, max) is past the range
        // and one step back is the range's newest entry.
        IndexKeys.WriteTimeSuffix(key, _until, ulong.MaxValue);
        var rc = _cursor.SetRange(key);
        if (rc == MDBResultCode.Success) return _cursor.Previous();
        if (rc == MDBResultCode.NotFound) return _cursor.Last();
        rc.ThrowOnError();
        return (rc, default, default);
    }

    public void Dispose() => _cursor.Dispose();
}
