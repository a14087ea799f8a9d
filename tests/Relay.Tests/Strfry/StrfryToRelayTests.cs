using Relay.Native.Events;
using Relay.Native.Query;
using Relay.Native.Storage;
using Relay.Native.Storage.Payloads;
using Relay.Native.Strfry;
using Relay.Tests.Storage;

namespace Relay.Tests.Strfry;

/// <summary>
/// strfry's events, read out of its database, through Relay's own parser into Relay's store, then
/// compressed there with the dictionary strfry had trained: the pieces an import will chain.
/// </summary>
public sealed class StrfryToRelayTests : IDisposable
{
    private readonly FixtureFiles _files = new();
    private readonly TempStore _db = new();

    public void Dispose()
    {
        _db.Dispose();
        _files.Dispose();
    }

    [Fact]
    public void Strfry_events_store_in_relay_and_compress_with_strfrys_own_dictionary()
    {
        string dataFile = _files.Unpack("tests/Relay.Tests/Strfry/Fixtures/strfry-dict/data.mdb.gz", "strfry-db/data.mdb");
        using var reader = StrfryDbReader.Open(dataFile);
        // "Now" just after the newest event, so the created_at window never ages the fixture out.
        long now = 0;
        var scan = reader.ReadPayloads();
        while (scan.MoveNext()) now = Math.Max(now, System.Text.Json.JsonDocument.Parse(scan.Json.ToArray()).RootElement.GetProperty("created_at").GetInt64() + 60);
        var items = new List<WriteItem>();
        var cursor = reader.ReadPayloads();
        while (cursor.MoveNext())
        {
            var json = cursor.Json;
            var packed = new byte[EventParser.MaxPackedSize(json.Length)];
            var normalized = new byte[EventParser.MaxJsonSize(json.Length)];
            var status = EventParser.Parse(json, EventLimits.Default, now, packed, out int packedLength, normalized, out int jsonLength, out _, out var error);
            Assert.True(status == EventParseStatus.Ok, $"strfry event {cursor.LevId}: {error}");
            items.Add(new WriteItem(packed.AsMemory(0, packedLength), normalized.AsMemory(0, jsonLength)));
        }
        var results = new WriteResult[items.Count];
        _db.Store.WriteBatch(items.ToArray(), results, durable: false, now);
        Assert.All(results, r => Assert.Equal(WriteStatus.Stored, r.Status));

        var compression = new PayloadCompression(_db.Store);
        uint dictId = compression.AddDictionary(reader.Dictionaries[1]);
        Assert.Equal(reader.Dictionaries[1], compression.GetDictionary(dictId));
        var kindOne = new Filter { Kinds = [1] }.Normalize();
        var before = Query(kindOne, now);
        var result = compression.Compress(new CompressOptions { DictId = dictId, Filter = kindOne });

        Assert.Equal(337, result.Matched);
        Assert.True(result.StoredBytesAfter * 2 < result.StoredBytesBefore, $"{result.StoredBytesBefore} -> {result.StoredBytesAfter}");
        Assert.Equal(before, Query(kindOne, now));
    }

    [Fact]
    public void Bytes_that_are_not_a_zstd_dictionary_are_refused()
    {
        var compression = new PayloadCompression(_db.Store);
        var garbage = new byte[300];
        new Random(3).NextBytes(garbage);
        Assert.Throws<ArgumentException>(() => compression.AddDictionary(garbage));
        new byte[] { 0x37, 0xa4, 0x30, 0xec }.CopyTo(garbage, 0);
        Assert.ThrowsAny<Exception>(() => compression.AddDictionary(garbage));
        Assert.Empty(compression.ListDictionaries());
    }

    private List<string> Query(Filter filter, long now)
    {
        using var view = _db.Store.BeginRead();
        var sink = new Relay.Tests.Query.CollectingSink();
        QueryEngine.Run(view, new[] { filter }, 1000, now, sink);
        return sink.Ids;
    }
}
