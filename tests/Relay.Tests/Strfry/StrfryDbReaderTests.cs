using System.Text;
using Relay.Native.Storage.LmdbFile;
using Relay.Native.Strfry;

namespace Relay.Tests.Strfry;

/// <summary>Reading a database strfry itself wrote (Fixtures/strfry-dict/README.md has its numbers).</summary>
public sealed class StrfryDbReaderTests : IDisposable
{
    private const string FixtureDir = "tests/Relay.Tests/Strfry/Fixtures/strfry-dict/";

    private readonly FixtureFiles _files = new();
    private readonly string _dbDir;

    public StrfryDbReaderTests()
    {
        string dataFile = _files.Unpack(FixtureDir + "data.mdb.gz", "strfry-db/data.mdb");
        _dbDir = Path.GetDirectoryName(dataFile)!;
    }

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Every_event_reads_back_as_strfry_exports_it_whether_raw_or_compressed()
    {
        using var reader = StrfryDbReader.Open(_dbDir);
        Assert.Equal(3ul, reader.DbVersion);
        Assert.Equal(589ul, reader.EventCount);
        Assert.Equal(589ul, reader.PayloadCount);
        Assert.Equal(new uint[] { 1, 2 }, reader.Dictionaries.Keys.Order());

        var byDict = new Dictionary<uint, int>();
        var json = new List<string>();
        ulong lastLevId = 0;
        var cursor = reader.ReadPayloads();
        while (cursor.MoveNext())
        {
            Assert.True(cursor.LevId > lastLevId, "levIds ascend");
            lastLevId = cursor.LevId;
            byDict[cursor.DictId] = byDict.GetValueOrDefault(cursor.DictId) + 1;
            json.Add(Encoding.UTF8.GetString(cursor.Json));
        }

        Assert.Equal(240, byDict[0]);
        Assert.Equal(150, byDict[1]);
        Assert.Equal(199, byDict[2]);
        var exported = FixtureFiles.ReadGzipLines(FixtureDir + "export.jsonl.gz").ToList();
        Assert.Equal(589, exported.Count);
        Assert.Equal(exported.Order(StringComparer.Ordinal), json.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_database_of_another_strfry_version_is_refused_with_advice()
    {
        PatchMeta(fromVersion: 3, toVersion: 2);
        var error = Assert.Throws<StrfryFormatException>(() => StrfryDbReader.Open(_dbDir));
        Assert.Contains("version 2", error.Message);
        Assert.Contains("strfry export", error.Message);
    }

    [Fact]
    public void An_lmdb_file_that_is_not_strfry_is_refused()
    {
        string other = _files.Unpack("tests/Relay.Tests/Strfry/Fixtures/lmdb09/data.mdb.gz", "plain-lmdb/data.mdb");
        var error = Assert.Throws<StrfryFormatException>(() => StrfryDbReader.Open(other));
        Assert.Contains("not a strfry database", error.Message);
    }

    /// <summary>Rewrites the u64 dbVersion inside the Meta record where the file holds it.</summary>
    private void PatchMeta(ulong fromVersion, ulong toVersion)
    {
        string dataFile = Path.Combine(_dbDir, "data.mdb");
        byte[] record;
        using (var file = LmdbDataFile.Open(dataFile))
        {
            var cursor = file.OpenDatabase("rasgueadb_defaultDb__Meta").CreateCursor();
            Assert.True(cursor.MoveNext());
            record = cursor.Value.ToArray();
        }
        var bytes = File.ReadAllBytes(dataFile);
        int at = bytes.AsSpan().IndexOf(record);
        Assert.True(at >= 0 && bytes.AsSpan(at + 1).IndexOf(record) < 0, "the Meta record occurs once in the file");
        int field = record.AsSpan().IndexOf(BitConverter.GetBytes(fromVersion));
        Assert.True(field >= 0);
        BitConverter.GetBytes(toVersion).CopyTo(bytes, at + field);
        File.WriteAllBytes(dataFile, bytes);
    }
}
