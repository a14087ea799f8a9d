using System.Collections.Concurrent;
using System.Diagnostics;
using Relay.Native.Crypto;
using Relay.Native.Events;
using Relay.Native.Storage;
using Relay.Server.Policy;

namespace Relay.Server.Commands;

/// <summary>How <c>relay import</c> treats its input.</summary>
internal sealed class ImportOptions
{
    public bool ShowRejected { get; init; }
    public bool NoVerify { get; init; }
    /// <summary>Events per write transaction (strfry's <c>--write-batch</c>, 10,000).</summary>
    public int WriteBatch { get; init; } = 10_000;
    /// <summary>How long a partial batch may wait for more input before it is committed (strfry's <c>--debounce-millis</c>).</summary>
    public int DebounceMillis { get; init; } = 1000;
    /// <summary>strfry's plugin <c>sourceInfo</c> for imported events: the file name, or "stdin".</summary>
    public string SourceInfo { get; init; } = "stdin";
    /// <summary>Size and tag limits (strfry's import keeps them); the created_at window is not applied.</summary>
    public EventLimits Limits { get; init; } = EventLimits.Default;
    public IEventPolicy Policy { get; init; } = AcceptAllPolicy.Instance;
    public ISchnorrVerifier Verifier { get; init; } = SchnorrVerifiers.Default;
}

/// <summary>
/// The import pipeline. This thread reads lines, parses each with the relay's own
/// <see cref="EventParser"/> (the id is always checked), drops events already stored, verifies
/// the signatures of a chunk at a time with <see cref="ISchnorrVerifier.VerifyBatch"/> (on every
/// core), asks the write policy, and hands the chunk to a writer thread that commits batches of
/// <see cref="ImportOptions.WriteBatch"/> events, one durable transaction each, with the relay's
/// write rules (<see cref="EventStore.WriteBatch(ReadOnlySpan{WriteItem}, Span{WriteResult}, bool, long)"/>).
/// Reading and verifying the next chunk overlaps the previous commit.
/// </summary>
internal sealed class Importer
{
    private const int ChunkBytes = 4 << 20;
    // Chunks verified and waiting for the writer: back-pressure when the disk is the bottleneck.
    private const int QueuedChunks = 4;

    private readonly EventStore _store;
    private readonly ImportOptions _options;
    private readonly EventLimits _parseLimits;
    private readonly ImportTally _tally;
    private readonly BlockingCollection<ImportChunk> _toWriter = new(QueuedChunks);
    private readonly ConcurrentBag<ImportChunk> _freeChunks = new();
    private ImportChunk _chunk = new();
    private byte[] _packedScratch = new byte[64 * 1024];
    private byte[] _jsonScratch = new byte[64 * 1024];
    // A read snapshot for the "already stored?" probe, renewed per chunk so it never pins old pages for long.
    private ReadView? _probe;
    private bool _probeActive;
    private volatile Exception? _writerFailure;

    public Importer(EventStore store, ImportOptions options, ImportTally tally)
    {
        _store = store;
        _options = options;
        _tally = tally;
        // Parsed with now = 0 (see Add), these make the created_at window infinite: strfry's import
        // sets verifyTime = false.
        _parseLimits = new EventLimits
        {
            MaxEventSize = options.Limits.MaxEventSize,
            MaxNumTags = options.Limits.MaxNumTags,
            MaxTagValSize = options.Limits.MaxTagValSize,
            RejectEventsNewerThanSeconds = long.MaxValue,
            RejectEventsOlderThanSeconds = 0,
        };
    }

    /// <summary>Imports every line of <paramref name="input"/>; throws when the database fails (nothing after the failing batch is stored).</summary>
    public async Task RunAsync(Stream input, CancellationToken cancellationToken)
    {
        var writer = new Thread(WriterLoop) { Name = "Import writer", IsBackground = true };
        writer.Start();
        try
        {
            _probe = _store.BeginRead();
            _probe.Reset();
            var lines = new JsonLineReader(input, _options.Limits.MaxEventSize);
            bool sealNow = false;
            lines.BeforeWait = () => sealNow = true;
            while (lines.TryReadLine(out var line, out bool tooLong))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (tooLong)
                {
                    _tally.Read();
                    Reject(lines.LineNumber, default, $"invalid: line longer than maxEventSize ({_options.Limits.MaxEventSize} bytes)");
                }
                else if (!IsBlank(line.Span))
                {
                    _tally.Read();
                    Add(line.Span, lines.LineNumber);
                }
                if (sealNow || _chunk.Count == ImportChunk.Capacity || _chunk.Used >= ChunkBytes)
                {
                    sealNow = false;
                    await SealAsync(cancellationToken);
                }
            }
            await SealAsync(cancellationToken);
        }
        finally
        {
            _toWriter.CompleteAdding();
            writer.Join();
            _probe?.Dispose();
        }
        if (_writerFailure is not null) throw new ImportFailedException(_writerFailure.Message, _writerFailure);
    }

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.Trim(" \t\r"u8).IsEmpty;

    /// <summary>Parses one line into the current chunk, or counts why it cannot be stored.</summary>
    private void Add(ReadOnlySpan<byte> line, long lineNumber)
    {
        int maxPacked = EventParser.MaxPackedSize(line.Length), maxJson = EventParser.MaxJsonSize(line.Length);
        if (_packedScratch.Length < maxPacked) _packedScratch = new byte[Math.Max(maxPacked, _packedScratch.Length * 2)];
        if (_jsonScratch.Length < maxJson) _jsonScratch = new byte[Math.Max(maxJson, _jsonScratch.Length * 2)];
        // now = 0 with _parseLimits turns off the created_at window and the expiry check, as
        // strfry's import does; the store still refuses events already expired, which would never
        // be served.
        var status = EventParser.Parse(line, _parseLimits, 0, _packedScratch, out int packedLength,
            _jsonScratch, out int jsonLength, out ParsedEventHeader header, out string? error);
        if (status != EventParseStatus.Ok)
        {
            Reject(lineNumber, header.IdValid ? header.Id.Span : default, error ?? EventErrors.Malformed);
            return;
        }
        // Stored already (a re-run of the same import): no need to pay for its signature.
        if (!_probeActive)
        {
            _probe!.Renew();
            _probeActive = true;
        }
        if (_probe!.ContainsId(header.Id.Span))
        {
            _tally.Duplicate();
            return;
        }
        _chunk.Add(_packedScratch.AsSpan(0, packedLength), _jsonScratch.AsSpan(0, jsonLength), header, lineNumber);
    }

    /// <summary>Verifies the current chunk's signatures, asks the policy, and hands the chunk to the writer.</summary>
    private async Task SealAsync(CancellationToken cancellationToken)
    {
        if (_probeActive)
        {
            _probe!.Reset();
            _probeActive = false;
        }
        var chunk = _chunk;
        if (chunk.Count == 0) return;
        if (!_options.NoVerify) Verify(chunk);
        long receivedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var entries = chunk.Entries;
        for (int i = 0; i < chunk.Count; i++)
        {
            if (!_options.NoVerify && !chunk.Valid[i])
            {
                entries[i].Refused = true;
                Reject(entries[i].Line, entries[i].Id.Span, EventErrors.BadSignature);
                continue;
            }
            var verdict = await _options.Policy.CheckAsync(
                new PolicyRequest(chunk.Json(i), EventSourceType.Import, _options.SourceInfo, receivedAt), cancellationToken);
            if (verdict.Action == PolicyAction.Accept) continue;
            entries[i].Refused = true;
            Reject(entries[i].Line, entries[i].Id.Span, verdict.Action == PolicyAction.ShadowReject
                ? (verdict.Message.Length > 0 ? "shadowReject: " + verdict.Message : "shadowReject by the write policy")
                : verdict.Message.Length > 0 ? verdict.Message : "blocked: rejected by the write policy");
        }
        _chunk = _freeChunks.TryTake(out var free) ? free : new ImportChunk();
        if (_writerFailure is not null) throw new ImportFailedException(_writerFailure.Message, _writerFailure);
        _toWriter.Add(chunk, cancellationToken);
    }

    /// <summary>Splits the chunk's signatures over the cores; each slice is one VerifyBatch call.</summary>
    private void Verify(ImportChunk chunk)
    {
        int count = chunk.Count;
        int slices = Math.Min(Environment.ProcessorCount, Math.Max(1, count / 64));
        int per = (count + slices - 1) / slices;
        var verifier = _options.Verifier;
        Parallel.For(0, slices, s =>
        {
            int from = s * per, n = Math.Min(per, count - from);
            if (n <= 0) return;
            verifier.VerifyBatch(chunk.Sigs.AsSpan(64 * from, 64 * n), chunk.Ids.AsSpan(32 * from, 32 * n),
                chunk.PubKeys.AsSpan(32 * from, 32 * n), chunk.Valid.AsSpan(from, n));
        });
    }

    /// <param name="id">Empty when the line has no readable id.</param>
    private void Reject(long line, ReadOnlySpan<byte> id, string reason)
    {
        _tally.Rejected(reason);
        if (_options.ShowRejected)
            Console.Error.WriteLine($"Rejected event {(id.IsEmpty ? "unknown" : Convert.ToHexStringLower(id))} (line {line}): {reason}");
    }

    // ---- writer thread ----

    private void WriterLoop()
    {
        var pending = new List<ImportChunk>();
        int pendingEvents = 0;
        long firstPending = 0;
        try
        {
            while (true)
            {
                int wait = pending.Count == 0 ? Timeout.Infinite
                    : (int)Math.Max(0, _options.DebounceMillis - Stopwatch.GetElapsedTime(firstPending).TotalMilliseconds);
                if (_toWriter.TryTake(out var chunk, wait))
                {
                    if (pending.Count == 0) firstPending = Stopwatch.GetTimestamp();
                    pending.Add(chunk);
                    pendingEvents += chunk.Count;
                    if (pendingEvents < _options.WriteBatch) continue;
                }
                else if (pending.Count == 0)
                {
                    if (_toWriter.IsCompleted) return;
                    continue;
                }
                Write(pending);
                foreach (var c in pending)
                {
                    c.Clear();
                    _freeChunks.Add(c);
                }
                pending.Clear();
                pendingEvents = 0;
            }
        }
        catch (Exception e)
        {
            _writerFailure = e;
            // Keep taking chunks so the reading thread is never stuck on a full queue; they are dropped.
            foreach (var _ in _toWriter.GetConsumingEnumerable()) { }
        }
    }

    private WriteItem[] _items = new WriteItem[1024];
    private WriteResult[] _results = new WriteResult[1024];
    private (ImportChunk Chunk, int Index)[] _origins = new (ImportChunk, int)[1024];

    /// <summary>Commits the pending chunks' accepted events, <see cref="ImportOptions.WriteBatch"/> per transaction.</summary>
    private void Write(List<ImportChunk> chunks)
    {
        int n = 0;
        foreach (var c in chunks)
        {
            for (int i = 0; i < c.Count; i++)
            {
                if (c.Entries[i].Refused) continue;
                if (n == _items.Length)
                {
                    Array.Resize(ref _items, n * 2);
                    Array.Resize(ref _results, n * 2);
                    Array.Resize(ref _origins, n * 2);
                }
                _items[n] = new WriteItem(c.Packed(i), c.Json(i));
                _origins[n] = (c, i);
                n++;
            }
        }
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        for (int from = 0; from < n; from += _options.WriteBatch)
        {
            int count = Math.Min(_options.WriteBatch, n - from);
            _store.WriteBatch(_items.AsSpan(from, count), _results.AsSpan(from, count), durable: true, now);
            for (int k = from; k < from + count; k++)
            {
                ref readonly var r = ref _results[k];
                switch (r.Status)
                {
                    case WriteStatus.Stored: _tally.Stored(); break;
                    case WriteStatus.Duplicate: _tally.Duplicate(); break;
                    case WriteStatus.Ephemeral:
                        var (ec, ei) = _origins[k];
                        Reject(ec.Entries[ei].Line, ec.Entries[ei].Id.Span, "ephemeral: kinds 20000-29999 are never stored");
                        break;
                    default:
                        var (c, i) = _origins[k];
                        Reject(c.Entries[i].Line, c.Entries[i].Id.Span, r.Message);
                        break;
                }
            }
            _tally.Committed();
        }
        Array.Clear(_items, 0, n);
        Array.Clear(_origins, 0, n);
    }
}

/// <summary>
/// Parsed events on their way from the reading thread to the writer: packed records and JSON in one
/// arena, signature inputs laid out back to back for VerifyBatch. Reused once written.
/// </summary>
internal sealed class ImportChunk
{
    internal struct Entry
    {
        public int PackedStart, PackedLength, JsonStart, JsonLength;
        public long Line;
        public Bytes32 Id;
        /// <summary>Bad signature or refused by the policy: not written.</summary>
        public bool Refused;
    }

    public const int Capacity = 2048;
    private byte[] _arena = new byte[1 << 20];

    public Entry[] Entries { get; } = new Entry[Capacity];
    public byte[] Sigs { get; } = new byte[64 * Capacity];
    public byte[] Ids { get; } = new byte[32 * Capacity];
    public byte[] PubKeys { get; } = new byte[32 * Capacity];
    public bool[] Valid { get; } = new bool[Capacity];
    public int Count { get; private set; }
    public int Used { get; private set; }

    public ReadOnlyMemory<byte> Packed(int i) => _arena.AsMemory(Entries[i].PackedStart, Entries[i].PackedLength);
    public ReadOnlyMemory<byte> Json(int i) => _arena.AsMemory(Entries[i].JsonStart, Entries[i].JsonLength);

    public void Add(ReadOnlySpan<byte> packed, ReadOnlySpan<byte> json, in ParsedEventHeader header, long line)
    {
        int need = Used + packed.Length + json.Length;
        if (need > _arena.Length) Array.Resize(ref _arena, Math.Max(need, _arena.Length * 2));
        ref var e = ref Entries[Count];
        e.PackedStart = Used;
        e.PackedLength = packed.Length;
        packed.CopyTo(_arena.AsSpan(Used));
        Used += packed.Length;
        e.JsonStart = Used;
        e.JsonLength = json.Length;
        json.CopyTo(_arena.AsSpan(Used));
        Used += json.Length;
        e.Line = line;
        e.Id = header.Id;
        e.Refused = false;
        header.Sig.Span.CopyTo(Sigs.AsSpan(64 * Count));
        header.Id.Span.CopyTo(Ids.AsSpan(32 * Count));
        header.PubKey.Span.CopyTo(PubKeys.AsSpan(32 * Count));
        Count++;
    }

    public void Clear()
    {
        Array.Clear(Entries, 0, Count);
        Count = 0;
        Used = 0;
    }
}

/// <summary>What an import did, line by line; safe to update from the reading and the writing thread.</summary>
internal sealed class ImportTally
{
    private long _read, _stored, _duplicate, _rejected, _commits;
    private readonly Dictionary<string, long> _byReason = new(StringComparer.Ordinal);

    public long ReadCount => Volatile.Read(ref _read);
    public long StoredCount => Volatile.Read(ref _stored);
    public long DuplicateCount => Volatile.Read(ref _duplicate);
    public long RejectedCount => Volatile.Read(ref _rejected);
    public long Commits => Volatile.Read(ref _commits);

    public void Read() => Interlocked.Increment(ref _read);
    public void Stored() => Interlocked.Increment(ref _stored);
    public void Duplicate() => Interlocked.Increment(ref _duplicate);
    public void Committed() => Interlocked.Increment(ref _commits);

    public void Rejected(string reason)
    {
        Interlocked.Increment(ref _rejected);
        lock (_byReason) _byReason[reason] = _byReason.GetValueOrDefault(reason) + 1;
    }

    /// <summary>Reasons, most frequent first.</summary>
    public List<KeyValuePair<string, long>> ByReason()
    {
        List<KeyValuePair<string, long>> list;
        lock (_byReason) list = new(_byReason);
        list.Sort((a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.Key, b.Key));
        return list;
    }
}

/// <summary>The database refused a write batch (e.g. MDB_MAP_FULL); the import stopped there.</summary>
internal sealed class ImportFailedException : Exception
{
    public ImportFailedException(string message, Exception inner) : base(message, inner) { }
}
