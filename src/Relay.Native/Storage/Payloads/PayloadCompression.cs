using LightningDB;
using Relay.Native.Events;
using Relay.Native.Query;
using ZstdSharp.Unsafe;

namespace Relay.Native.Storage.Payloads;

/// <summary>
/// Offline compression of stored payloads with trained zstd dictionaries (the library behind
/// <c>relay dict stats|train|compress|decompress</c>). The writer always stores raw JSON; this
/// rewrites payloads afterwards, in batches of write transactions that take turns with the writer,
/// so it may run while the relay serves the same database. Readers decompress transparently
/// (<see cref="ReadView.TryGetPayload"/>). Events are selected by a full scan in levId order
/// checked against the filter: these are rare, operator-run passes, not queries.
/// </summary>
public sealed class PayloadCompression
{
    private static ReadOnlySpan<byte> ZstdDictionaryMagic => [0x37, 0xA4, 0x30, 0xEC];

    private readonly EventStore _store;

    public PayloadCompression(EventStore store) => _store = store ?? throw new ArgumentNullException(nameof(store));

    public IReadOnlyList<DictionaryInfo> ListDictionaries()
    {
        using var view = _store.BeginRead();
        return _store.PayloadDictionaries.List(view.Transaction).ConvertAll(d => new DictionaryInfo(d.Id, d.Size));
    }

    /// <summary>The dictionary's bytes as stored, or null.</summary>
    public byte[]? GetDictionary(uint dictId)
    {
        using var view = _store.BeginRead();
        return _store.PayloadDictionaries.Read(view.Transaction, dictId);
    }

    /// <summary>Stores a dictionary made elsewhere (e.g. taken over from strfry); returns its new id.</summary>
    public uint AddDictionary(ReadOnlySpan<byte> dictionary)
    {
        // Trained dictionaries start with zstd's dictionary magic; anything else zstd would take as
        // plain "raw content" and accept, so it is refused here before a payload can depend on it.
        if (dictionary.Length < 8 || !dictionary.StartsWith(ZstdDictionaryMagic))
            throw new ArgumentException("not a zstd dictionary (no dictionary magic number)", nameof(dictionary));
        _ = new ZstdDictionary(0, dictionary.ToArray());
        byte[] copy = dictionary.ToArray();
        uint id = 0;
        _store.RunMaintenance(txn =>
        {
            id = _store.PayloadDictionaries.Add(txn, copy);
            return true;
        });
        return id;
    }

    public PayloadStats Stats(Filter? filter = null, long limit = long.MaxValue)
    {
        long events = 0, raw = 0, compressed = 0, original = 0, stored = 0;
        var usage = new SortedDictionary<uint, (long Events, long Original, long Stored)>();
        using var view = _store.BeginRead();
        var dictionaries = _store.PayloadDictionaries.List(view.Transaction).ConvertAll(d => new DictionaryInfo(d.Id, d.Size));
        // Every stored dictionary is listed, used or not, so an operator sees which are idle.
        foreach (var d in dictionaries) usage[d.DictId] = default;
        using var scan = new MatchingEvents(view.Transaction, view.Databases, filter);
        while (events < limit && scan.MoveNext())
        {
            if (!view.TryGetStoredPayload(scan.LevId, out var value)) continue;
            events++;
            stored += value.Length;
            if (!StoredPayload.IsCompressed(value))
            {
                raw++;
                original += value.Length;
                continue;
            }
            compressed++;
            uint dictId = StoredPayload.ReadDictionaryId(value);
            int size = PayloadDecoder.ContentSize(StoredPayload.Frame(value));
            original += size;
            usage.TryGetValue(dictId, out var u);
            usage[dictId] = (u.Events + 1, u.Original + size, u.Stored + value.Length);
        }
        var byDictionary = new List<DictionaryUsage>();
        foreach (var (id, u) in usage) byDictionary.Add(new DictionaryUsage(id, u.Events, u.Original, u.Stored));
        long databaseBytes = 0;
        foreach (var db in new[] { view.Databases.Payloads, view.Databases.CompressedPayloads })
        {
            var pages = view.Transaction.GetStats(db);
            databaseBytes += (long)(pages.BranchPages + pages.LeafPages + pages.OverflowPages) * pages.PageSize;
        }
        return new PayloadStats(events, raw, compressed, original, stored, byDictionary, dictionaries, databaseBytes);
    }

    /// <summary>Trains a dictionary on a random sample of the matching payloads and stores it.</summary>
    public TrainResult Train(TrainOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SampleLimit, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.DictionarySize, 256);

        // Reservoir sampling: one pass, a uniform sample whatever the number of matches.
        var random = new Random(options.Seed);
        var samples = new List<byte[]>();
        long seen = 0;
        using (var view = _store.BeginRead())
        {
            using var scan = new MatchingEvents(view.Transaction, view.Databases, options.Filter);
            while (scan.MoveNext())
            {
                seen++;
                int slot = samples.Count < options.SampleLimit ? samples.Count : (int)Math.Min(random.NextInt64(seen), int.MaxValue);
                if (slot >= options.SampleLimit) continue;
                if (!view.TryGetPayload(scan.LevId, out var json)) continue;
                if (slot == samples.Count) samples.Add(json.ToArray());
                else samples[slot] = json.ToArray();
            }
        }
        byte[] dictionary = TrainDictionary(samples, options.DictionarySize);
        uint id = 0;
        _store.RunMaintenance(txn =>
        {
            id = _store.PayloadDictionaries.Add(txn, dictionary);
            return true;
        });
        long sampleBytes = 0;
        foreach (var s in samples) sampleBytes += s.Length;
        return new TrainResult(id, dictionary.Length, samples.Count, sampleBytes);
    }

    private static unsafe byte[] TrainDictionary(List<byte[]> samples, int capacity)
    {
        long total = 0;
        foreach (var s in samples) total += s.Length;
        // zstd's trainer wants plenty of material: about 100x the dictionary, and at least a few samples.
        if (samples.Count < 8 || total < capacity)
            throw new InvalidOperationException(
                $"not enough material to train a {capacity}-byte dictionary: {samples.Count} payloads, {total} bytes. " +
                "Match more events or ask for a smaller dictionary.");
        if (total > int.MaxValue) throw new InvalidOperationException($"{total} bytes of samples is more than zstd's trainer takes; lower the sample limit");

        var all = new byte[total];
        var sizes = new nuint[samples.Count];
        int offset = 0;
        for (int i = 0; i < samples.Count; i++)
        {
            samples[i].CopyTo(all, offset);
            offset += samples[i].Length;
            sizes[i] = (nuint)samples[i].Length;
        }
        var dictionary = new byte[capacity];
        nuint written;
        fixed (byte* d = dictionary)
        fixed (byte* a = all)
        fixed (nuint* s = sizes)
        {
            written = Methods.ZDICT_trainFromBuffer(d, (nuint)capacity, a, s, (uint)samples.Count);
        }
        if (Methods.ZDICT_isError(written))
            throw new InvalidOperationException($"zstd could not train a dictionary from {samples.Count} payloads ({total} bytes): {new string(Methods.ZDICT_getErrorName(written))}");
        return dictionary.AsSpan(0, (int)written).ToArray();
    }

    /// <summary>
    /// Rewrites the matching payloads compressed with <see cref="CompressOptions.DictId"/>, including
    /// ones compressed with another dictionary. Each new value is decompressed and compared before it
    /// replaces the old one; a value that would not shrink stays (or becomes) raw JSON.
    /// </summary>
    public RewriteResult Compress(CompressOptions options, Action<RewriteResult>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        ZstdDictionary? dictionary = null;
        if (options.DictId != StoredPayload.NoDictionary)
        {
            using var view = _store.BeginRead();
            if (_store.PayloadDictionaries.Read(view.Transaction, options.DictId) is null)
                throw new ArgumentException($"there is no dictionary {options.DictId}; train one first", nameof(options));
            dictionary = _store.PayloadDictionaries.Get(view.Transaction, options.DictId);
        }
        using var encoder = new PayloadEncoder(dictionary, options.Level);
        return Rewrite(options.Filter, options.Limit, options.BatchSize, new Compressing(encoder, dictionary), progress);
    }

    /// <summary>Turns the matching compressed payloads back into raw JSON.</summary>
    public RewriteResult Decompress(DecompressOptions options, Action<RewriteResult>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        return Rewrite(options.Filter, options.Limit, options.BatchSize, null, progress);
    }

    /// <param name="compressing">null to decompress.</param>
    private RewriteResult Rewrite(Filter? filter, long limit, int batchSize, Compressing? compressing, Action<RewriteResult>? progress)
    {
        long matched = 0, rewritten = 0, unchanged = 0, keptRaw = 0, before = 0, after = 0;
        var batch = new List<ulong>(Math.Min(batchSize, 100_000));
        var json = new byte[16 * 1024];
        ulong resumeAfter = 0;
        bool done = false;
        while (!done && matched < limit)
        {
            _store.RunMaintenance(txn =>
            {
                var dbs = _store.Databases;
                batch.Clear();
                int want = (int)Math.Min(batchSize, limit - matched);
                using (var scan = new MatchingEvents(txn, dbs, filter, resumeAfter))
                {
                    while (batch.Count < want && scan.MoveNext()) batch.Add(scan.LevId);
                }
                done = batch.Count < want;
                if (batch.Count > 0) resumeAfter = batch[^1];

                Span<byte> key = stackalloc byte[IndexKeys.LevIdSize];
                ulong lastCompressed = LastKey(txn, dbs.CompressedPayloads);
                foreach (ulong levId in batch)
                {
                    IndexKeys.WriteLevId(key, levId);
                    bool inRaw = TryGet(txn, dbs.Payloads, key, out var stored);
                    if (!inRaw && !TryGet(txn, dbs.CompressedPayloads, key, out stored)) continue;
                    matched++;
                    before += stored.Length;
                    bool isCompressed = StoredPayload.IsCompressed(stored);
                    bool alreadyDone = compressing is null
                        ? !isCompressed
                        : isCompressed && StoredPayload.ReadDictionaryId(stored) == compressing.DictId;
                    if (alreadyDone)
                    {
                        unchanged++;
                        after += stored.Length;
                        continue;
                    }
                    // Copied out: the value's page is gone after the first write, and the decoder's buffer is reused.
                    var original = isCompressed ? DecodeIn(txn, stored) : stored;
                    if (original.Length > json.Length) json = new byte[Math.Max(original.Length, json.Length * 2)];
                    original.CopyTo(json);
                    var plain = json.AsSpan(0, original.Length);

                    ReadOnlySpan<byte> encoded = default;
                    if (compressing is not null)
                    {
                        encoded = compressing.Encode(plain);
                        if (encoded.Length >= plain.Length)
                        {
                            encoded = default;
                            keptRaw++;
                        }
                    }
                    if (!encoded.IsEmpty)
                    {
                        if (inRaw) EventIndexer.Delete(txn, dbs.Payloads, key);
                        // levIds only grow along a pass, so the compressed values are appended and fill their pages.
                        bool append = levId > lastCompressed;
                        txn.Put(dbs.CompressedPayloads, key, encoded, append ? PutOptions.AppendData : PutOptions.None).ThrowOnError();
                        if (append) lastCompressed = levId;
                        after += encoded.Length;
                        rewritten++;
                    }
                    else
                    {
                        after += plain.Length;
                        // A raw value that compression would not shrink is left where it is.
                        if (!isCompressed) continue;
                        if (!inRaw) EventIndexer.Delete(txn, dbs.CompressedPayloads, key);
                        txn.Put(dbs.Payloads, key, plain, PutOptions.None).ThrowOnError();
                        rewritten++;
                    }
                }
                return true;
            });
            progress?.Invoke(new RewriteResult(matched, rewritten, unchanged, keptRaw, before, after));
        }
        return new RewriteResult(matched, rewritten, unchanged, keptRaw, before, after);
    }

    private static bool TryGet(LightningTransaction txn, LightningDatabase db, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        var (rc, _, data) = txn.Get(db, key);
        if (rc == MDBResultCode.NotFound)
        {
            value = default;
            return false;
        }
        rc.ThrowOnError();
        value = data.AsSpan();
        return true;
    }

    private static ulong LastKey(LightningTransaction txn, LightningDatabase db)
    {
        using var cursor = txn.CreateCursor(db);
        var (rc, key, _) = cursor.Last();
        return rc == MDBResultCode.Success ? IndexKeys.ReadLevId(key.AsSpan()) : 0;
    }

    private ReadOnlySpan<byte> DecodeIn(LightningTransaction txn, ReadOnlySpan<byte> stored)
    {
        uint dictId = StoredPayload.ReadDictionaryId(stored);
        var dictionary = dictId == StoredPayload.NoDictionary ? null : _store.PayloadDictionaries.Get(txn, dictId);
        return PayloadDecoder.ForThisThread.Decode(StoredPayload.Frame(stored), dictionary);
    }

    /// <summary>Compresses and proves the result decompresses to the same bytes before it is stored.</summary>
    private sealed class Compressing(PayloadEncoder encoder, ZstdDictionary? dictionary)
    {
        public uint DictId => encoder.DictionaryId;

        public ReadOnlySpan<byte> Encode(ReadOnlySpan<byte> json)
        {
            var encoded = encoder.Encode(json);
            var check = PayloadDecoder.ForThisThread.Decode(StoredPayload.Frame(encoded), dictionary);
            if (!check.SequenceEqual(json)) throw new PayloadFormatException("a compressed payload did not decompress to the original; nothing of this batch was written");
            return encoded;
        }
    }
}

/// <summary>Walks the events database in levId order and stops on events that match the filter.</summary>
internal sealed class MatchingEvents : IDisposable
{
    private readonly LightningCursor _cursor;
    private readonly Filter? _filter;
    private readonly ulong _after;
    private bool _started;
    private bool _finished;

    /// <param name="after">Start after this levId (0: from the first event).</param>
    public MatchingEvents(LightningTransaction txn, StoreDatabases dbs, Filter? filter, ulong after = 0)
    {
        _cursor = txn.CreateCursor(dbs.Events);
        _filter = filter;
        _after = after;
    }

    public ulong LevId { get; private set; }

    public bool MoveNext()
    {
        if (_finished) return false;
        MDBResultCode rc;
        if (!_started)
        {
            _started = true;
            if (_after == ulong.MaxValue) rc = MDBResultCode.NotFound;
            else
            {
                Span<byte> key = stackalloc byte[IndexKeys.LevIdSize];
                IndexKeys.WriteLevId(key, _after + 1);
                rc = _cursor.SetRange(key);
            }
        }
        else (rc, _, _) = _cursor.Next();

        while (rc == MDBResultCode.Success)
        {
            var (grc, k, v) = _cursor.GetCurrent();
            grc.ThrowOnError();
            if (_filter is null || _filter.Matches(new PackedEvent(v.AsSpan())))
            {
                LevId = IndexKeys.ReadLevId(k.AsSpan());
                return true;
            }
            (rc, _, _) = _cursor.Next();
        }
        if (rc != MDBResultCode.NotFound) rc.ThrowOnError();
        _finished = true;
        return false;
    }

    public void Dispose() => _cursor.Dispose();
}
