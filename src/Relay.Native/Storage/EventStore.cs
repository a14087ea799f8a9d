using System.Buffers.Binary;
using LightningDB;
using Relay.Native.Negentropy;

namespace Relay.Native.Storage;

/// <summary>
/// The event database: one LMDB environment, one writer, any number of readers. Writes come in
/// batches, one transaction each (group commit); reads are snapshots (<see cref="ReadView"/>).
/// </summary>
public sealed class EventStore : IDisposable
{
    /// <summary>Bumped whenever a key layout or a record format changes.</summary>
    public const uint SchemaVersion = 1;

    private static ReadOnlySpan<byte> SchemaKey => "schema"u8;
    private static ReadOnlySpan<byte> LevIdKey => "levid"u8;

    private readonly LightningEnvironment _env;
    private readonly StoreDatabases _dbs;
    private readonly StoreWriter _writer;
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
        _lastLevId = lastLevId;
    }

    public string Path => _env.Path;

    internal StoreDatabases Databases => _dbs;

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
            if (found != SchemaVersion)
                throw new StoreSchemaException(
                    $"The database at {path} has schema version {found}, but this Relay uses schema version {SchemaVersion}. " +
                    "Refusing to open it: export the events with the Relay version that wrote them and import them into a new database.");
            return;
        }
        rc.ThrowOnReadError();
        if (txn.GetEntriesCount(dbs.Events) != 0)
            throw new StoreSchemaException($"The database at {path} holds events but no schema version; it was not written by Relay. Refusing to open it.");
        Span<byte> version = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(version, SchemaVersion);
        txn.Put(dbs.Meta, SchemaKey, version, PutOptions.None).ThrowOnError();
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
    public void WriteBatch(ReadOnlySpan<WriteItem> batch, Span<WriteResult> results, bool durable) =>
        WriteBatch(batch, results, durable, DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    /// <param name="now">Unix seconds; events whose NIP-40 expiration is at or before it are refused.</param>
    public void WriteBatch(ReadOnlySpan<WriteItem> batch, Span<WriteResult> results, bool durable, long now)
    {
        if (results.Length < batch.Length) throw new ArgumentException("one result per item is needed", nameof(results));
        if (batch.IsEmpty) return;
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var txn = _env.BeginTransaction(durable ? TransactionBeginFlags.None : TransactionBeginFlags.NoSync);
            ulong lastLevId = _lastLevId;
            for (int i = 0; i < batch.Length; i++)
                results[i] = _writer.Apply(txn, batch[i], now, ref lastLevId);
            if (lastLevId != _lastLevId)
            {
                // Remembered so that a levId is never handed out twice, even when the newest
                // events are deleted and the store is reopened.
                Span<byte> lev = stackalloc byte[IndexKeys.LevIdSize];
                IndexKeys.WriteLevId(lev, lastLevId);
                txn.Put(_dbs.Meta, LevIdKey, lev, PutOptions.None).ThrowOnError();
            }
            _writer.BeforeCommit(txn);
            txn.Commit().ThrowOnError();
            _lastLevId = lastLevId;
        }
    }

    /// <summary>Flushes non-durable commits to disk (mdb_env_sync with force).</summary>
    public void Sync() => _env.Flush(force: true).ThrowOnError();

    /// <summary>A snapshot for reading; dispose it promptly (an open view pins old pages).</summary>
    public ReadView BeginRead()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var txn = _env.BeginTransaction(TransactionBeginFlags.ReadOnly);
        return new ReadView(txn, _dbs, ReadLatestLevId(txn, _dbs));
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

    /// <summary>Number of stored events.</summary>
    public long Count
    {
        get
        {
            using var txn = _env.BeginTransaction(TransactionBeginFlags.ReadOnly);
            return txn.GetEntriesCount(_dbs.Events);
        }
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

/// <summary>The database on disk was written with another layout; opening it would corrupt or misread it.</summary>
public sealed class StoreSchemaException : Exception
{
    public StoreSchemaException(string message) : base(message) { }
}
