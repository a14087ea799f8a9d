using Relay.Native.Events;

namespace Relay.Native.Negentropy;

/// <summary>
/// Range-based set reconciliation, both roles. For each incoming range: equal fingerprints are
/// skipped; a differing fingerprint splits our items of that range into an IdList (fewer than 32)
/// or 16 fingerprinted buckets; an IdList is answered with ours (responder) or compared with ours
/// into "have" and "need" (initiator). Consecutive skips collapse into one and a trailing skip is
/// left implicit. Owns scratch buffers only, so one instance serves many sessions on one thread.
/// </summary>
internal sealed class Reconciler
{
    private const int ItemBatch = 128;
    // Bound (≤ 10 + 1 + 32) + mode + count varint, rounded up.
    private const int IdListHeaderMax = 64;

    private readonly NegItem[] _batch = new NegItem[ItemBatch];
    private Bytes32[] _theirs = new Bytes32[64];
    private bool[] _matched = new bool[64];

    public void Initiate(INegentropyStorage storage, NegMessageWriter output)
    {
        output.Begin();
        Split(storage, 0, storage.Count, NegBound.Infinity, output);
    }

    /// <summary>
    /// Answers <paramref name="query"/> into <paramref name="output"/>. On an error the output is
    /// garbage. A responder meeting another protocol version answers with the version byte alone.
    /// </summary>
    public NegError Reconcile(INegentropyStorage storage, ReadOnlySpan<byte> query, NegMessageWriter output, int frameSizeLimit,
        bool initiator, ICollection<Bytes32>? have, ICollection<Bytes32>? need)
    {
        var reader = new NegMessageReader(query);
        var error = reader.ReadVersion(out byte version);
        if (error != NegError.None) return error;
        output.Begin();
        if (version != NegentropyProtocol.Version) return initiator ? NegError.UnsupportedVersion : NegError.None;

        long count = storage.Count;
        long previousIndex = 0;
        NegBound previousBound = default;
        bool skip = false;
        while (!reader.End)
        {
            error = reader.ReadRange(out var range);
            if (error != NegError.None) return error;

            long lower = previousIndex;
            long upper = storage.FindLowerBound(lower, count, range.UpperBound);
            var mark = output.Mark();
            bool skipBefore = skip;

            switch (range.Mode)
            {
                case NegMode.Skip:
                    skip = true;
                    break;
                case NegMode.Fingerprint:
                    if (storage.Fingerprint(lower, upper) == range.Fingerprint)
                    {
                        skip = true;
                    }
                    else
                    {
                        FlushSkip(ref skip, previousBound, output);
                        Split(storage, lower, upper, range.UpperBound, output);
                    }
                    break;
                default:
                    if (initiator)
                    {
                        Compare(storage, lower, upper, range, have!, need!);
                        skip = true;
                    }
                    else
                    {
                        FlushSkip(ref skip, previousBound, output);
                        if (!WriteOurIds(storage, lower, upper, range.UpperBound, output, frameSizeLimit)) return NegError.None;
                    }
                    break;
            }

            if (Exceeded(output.Length, frameSizeLimit))
            {
                // This range's answer does not fit: take it back and cover everything from its lower
                // bound on with one fingerprint; the peer splits that in the next round. (The
                // reference implementations fingerprint only from this range's upper end here, so the
                // range's own items are in no fingerprint, and a peer lacking exactly those would
                // see a match and skip them.)
                output.Rollback(mark);
                skip = skipBefore;
                FlushSkip(ref skip, previousBound, output);
                output.WriteFingerprint(NegBound.Infinity, storage.Fingerprint(lower, count));
                return NegError.None;
            }

            previousIndex = upper;
            previousBound = range.UpperBound;
        }
        return NegError.None;
    }

    private static bool Exceeded(int length, int frameSizeLimit) =>
        frameSizeLimit != 0 && length > frameSizeLimit - NegentropyProtocol.FrameSlack;

    private static void FlushSkip(ref bool skip, in NegBound previousBound, NegMessageWriter output)
    {
        if (!skip) return;
        skip = false;
        output.WriteSkip(previousBound);
    }

    /// <summary>Our items of [lower, upper) as an IdList (small) or 16 fingerprinted buckets.</summary>
    private void Split(INegentropyStorage storage, long lower, long upper, in NegBound upperBound, NegMessageWriter output)
    {
        long n = upper - lower;
        if (n < NegentropyProtocol.IdListThreshold)
        {
            output.WriteIdListHeader(upperBound, (int)n);
            WriteIds(storage, lower, upper, output);
            return;
        }

        long perBucket = n / NegentropyProtocol.Buckets;
        long withExtra = n % NegentropyProtocol.Buckets;
        long current = lower;
        Span<NegItem> pair = stackalloc NegItem[2];
        for (int i = 0; i < NegentropyProtocol.Buckets; i++)
        {
            long size = perBucket + (i < withExtra ? 1 : 0);
            var fingerprint = storage.Fingerprint(current, current + size);
            current += size;
            NegBound bound;
            if (current == upper)
            {
                bound = upperBound;
            }
            else
            {
                ReadExactly(storage, current - 1, pair);
                bound = NegBound.Between(pair[0], pair[1]);
            }
            output.WriteFingerprint(bound, fingerprint);
        }
    }

    /// <summary>
    /// The responder's answer to an IdList: all our ids of the range, or as many as fit followed by
    /// one fingerprint for everything after them. False when the message is full.
    /// </summary>
    private bool WriteOurIds(INegentropyStorage storage, long lower, long upper, in NegBound upperBound, NegMessageWriter output, int frameSizeLimit)
    {
        long n = upper - lower;
        long fit = n;
        if (frameSizeLimit != 0)
        {
            long room = frameSizeLimit - NegentropyProtocol.FrameSlack - output.Length - IdListHeaderMax;
            fit = Math.Clamp(room / NegentropyProtocol.IdSize, 0, n);
        }
        if (fit == n)
        {
            output.WriteIdListHeader(upperBound, (int)n);
            WriteIds(storage, lower, upper, output);
            return true;
        }

        long stop = lower + fit;
        var first = storage.GetItem(stop);
        output.WriteIdListHeader(NegBound.AtItem(first), (int)fit);
        WriteIds(storage, lower, stop, output);
        output.WriteFingerprint(NegBound.Infinity, storage.Fingerprint(stop, storage.Count));
        return false;
    }

    private void WriteIds(INegentropyStorage storage, long lower, long upper, NegMessageWriter output)
    {
        var batch = _batch.AsSpan();
        for (long position = lower; position < upper;)
        {
            int read = storage.ReadItems(position, batch.Slice(0, (int)Math.Min(batch.Length, upper - position)));
            if (read <= 0) throw new InvalidOperationException("storage returned no items inside its count");
            for (int i = 0; i < read; i++) output.WriteId(batch[i].Id.Span);
            position += read;
        }
    }

    /// <summary>The initiator's side of an IdList: which of our ids they lack, which of theirs we lack.</summary>
    private void Compare(INegentropyStorage storage, long lower, long upper, scoped in NegRange range, ICollection<Bytes32> have, ICollection<Bytes32> need)
    {
        int theirCount = range.IdCount;
        if (_theirs.Length < theirCount)
        {
            _theirs = new Bytes32[Math.Max(theirCount, _theirs.Length * 2)];
            _matched = new bool[_theirs.Length];
        }
        for (int i = 0; i < theirCount; i++) _theirs[i] = Bytes32.From(range.Id(i));
        Array.Sort(_theirs, 0, theirCount);
        int unique = 0;
        for (int i = 0; i < theirCount; i++)
        {
            if (unique > 0 && _theirs[unique - 1] == _theirs[i]) continue;
            _theirs[unique++] = _theirs[i];
        }
        Array.Clear(_matched, 0, unique);

        var batch = _batch.AsSpan();
        for (long position = lower; position < upper;)
        {
            int read = storage.ReadItems(position, batch.Slice(0, (int)Math.Min(batch.Length, upper - position)));
            if (read <= 0) throw new InvalidOperationException("storage returned no items inside its count");
            for (int i = 0; i < read; i++)
            {
                int found = Array.BinarySearch(_theirs, 0, unique, batch[i].Id);
                if (found >= 0) _matched[found] = true;
                else have.Add(batch[i].Id);
            }
            position += read;
        }
        for (int i = 0; i < unique; i++)
        {
            if (!_matched[i]) need.Add(_theirs[i]);
        }
    }

    private static void ReadExactly(INegentropyStorage storage, long start, Span<NegItem> destination)
    {
        int done = 0;
        while (done < destination.Length)
        {
            int read = storage.ReadItems(start + done, destination.Slice(done));
            if (read <= 0) throw new InvalidOperationException("storage returned no items inside its count");
            done += read;
        }
    }
}
