using System.Collections.Concurrent;
using Relay.Tests.Integration;

namespace Relay.Tests.Commands;

/// <summary>relay compact and relay backup: copies that open as databases holding what the original held.</summary>
public class CompactBackupCommandTests
{
    [Fact]
    public async Task Compact_to_a_file_and_to_stdout_gives_databases_with_the_same_events()
    {
        using var db = new TempDb();
        Assert.Equal(0, (await db.RunAsync("import", CommandTestKit.StrfryFixture("strfry-export.jsonl"))).ExitCode);
        // Free pages for the compaction to leave out.
        Assert.Equal(0, (await db.RunAsync("delete", "--filter", "{\"kinds\":[7]}")).ExitCode);
        string original = (await db.RunAsync("export")).Stdout;

        Directory.CreateDirectory(db.PathOf("to-file"));
        var r = await db.RunAsync("compact", db.PathOf("to-file/data.mdb"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Directory.CreateDirectory(db.PathOf("to-stdout"));
        // Through a pipe, as `relay compact - | gzip > backup.gz` would.
        var piped = await db.ShellAsync($"relay compact - | cat > '{db.PathOf("to-stdout/data.mdb")}'");
        Assert.True(piped.ExitCode == 0, piped.ToString());

        long originalBytes = new FileInfo(Path.Combine(db.DbDir, "data.mdb")).Length;
        foreach (var copy in new[] { "to-file", "to-stdout" })
        {
            Assert.True(new FileInfo(db.PathOf(copy + "/data.mdb")).Length < originalBytes, copy + " is not smaller");
            using (var store = CommandTestKit.OpenStore(db.PathOf(copy)))
                Assert.Equal(752, store.Count);
            var copyDb = db.PathOf(copy + ".json");
            File.WriteAllText(copyDb, $"{{ \"db\": \"{db.PathOf(copy)}\", \"dbParams\": {{ \"mapsize\": 1073741824 }} }}");
            Assert.Equal(original, (await RelayCli.RunAsync("--config", copyDb, "export")).Stdout);
        }
    }

    [Fact]
    public async Task Compact_refuses_to_overwrite_an_existing_file()
    {
        using var db = new TempDb();
        File.WriteAllText(db.PathOf("exists.mdb"), "keep me");
        var r = await db.RunAsync("compact", db.PathOf("exists.mdb"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("exists, not overwriting", r.Stderr);
        Assert.Equal("keep me", File.ReadAllText(db.PathOf("exists.mdb")));
    }

    [Fact]
    public async Task Backup_under_write_load_holds_every_event_acknowledged_before_it_started()
    {
        using var db = new TempDb(withPort: true);
        using var relay = RelayProcess.Start(db.Config);
        await relay.WaitListeningAsync();
        var keys = new TestKeys();
        var acknowledged = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var publishers = Enumerable.Range(0, 3).Select(p => Task.Run(async () =>
        {
            await using var client = await TestClient.ConnectAsync(db.Url);
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                var ev = keys.Sign(1, $"load {p}/{i}");
                var (accepted, message) = await client.PublishAsync(ev);
                Assert.True(accepted, message);
                acknowledged.Enqueue(ev.Id);
            }
        })).ToArray();

        while (acknowledged.Count < 300) await Task.Delay(20);
        var before = acknowledged.ToArray();
        var backup = await db.RunAsync("backup", db.PathOf("backup"));
        int duringBackup = acknowledged.Count - before.Length;
        await stop.CancelAsync();
        await Task.WhenAll(publishers);
        Assert.True(backup.ExitCode == 0, backup.ToString());
        Assert.True(duringBackup > 0, "the relay took no writes while the backup ran");
        Assert.False(File.Exists(db.PathOf("backup/data.mdb.partial")));

        using var copy = CommandTestKit.OpenStore(db.PathOf("backup"));
        using var view = copy.BeginRead();
        var missing = before.Where(id => !view.ContainsId(Convert.FromHexString(id))).ToList();
        Assert.Empty(missing);

        // A second backup into the same directory would overwrite the first: refused.
        var again = await db.RunAsync("backup", db.PathOf("backup"));
        Assert.Equal(1, again.ExitCode);
    }
}
