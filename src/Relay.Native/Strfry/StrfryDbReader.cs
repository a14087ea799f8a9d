using System.Buffers.Binary;
using Relay.Native.Storage.LmdbFile;
using Relay.Native.Storage.Payloads;

namespace Relay.Native.Strfry;

/// <summary>
/// Reads the events out of a strfry database directory (its LMDB 0.9 data.mdb) with no strfry and
/// no LMDB library: the library behind <c>relay import --strfry-db</c>. strfry keeps each event's
/// JSON in EventPayload (levId -> type byte ‖ payload): 0x00 = raw JSON, 0x01 = u32 dictId
/// (native endian) ‖ zstd frame made with that CompressionDictionary entry. The Meta record carries
/// the DB version (3 for every strfry since 1.0) and an endianness flag; anything else is refused.
/// Tables are golpe/rasgueadb databases named <c>rasgueadb_defaultDb__&lt;Table&gt;</c>; keys are
/// native-endian u64; Meta and CompressionDictionary values are FlatBuffers tables.
/// <para>Read a copy, or the database of a stopped strfry: the reader takes no LMDB reader lock.</para>
/// </summary>
public sealed class StrfryDbReader : IDisposable
{
    public const ulong SupportedDbVersion = 3;

    internal const string Prefix = "rasgueadb_defaultDb__";
    internal const string EventPayloadTable = Prefix + "EventPayload";
    internal const string EventTable = Prefix + "Event";
    internal const string MetaTable = Prefix + "Meta";
    internal const string DictionaryTable = Prefix + "CompressionDictionary";

    private readonly LmdbDataFile _file;
    private readonly LmdbTree _payloads;
    private readonly Dictionary<uint, byte[]> _dictionaries;

    private StrfryDbReader(LmdbDataFile file, LmdbTree payloads, ulong dbVersion, ulong eventCount, Dictionary<uint, byte[]> dictionaries)
    {
        _file = file;
        _payloads = payloads;
        DbVersion = dbVersion;
        EventCount = eventCount;
        _dictionaries = dictionaries;
    }

    /// <summary>strfry's DB version from its Meta record.</summary>
    public ulong DbVersion { get; }

    /// <summary>Entries of the Event table (events strfry indexes).</summary>
    public ulong EventCount { get; }

    /// <summary>Entries of the EventPayload table (what <see cref="ReadPayloads"/> walks).</summary>
    public ulong PayloadCount => _payloads.Entries;

    /// <summary>strfry's zstd dictionaries by dictId, as stored.</summary>
    public IReadOnlyDictionary<uint, byte[]> Dictionaries => _dictionaries;

    /// <summary>The underlying LMDB file, for inspection (table names, page counts).</summary>
    public LmdbDataFile File => _file;

    /// <summary>Opens a strfry database directory (or its data.mdb).</summary>
    /// <exception cref="LmdbFormatException">Not a readable LMDB 0.9 file.</exception>
    /// <exception cref="StrfryFormatException">Not a strfry database, or one of an unknown version.</exception>
    public static StrfryDbReader Open(string path)
    {
        var file = LmdbDataFile.Open(path);
        try
        {
            if (!file.TryOpenDatabase(MetaTable, out var meta) || !file.TryOpenDatabase(EventPayloadTable, out var payloads))
                throw new StrfryFormatException(
                    $"{file.Path} is an LMDB file but not a strfry database: it has no {MetaTable} and {EventPayloadTable} tables (it has: {string.Join(", ", file.DatabaseNames)})");
            ulong dbVersion = CheckMeta(file, meta);
            ulong events = file.TryOpenDatabase(EventTable, out var eventTable) ? eventTable.Entries : 0;
            var dictionaries = new Dictionary<uint, byte[]>();
            if (file.TryOpenDatabase(DictionaryTable, out var dictTable))
            {
                var cursor = dictTable.CreateCursor();
                while (cursor.MoveNext())
                {
                    ulong id = ReadKey(cursor.Key, "CompressionDictionary");
                    var dict = new FlatTable(cursor.Value, "CompressionDictionary").Bytes(0);
                    if (id > uint.MaxValue) throw new StrfryFormatException($"strfry dictionary id {id} does not fit the payloads' u32 dictId");
                    dictionaries[(uint)id] = dict.ToArray();
                }
            }
            return new StrfryDbReader(file, payloads, dbVersion, events, dictionaries);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static ulong CheckMeta(LmdbDataFile file, LmdbTree meta)
    {
        var cursor = meta.CreateCursor();
        while (cursor.MoveNext())
        {
            if (ReadKey(cursor.Key, "Meta") != 1) continue;
            var table = new FlatTable(cursor.Value, "Meta");
            ulong version = table.UInt64(0);
            ulong endianness = table.UInt64(1);
            if (endianness != 1)
                throw new StrfryFormatException($"{file.Path}: strfry database written on a machine of the other endianness (flag {endianness}); it cannot be read here");
            if (version != SupportedDbVersion)
                throw new StrfryFormatException(
                    $"{file.Path}: strfry database version {version}, but this reader knows version {SupportedDbVersion} (strfry 1.0 and later). " +
                    (version < SupportedDbVersion
                        ? "Export it with the strfry that wrote it (strfry export > events.jsonl) and import the JSONL instead."
                        : "It was written by a newer strfry; export it to JSONL with that strfry and import the JSONL instead."));
            return version;
        }
        throw new StrfryFormatException($"{file.Path}: the strfry Meta table has no record 1 (a database strfry never finished opening?)");
    }

    private static ulong ReadKey(ReadOnlySpan<byte> key, string table) =>
        key.Length == 8
            ? BinaryPrimitives.ReadUInt64LittleEndian(key)
            : throw new StrfryFormatException($"a strfry {table} key is {key.Length} bytes, expected a u64 levId");

    /// <summary>A cursor over every stored event JSON, in levId order, decompressing as needed.</summary>
    public StrfryPayloadCursor ReadPayloads() => new(_payloads.CreateCursor(), _dictionaries);

    public void Dispose() => _file.Dispose();
}

/// <summary>
/// One pass over strfry's EventPayload. <see cref="Json"/> is valid until the next
/// <see cref="MoveNext"/> (it may live in this cursor's decompression buffer) and, for raw payloads,
/// until the reader is disposed.
/// </summary>
public sealed class StrfryPayloadCursor
{
    private readonly LmdbCursor _cursor;
    private readonly IReadOnlyDictionary<uint, byte[]> _rawDictionaries;
    private readonly Dictionary<uint, ZstdDictionary> _dictionaries = new();
    private ZstdDecoder? _decoder;
    // A decompressed payload is copied here, so Json stays valid while the decoder is reused.
    private byte[] _json = [];
    private int _jsonLength;
    private bool _compressed;

    internal StrfryPayloadCursor(LmdbCursor cursor, IReadOnlyDictionary<uint, byte[]> dictionaries)
    {
        _cursor = cursor;
        _rawDictionaries = dictionaries;
    }

    public ulong LevId { get; private set; }

    /// <summary>0 for a raw payload, else the strfry dictionary it was compressed with.</summary>
    public uint DictId { get; private set; }

    /// <summary>Bytes strfry stores for this event (type byte and header included).</summary>
    public int StoredSize => Stored.Length;

    /// <summary>The event JSON as strfry serves it.</summary>
    public ReadOnlySpan<byte> Json => _compressed ? _json.AsSpan(0, _jsonLength) : Stored.Slice(1);

    private ReadOnlySpan<byte> Stored => _cursor.Value;

    /// <exception cref="StrfryFormatException">A payload strfry itself could not read.</exception>
    public bool MoveNext()
    {
        if (!_cursor.MoveNext()) return false;
        var key = _cursor.Key;
        if (key.Length != 8) throw new StrfryFormatException($"a strfry EventPayload key is {key.Length} bytes, expected a u64 levId");
        LevId = BinaryPrimitives.ReadUInt64LittleEndian(key);
        var stored = Stored;
        if (stored.IsEmpty) throw new StrfryFormatException($"strfry event {LevId} has an empty payload");
        switch (stored[0])
        {
            case 0x00:
                DictId = 0;
                _compressed = false;
                return true;
            case 0x01:
                if (stored.Length < 5) throw new StrfryFormatException($"strfry event {LevId}: compressed payload too short to hold its dictId");
                DictId = BinaryPrimitives.ReadUInt32LittleEndian(stored.Slice(1));
                var json = Decompress(DictId, stored.Slice(5));
                if (json.Length > _json.Length) _json = new byte[Math.Max(json.Length, _json.Length * 2)];
                json.CopyTo(_json);
                _jsonLength = json.Length;
                _compressed = true;
                return true;
            default:
                throw new StrfryFormatException($"strfry event {LevId}: unknown payload type byte 0x{stored[0]:x2}");
        }
    }

    private ReadOnlySpan<byte> Decompress(uint dictId, ReadOnlySpan<byte> frame)
    {
        if (!_dictionaries.TryGetValue(dictId, out var dictionary))
        {
            if (!_rawDictionaries.TryGetValue(dictId, out var raw))
                throw new StrfryFormatException($"strfry event {LevId} was compressed with dictionary {dictId}, which the database does not have");
            _dictionaries[dictId] = dictionary = new ZstdDictionary(dictId, raw);
        }
        _decoder ??= new ZstdDecoder(magicless: false);
        try
        {
            return _decoder.Decode(frame, dictionary);
        }
        catch (PayloadFormatException e)
        {
            throw new StrfryFormatException($"strfry event {LevId}: {e.Message}");
        }
    }
}

/// <summary>The database is not one this reader understands (not strfry's, or another version).</summary>
public sealed class StrfryFormatException : Exception
{
    public StrfryFormatException(string message) : base(message) { }
}
