using Relay.Native.Query;

namespace Relay.Native.Storage.Payloads;

/// <summary>What <see cref="PayloadCompression.Train"/> learns from.</summary>
public sealed class TrainOptions
{
    /// <summary>Events to learn from; null means every event. The filter's own limit is ignored.</summary>
    public Filter? Filter { get; init; }

    /// <summary>
    /// At most this many payloads, drawn uniformly at random from the matches. zstd wants about
    /// 100 times the dictionary size in samples; 20k events of ~1 KB train a 100 KB dictionary in
    /// ~15 s here, and more samples mostly cost time.
    /// </summary>
    public int SampleLimit { get; init; } = 20_000;

    /// <summary>Capacity of the trained dictionary in bytes (zstd may return a smaller one).</summary>
    public int DictionarySize { get; init; } = 100_000;

    /// <summary>Seed of the random draw, so a training run can be repeated exactly.</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>Which payloads <see cref="PayloadCompression.Compress"/> rewrites, and how.</summary>
public sealed class CompressOptions
{
    /// <summary>Events to compress; null means every event. The filter's own limit is ignored.</summary>
    public Filter? Filter { get; init; }

    /// <summary>At most this many matching events, oldest (lowest levId) first.</summary>
    public long Limit { get; init; } = long.MaxValue;

    /// <summary>A dictionary from <see cref="PayloadCompression.Train"/>; 0 compresses without one.</summary>
    public uint DictId { get; init; }

    /// <summary>zstd level (1..22; negative levels are faster still). Reading cost hardly depends on it.</summary>
    public int Level { get; init; } = 3;

    /// <summary>Events per write transaction: bounds how long the relay's writer waits for its turn.</summary>
    public int BatchSize { get; init; } = 1000;
}

/// <summary>Which payloads <see cref="PayloadCompression.Decompress"/> turns back into raw JSON.</summary>
public sealed class DecompressOptions
{
    public Filter? Filter { get; init; }
    public long Limit { get; init; } = long.MaxValue;
    public int BatchSize { get; init; } = 1000;
}

/// <summary>A stored dictionary.</summary>
public sealed record DictionaryInfo(uint DictId, int Size);

/// <summary>The payloads compressed with one dictionary (dictId 0: none).</summary>
public sealed record DictionaryUsage(uint DictId, long Events, long OriginalBytes, long StoredBytes);

/// <summary>
/// Payload sizes of the matched events. OriginalBytes is the JSON length clients receive;
/// StoredBytes what the payloads database holds for them (LMDB's own page overhead not included).
/// PayloadDatabaseBytes is the size of the pages of the whole payloads and payloads_zstd databases, whatever the
/// filter: what it costs on disk, page slack included.
/// </summary>
public sealed record PayloadStats(
    long Events,
    long RawEvents,
    long CompressedEvents,
    long OriginalBytes,
    long StoredBytes,
    IReadOnlyList<DictionaryUsage> ByDictionary,
    IReadOnlyList<DictionaryInfo> Dictionaries,
    long PayloadDatabaseBytes);

/// <summary>The outcome of a training run: the new dictionary's id and what it learnt from.</summary>
public sealed record TrainResult(uint DictId, int DictionarySize, int Samples, long SampleBytes);

/// <summary>
/// Running totals of a compress/decompress pass. Rewritten: values replaced. Unchanged: already in
/// the requested form. KeptRaw: compressing would not have saved space, so the raw JSON stays.
/// StoredBytesBefore/After cover every matched event.
/// </summary>
public sealed record RewriteResult(long Matched, long Rewritten, long Unchanged, long KeptRaw, long StoredBytesBefore, long StoredBytesAfter);
