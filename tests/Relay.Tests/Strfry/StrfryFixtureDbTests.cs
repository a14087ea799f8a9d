using System.Text;
using System.Text.Json;
using Relay.Native.Storage.LmdbFile;
using Relay.Native.Strfry;

namespace Relay.Tests.Strfry;

/// <summary>
/// The shared strfry fixture (tests/fixtures/strfry/README.md): a database strfry f8a56a8 wrote
/// with LMDB 0.9.24, its `strfry export`, and `mdb_dump -a` of every table.
/// </summary>
public sealed class StrfryFixtureDbTests : IDisposable
{
    private const string FixtureDir = "tests/fixtures/strfry/";

    private readonly FixtureFiles _files = new();
    private readonly string _dataFile;

    public StrfryFixtureDbTests() => _dataFile = _files.Unpack(FixtureDir + "strfry-db/data.mdb.gz", "strfry-db/data.mdb");

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Reads_the_counts_the_fixture_readme_states()
    {
        using var reader = StrfryDbReader.Open(Path.GetDirectoryName(_dataFile)!);
        Assert.Equal(3ul, reader.DbVersion);
        Assert.Equal(903ul, reader.EventCount);
        Assert.Equal(903ul, reader.PayloadCount);
        Assert.Equal(new uint[] { 1 }, reader.Dictionaries.Keys);
        Assert.Equal(100_000, reader.Dictionaries[1].Length);

        int raw = 0, compressed = 0;
        var levIds = new List<ulong>();
        var json = new List<string>();
        var cursor = reader.ReadPayloads();
        while (cursor.MoveNext())
        {
            if (cursor.DictId == 0) raw++;
            else
            {
                Assert.Equal(1u, cursor.DictId);
                compressed++;
            }
            levIds.Add(cursor.LevId);
            json.Add(Encoding.UTF8.GetString(cursor.Json));
        }
        Assert.Equal(225, raw);
        Assert.Equal(678, compressed);
        Assert.All(levIds, l => Assert.InRange(l, 1ul, 960ul));

        var exported = File.ReadAllLines(FixtureFiles.PathOf(FixtureDir + "strfry-export.jsonl"));
        Assert.Equal(exported.Order(StringComparer.Ordinal), json.Order(StringComparer.Ordinal));
        var ids = json.Select(j => JsonDocument.Parse(j).RootElement.GetProperty("id").GetString()!).Order(StringComparer.Ordinal);
        Assert.Equal(File.ReadAllLines(FixtureFiles.PathOf(FixtureDir + "expected-ids.txt")), ids);
    }

    [Fact]
    public void Every_table_of_the_strfry_file_walks_exactly_as_lmdb_0_9_dumps_it()
    {
        var dump = ReadDump();
        using var file = LmdbDataFile.Open(_dataFile);
        Assert.Equal(16, file.DatabaseNames.Count);
        Assert.Equal(dump.Keys.Order(StringComparer.Ordinal), file.DatabaseNames.Order(StringComparer.Ordinal));
        foreach (var (name, expected) in dump)
        {
            var cursor = file.OpenDatabase(name).CreateCursor();
            int i = 0;
            while (cursor.MoveNext())
            {
                Assert.True(i < expected.Count, $"{name}: more entries than the dump");
                Assert.True(cursor.Key.SequenceEqual(expected[i].Key), $"{name}: key {i} differs");
                Assert.True(cursor.Value.SequenceEqual(expected[i].Value), $"{name}: value {i} differs");
                i++;
            }
            Assert.Equal(expected.Count, i);
        }
    }

    private static Dictionary<string, List<(byte[] Key, byte[] Value)>> ReadDump()
    {
        var result = new Dictionary<string, List<(byte[], byte[])>>();
        List<(byte[], byte[])>? current = null;
        bool data = false;
        byte[]? key = null;
        foreach (var line in FixtureFiles.ReadGzipLines(FixtureDir + "strfry-db/data.mdb.dump.gz"))
        {
            if (line.StartsWith("database=", StringComparison.Ordinal)) result[line["database=".Length..]] = current = new();
            else if (line == "HEADER=END") data = true;
            else if (line == "DATA=END") data = false;
            else if (data && line.StartsWith(' '))
            {
                var bytes = Convert.FromHexString(line.AsSpan(1));
                if (key is null) key = bytes;
                else
                {
                    current!.Add((key, bytes));
                    key = null;
                }
            }
        }
        return result;
    }
}
