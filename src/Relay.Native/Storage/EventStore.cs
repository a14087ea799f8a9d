using System.Buffers.Binary;
using LightningDB;
using Relay.Native.Negentropy;
using Relay.Native.Storage.Payloads;

namespace Relay.Native.Storage;

/// <summary>
/// The event database: one LMDB environment, one writer, any number of readers. Writes come in
/// batches, one transaction each (group commit); reads are snapshots (<see cref="ReadView"/>).
/// </summary>
public sealed class EventStore : IDisposable
{
    /// <summary>Bumped whenever a key layout or a record format changes.</summary>
    /// <summary>
    /// Schema 1: payloads are raw JSON. Schema 2: payloads may also be zstd-compressed (relay dict
    /// compress). Schema 3: every write keeps the negentropy trees in step. This Relay reads all three
    /// and marks any store it opens as 3, so a Relay that predates compression or the trees refuses a
    /// store it would misread or leave out of step, instead of silently doing so.
    /// </summary>
    public const uint SchemaVersion = 3;
    internal const uint OldestReadableSchema = 1;

    private static ReadOnlySpan<byte> SchemaKey => "schema"u8;
    private static ReadOnlySpan<byte> LevIdKey => "levid"u8;

    private readonly LightningEnvironment _env;
    private readonly StoreDatabases _dbs;
    private readonly StoreWriter _writer;
    private readonly PayloadDictionaries _dictionaries;
    // Writes are meant to come from the one writer thread; the lock only keeps a stray second
    // caller (a CLI command, a cron purge) from sharing the writer's scratch state.
    private readonly Lock _writeLock = new();
    private ulong _lastLevId;
    private bool _disposed;

    private EventStore(LightningEnvironment env, StoreDatabases dbs, ulong lastLevId)
    {
        _env = env;
        _dbs = dbs;
        _writer = new StoreWriter(dbs);
        _dictionaries = new PayloadDictionaries(dbs.PayloadDictionaries);
        _lastLevId = lastLevId;
    }

    public string Path => _env.Path;

    internal StoreDatabases Databases => _dbs;
    internal PayloadDictionaries PayloadDictionaries => _dictionaries;

    /// <summary>For maintenance that needs its own write transactions (negentropy tree builds); LMDB serializes them with the writer's.</summary>
    internal LightningEnvironment Environment => _env;

    public static EventStore Open(StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.Path);
        Directory.CreateDirectory(options.Path);
        LmdbLoader.Install();

        var env = new LightningEnvironment(options.Path, new EnvironmentConfiguration
        {
            MapSize = options.MapSize,
            MaxReaders = options.MaxReaders,
            MaxDatabases = StoreDatabases.Count,
        });
        try
        {
            // NOTLS: a read transaction belongs to its ReadView, not to the thread that began it,
            // so a thread may hold a view while also running the write transaction, and an async
            // continuation may end a view on another thread.
            // NORDAHEAD: index lookups are random; read-ahead only evicts useful pages once the
            // database is larger than RAM.
            // NOMEMINIT: LMDB need not zero the unused part of each dirty page before writing it
            // (a visible share of the writer's time in a profile); the bytes are never read.
            env.Open(EnvironmentOpenFlags.NoThreadLocalStorage | EnvironmentOpenFlags.NoReadAhead | EnvironmentOpenFlags.NoMemoryInitialization);
            LmdbLoader.EnsureSupportedVersion(env);

            using var txn = env.BeginTransaction();
            var dbs = StoreDatabases.Open(txn);
            CheckSchema(txn, dbs, options.Path);
            TreeDefinitions.EnsureRegistry(txn, dbs);
            ulong lastLevId = ReadLastLevId(txn, dbs);
            txn.Commit().ThrowOnError();
            return new EventStore(env, dbs, lastLevId);
        }
        catch
        {
            env.Dispose();
            throw;
        }
    }

    private static void CheckSchema(LightningTransaction txn, StoreDatabases dbs, string path)
    {
        var (rc, _, value) = txn.Get(dbs.Meta, SchemaKey);
        if (rc == MDBResultCode.Success)
        {
            var bytes = value.AsSpan();
            uint found = bytes.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : 0;
            if (found < OldestReadableSchema || found > SchemaVersion)
                throw new StoreSchemaException(
                    $"The database at {path} has schema version {found}, but this Relay reads schema versions {OldestReadableSchema} to {SchemaVersion}. " +
                    "Refusing to open it: export the events with the Relay version that wrote them and import them into a new database.");
            // Older layouts are subsets of this one (the trees of an upgraded store start unbuilt).
            if (found < SchemaVersion) WriteSchema(txn, dbs, SchemaVersion);
            return;
        }
        rc.ThrowOnReadError();
        if (txn.GetEntriesCount(dbs.Events) != 0)
            throw new StoreSchemaException($"The database at {path} holds events but no schema version; it was not written by Relay. Refusing to open it.");
        WriteSchema(txn, dbs, SchemaVersion);
    }

    private static void WriteSchema(LightningTransaction txn, StoreDatabases dbs, uint schema)
    {
        Span<byte> version = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(version, schema);
        txn.Put(dbs.Meta, SchemaKey, version, PutOptions.None).ThrowOnError();
    }

    /// <summary>The schema version recorded in the store.</summary>
    public uint StoredSchemaVersion
    {
        get
        {
            using var txn = _env.BeginTransaction(TransactionBeginFlags.ReadOnly);
            var (rc, _, value) = txn.Get(_dbs.Meta, SchemaKey);
            return rc == MDBResultCode.Success && value.AsSpan().Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(value.AsSpan()) : 0;
        }
    }

    private static ulong ReadLastLevId(LightningTransaction txn, StoreDatabases dbs)
    {
        var (rc, _, value) = txn.Get(dbs.Meta, LevIdKey);
        ulong fromMeta = rc == MDBResultCode.Success ? IndexKeys.ReadLevId(value.AsSpan()) : 0;
        using var cursor = txn.CreateCursor(dbs.Events);
        var (lrc, key, _) = cursor.Last();
        ulong fromEvents = lrc == MDBResultCode.Success ? IndexKeys.ReadLevId(key.AsSpan()) : 0;
        return Math.Max(fromMeta, fromEvents);
    }

    /// <summary>
    /// Applies the batch in one write transaction, in order, then commits. With
    /// <paramref name="durable"/> false the commit is not fsynced: readers see it at once, and
    /// the caller makes it durable with <see cref="Sync"/> before acknowledging. If LMDB fails
    /// (e.g. map full) the whole batch is rolled back and the exception propagates.
    /// </summary>
    /// <returns>
    /// The database's last levId when the transaction began: levIds above it, up to
    /// <see cref="LastLevId"/>, are this batch's; those between the previous batch and it were
    /// handed out by another process (see <see cref="ReadCommittedLevId"/>).
    /// </returns>
    public ulong WriteBatch(ReadOnlySpan<WriteItem> batch, Span<WriteResult> results, bool durable) =>
        WriteBatch(batch, results, durable, DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    /// <param name="now">Unix seconds; events whose NIP-40 expiration is at or before it are refused.</param>
    public ulong WriteBatch(ReadOnlySpan<WriteItem> batch, Span<WriteResult> results, bool durable, long now)
    {
        if (results.Length < batch.Length) throw new ArgumentException("one result per item is needed", nameof(results));
        if (batch.IsEmpty) return LastLevId;
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var txn = _env.BeginTransaction(durable ? TransactionBeginFlags.None : TransactionBeginFlags.NoSync);
            // Another process on this DB (relay import, a second relay) may have committed since our
            // last batch. LMDB lets one writer in at a time across processes, so the meta levId read
            // inside this transaction is the newest anyone handed out, and ours continue after it.
            ulong before = Math.Max(_lastLevId, ReadLatestLevId(txn, _dbs));
            ulong lastLevId = before;
            for (int i = 0; i < batch.Length; i++)
                results[i] = _writer.Apply(txn, batch[i], now, ref lastLevId);
            if (lastLevId != before)
            {
                // Remembered so that a levId is never handed out twice, even when the newest
                // events are deleted and the store is reopened.
                Span<byte> lev = stackalloc byte[IndexKeys.LevIdSize];
                IndexKeys.WriteLevId(lev, lastLevId);
                txn.Put(_dbs.Meta, LevIdKey, lev, PutOptions.None).ThrowOnError();
            }
            _writer.BeforeCommit(txn);
            txn.Commit().ThrowOnError();
            Volatile.Write(ref _lastLevId, lastLevId);
            return before;
        }
    }

    /// <summary>
    /// The last levId committed to the database by any process, read from a fresh snapshot; the
    /// serving relay compares it with what its monitors saw to find commits it did not make.
    /// </summary>
    public ulong ReadCommittedLevId()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var txn = _env.BeginTransaction(TransactionBeginFlags.ReadOnly);
        return ReadLatestLevId(txn, _dbs);
    }

    /// <summary>Flushes non-durable commits to disk (mdb_env_sync with force).</summary>
    public void Sync() => _env.Flush(force: true).ThrowOnError();

    /// <summary>A snapshot for reading; dispose it promptly (an open view pins old pages).</summary>
    public ReadView BeginRead()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var txn = _env.BeginTransaction(TransactionBeginFlags.ReadOnly);
        return new ReadView(txn, _dbs, _dictionaries, ReadLatestLevId(txn, _dbs));
    }

    internal static ulong ReadLatestLevId(LightningTransaction txn, StoreDatabases dbs)
    {
        var (rc, _, value) = txn.Get(dbs.Meta, LevIdKey);
        return rc == MDBResultCode.Success ? IndexKeys.ReadLevId(value.AsSpan()) : 0;
    }

    /// <summary>Deletes stored events whose expiration is at or before <paramref name="now"/>; returns how many.</summary>
    public int PurgeExpired(long now) => PurgeExpired(now, int.MaxValue);

    /// <param name="max">Cap per call, so a cron tick never holds the write lock for long.</param>
    public int PurgeExpired(long now, int max)
    {
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var txn = _env.BeginTransaction();
            int removed = _writer.PurgeExpired(txn, now, max);
            _writer.BeforeCommit(txn);
            txn.Commit().ThrowOnError();
            return removed;
        }
    }

    /// <summary>Removes one stored event from every database (for admin commands); false when absent.</summary>
    public bool Delete(ulong levId)
    {
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var txn = _env.BeginTransaction();
            bool removed = _writer.Remove(txn, levId);
            _writer.BeforeCommit(txn);
            txn.Commit().ThrowOnError();
            return removed;
        }
    }

    /// <summary>
    /// Runs offline maintenance (payload compression) in one durable write transaction, taking turns
    /// with the writer; <paramref name="work"/> returns false to roll the transaction back.
    /// </summary>
    internal void RunMaintenance(Func<LightningTransaction, bool> work)
    {
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var txn = _env.BeginTransaction();
            if (work(txn)) txn.Commit().ThrowOnError();
            else txn.Abort();
        }
    }

    /// <summary>
    /// Removes the stored events with these levIds from every database in one durable write
    /// transaction; levIds no longer stored are skipped. Returns how many were removed. Callers
    /// with many events split them into batches, so the writer of a serving relay (another process
    /// or this one) waits for one batch at most.
    /// </summary>
    public int Delete(ReadOnlySpan<ulong> levIds)
    {
        if (levIds.IsEmpty) return 0;
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var txn = _env.BeginTransaction();
            int removed = 0;
            foreach (ulong levId in levIds)
            {
                if (_writer.Remove(txn, levId)) removed++;
            }
            _writer.BeforeCommit(txn);
            txn.Commit().ThrowOnError();
            return removed;
        }
    }

    /// <summary>
    /// Writes a compacted copy of the database file (free pages left out, pages renumbered) to
    /// <paramref name="destination"/>, from one read snapshot: writers, in this process or others,
    /// go on meanwhile, and the copy is the database as of the snapshot. The stream may be a pipe.
    /// </summary>
    public void CopyCompacted(FileStream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _env.CopyToStream(destination, compact: true).ThrowOnError();
    }

    /// <summary>Number of stored events.</summary>
    public long Count
    {
        get
        {
            using var txn = _env.BeginTransaction(TransactionBeginFlags.ReadOnly);
            return txn.GetEntriesCount(_dbs.Events);
        }
    }

    /// <summary>What <c>relay info</c> prints and the capacity metrics read.</summary>
    public StoreInfo Describe()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var env = _env.Info;
        long pageSize = _env.EnvironmentStats.PageSize;
        string file = System.IO.Path.Combine(_env.Path, "data.mdb");
        var v = _env.Version;
        return new StoreInfo(
            EventCount: Count,
            LastLevId: LastLevId,
            FileBytes: File.Exists(file) ? new FileInfo(file).Length : 0,
            UsedBytes: ((long)env.LastPageNumber + 1) * pageSize,
            MapSize: env.MapSize,
            LmdbVersion: $"{v.Major}.{v.Minor}.{v.Patch}");
    }

    /// <summary>The last levId handed out (including events deleted since).</summary>
    public ulong LastLevId => Volatile.Read(ref _lastLevId);

    public void Dispose()
    {
        lock (_writeLock)
        {
            if (_disposed) return;
            _disposed = true;
            _dbs.Dispose();
            _env.Dispose();
        }
    }
}

/// <summary>Size and contents of the store; <see cref="UsedBytes"/> over <see cref="MapSize"/> is how full the map is.</summary>
public readonly record struct StoreInfo(long EventCount, ulong LastLevId, long FileBytes, long UsedBytes, long MapSize, string LmdbVersion);

/// <summary>The database on disk was written with another layout; opening it would corrupt or misread it.</summary>
public sealed class StoreSchemaException : Exception
{
    public StoreSchemaException(string message) : base(message) { }
}
