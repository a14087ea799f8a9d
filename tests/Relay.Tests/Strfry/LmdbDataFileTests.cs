using System.Buffers.Binary;
using Relay.Native.Storage;
using Relay.Native.Storage.LmdbFile;
using Relay.Tests.Storage;

namespace Relay.Tests.Strfry;

/// <summary>
/// The managed LMDB 0.9 reader against a file written by LMDB 0.9.24's mdb_load, and that tool's
/// own mdb_dump of it (Fixtures/lmdb09/make-fixtures.sh).
/// </summary>
public sealed class LmdbDataFileTests : IDisposable
{
    private const string FixtureDir = "tests/Relay.Tests/Strfry/Fixtures/lmdb09/";
    private static readonly string[] Names = { "big", "dups", "empty", "fixed", "ints", "plain" };

    private readonly FixtureFiles _files = new();
    private readonly string _dataFile;

    public LmdbDataFileTests() => _dataFile = _files.Unpack(FixtureDir + "data.mdb.gz", "lmdb09/data.mdb");

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Every_record_of_every_database_equals_the_dump_made_by_lmdb_0_9()
    {
        var expected = ReadDump();
        using var file = LmdbDataFile.Open(_dataFile);
        foreach (var name in Names)
        {
            var actual = ReadAll(file.OpenDatabase(name));
            var want = expected[name];
            Assert.Equal(want.Count, actual.Count);
            for (int i = 0; i < want.Count; i++)
            {
                Assert.True(want[i].Key.AsSpan().SequenceEqual(actual[i].Key), $"{name}: key {i} differs");
                Assert.True(want[i].Value.AsSpan().SequenceEqual(actual[i].Value), $"{name}: value {i} differs");
            }
        }
    }

    [Fact]
    public void Names_flags_and_entry_counts_of_the_databases_match_mdb_stat()
    {
        using var file = LmdbDataFile.Open(Path.GetDirectoryName(_dataFile)!);
        Assert.Equal(Names, file.DatabaseNames);
        Assert.Equal(4096, file.PageSize);
        var entries = new Dictionary<string, ulong> { ["big"] = 40, ["dups"] = 3900, ["empty"] = 0, ["fixed"] = 3294, ["ints"] = 5003, ["plain"] = 6000 };
        foreach (var (name, count) in entries)
        {
            var tree = file.OpenDatabase(name);
            Assert.Equal(count, tree.Entries);
            Assert.Equal((int)count, ReadAll(tree).Count);
        }
        var plain = file.OpenDatabase("plain");
        Assert.Equal(4, plain.Depth);
        Assert.Equal(33ul, plain.BranchPages);
        Assert.Equal(1938ul, file.OpenDatabase("big").OverflowPages);
        Assert.Equal(LmdbDatabaseFlags.IntegerKey, file.OpenDatabase("ints").Flags);
        Assert.Equal(LmdbDatabaseFlags.DupSort | LmdbDatabaseFlags.DupFixed | LmdbDatabaseFlags.IntegerDup, file.OpenDatabase("fixed").Flags);
        var missing = Assert.Throws<LmdbFormatException>(() => file.OpenDatabase("nope"));
        Assert.Contains("big, dups, empty", missing.Message);
    }

    [Fact]
    public void Values_larger_than_a_page_are_read_whole_from_overflow_pages()
    {
        using var file = LmdbDataFile.Open(_dataFile);
        var all = ReadAll(file.OpenDatabase("big"));
        Assert.Equal(40, all.Count);
        for (int i = 0; i < all.Count; i++)
        {
            Assert.Equal($"big-{i:000}", System.Text.Encoding.ASCII.GetString(all[i].Key));
            Assert.Equal(Pattern(i, 2000 + i * 9973), all[i].Value);
        }
    }

    [Fact]
    public void Integer_keys_come_out_in_numeric_order_and_duplicates_in_value_order()
    {
        using var file = LmdbDataFile.Open(_dataFile);
        var ints = ReadAll(file.OpenDatabase("ints"));
        Assert.Equal(Enumerable.Range(1, 5003).Select(i => (ulong)i), ints.Select(e => BinaryPrimitives.ReadUInt64LittleEndian(e.Key)));

        var many = ReadAll(file.OpenDatabase("fixed")).Where(e => e.Key.AsSpan().SequenceEqual("idx-many"u8)).ToList();
        Assert.Equal(Enumerable.Range(0, 2500).Select(d => (ulong)(d * 3 + 1)), many.Select(e => BinaryPrimitives.ReadUInt64LittleEndian(e.Value)));
        var few = ReadAll(file.OpenDatabase("fixed")).Where(e => e.Key.AsSpan().SequenceEqual("idx-0006"u8)).ToList();
        Assert.Equal(Enumerable.Range(0, 7).Select(d => (ulong)(600 + d)), few.Select(e => BinaryPrimitives.ReadUInt64LittleEndian(e.Value)));
    }

    [Fact]
    public void The_newer_meta_page_is_read_and_the_older_one_when_the_newer_is_damaged()
    {
        ulong newest;
        int newerPage;
        using (var file = LmdbDataFile.Open(_dataFile))
        {
            newest = file.TransactionId;
            newerPage = file.MetaPage;
        }
        // Break the newer meta's magic number.
        Patch(_dataFile, (long)newerPage * 4096 + 16, new byte[] { 0, 0, 0, 0 });

        using var older = LmdbDataFile.Open(_dataFile);
        Assert.Equal(1 - newerPage, older.MetaPage);
        Assert.Equal(newest - 1, older.TransactionId);
        Assert.NotEmpty(older.DatabaseNames);
    }

    [Fact]
    public void A_truncated_file_is_refused_with_a_clear_message()
    {
        using (var stream = new FileStream(_dataFile, FileMode.Open)) stream.SetLength(stream.Length / 2);
        var error = Assert.Throws<LmdbFormatException>(() => LmdbDataFile.Open(_dataFile));
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void A_file_that_is_not_lmdb_is_refused_with_a_clear_message()
    {
        var random = new byte[64 * 1024];
        new Random(1).NextBytes(random);
        File.WriteAllBytes(_dataFile, random);
        var error = Assert.Throws<LmdbFormatException>(() => LmdbDataFile.Open(_dataFile));
        Assert.Contains("not an LMDB data file", error.Message);
    }

    [Fact]
    public void An_lmdb_1_0_file_is_recognised_and_refused()
    {
        using var store = new TempStore();
        store.Store.Dispose();
        var error = Assert.Throws<LmdbFormatException>(() => LmdbDataFile.Open(store.Directory));
        Assert.Contains("LMDB 1.0", error.Message);
    }

    [Fact]
    public void A_branch_pointing_outside_the_file_gives_an_error_not_a_crash()
    {
        ulong root;
        using (var file = LmdbDataFile.Open(_dataFile)) root = file.OpenDatabase("plain").Root;
        // The root of "plain" is a branch page; point its first child far past the end.
        long page = (long)root * 4096;
        var header = new byte[18];
        using (var stream = File.OpenRead(_dataFile))
        {
            stream.Position = page;
            stream.ReadExactly(header);
        }
        int firstNode = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(16));
        Patch(_dataFile, page + firstNode, new byte[] { 0xff, 0xff, 0xff, 0x7f, 0, 0 });

        using var damaged = LmdbDataFile.Open(_dataFile);
        var error = Assert.Throws<LmdbFormatException>(() => ReadAll(damaged.OpenDatabase("plain")));
        Assert.Contains("damaged", error.Message);
    }

    [Fact]
    public void Random_damage_ends_in_a_format_error_or_a_finished_walk_never_a_crash()
    {
        var original = File.ReadAllBytes(_dataFile);
        var random = new Random(7);
        int errors = 0;
        for (int round = 0; round < 100; round++)
        {
            // Damage the pages in use (the tail of the file is mostly big values), then undo it.
            var spots = Enumerable.Range(0, random.Next(1, 16)).Select(_ => (long)random.Next(0, 700 * 4096)).ToList();
            foreach (long spot in spots) Patch(_dataFile, spot, new[] { (byte)random.Next(256) });
            try
            {
                using var file = LmdbDataFile.Open(_dataFile);
                foreach (var name in file.DatabaseNames)
                {
                    if (file.TryOpenDatabase(name, out var tree)) Walk(tree);
                }
            }
            catch (LmdbFormatException)
            {
                errors++;
            }
            foreach (long spot in spots) Patch(_dataFile, spot, new[] { original[spot] });
        }
        Assert.InRange(errors, 1, 100);
    }

    private static long Walk(LmdbTree tree)
    {
        long bytes = 0;
        var cursor = tree.CreateCursor();
        while (cursor.MoveNext()) bytes += cursor.Key.Length + cursor.Value.Length;
        return bytes;
    }

    private static List<(byte[] Key, byte[] Value)> ReadAll(LmdbTree tree)
    {
        var list = new List<(byte[], byte[])>();
        var cursor = tree.CreateCursor();
        while (cursor.MoveNext()) list.Add((cursor.Key.ToArray(), cursor.Value.ToArray()));
        return list;
    }

    private static Dictionary<string, List<(byte[] Key, byte[] Value)>> ReadDump()
    {
        var result = new Dictionary<string, List<(byte[], byte[])>>();
        List<(byte[], byte[])>? current = null;
        bool data = false;
        byte[]? key = null;
        foreach (var line in FixtureFiles.ReadGzipLines(FixtureDir + "expected.dump.gz"))
        {
            if (line.StartsWith("# ", StringComparison.Ordinal)) result[line[2..]] = current = new();
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

    private static byte[] Pattern(int seed, int length)
    {
        var bytes = new byte[length];
        for (int j = 0; j < length; j++) bytes[j] = (byte)((seed * 131 + j * 7 + (j >> 8) * 13) % 251);
        return bytes;
    }

    private static void Patch(string path, long offset, byte[] bytes)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
        stream.Position = offset;
        stream.Write(bytes);
    }
}
