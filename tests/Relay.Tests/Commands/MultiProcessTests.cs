using System.Collections.Concurrent;
using Relay.Tests.Integration;

namespace Relay.Tests.Commands;

/// <summary>
/// import, delete and scan while a relay process serves the same database: LMDB serializes the
/// writers across processes; the relay must notice commits it did not make.
/// </summary>
public class MultiProcessTests
{
    [Fact]
    public async Task Events_imported_by_another_process_reach_live_subscribers()
    {
        using var db = new TempDb(withPort: true);
        using var relay = RelayProcess.Start(db.Config);
        await relay.WaitListeningAsync();
        await using var client = await TestClient.ConnectAsync(db.Url);
        var keys = new TestKeys();
        Assert.Empty(await client.SubscribeAsync("live", $"{{\"authors\":[\"{keys.PubKey}\"]}}"));

        var events = Enumerable.Range(0, 5).Select(i => keys.Sign(1, $"imported {i}")).ToList();
        CommandTestKit.WriteJsonl(db.PathOf("in.jsonl"), events.Select(e => e.Json));
        var r = await db.RunAsync("import", db.PathOf("in.jsonl"));
        Assert.Contains("5 stored", r.Stderr);

        var received = new HashSet<string>();
        while (received.Count < events.Count)
        {
            // Generous: the relay polls every 100 ms; this only fails if they never come.
            var m = await client.ReceiveAsync(TimeSpan.FromSeconds(10)) ?? throw new Xunit.Sdk.XunitException("closed");
            Assert.Equal("EVENT", m[0].GetString());
            Assert.Equal("live", m[1].GetString());
            received.Add(m[2].GetProperty("id").GetString()!);
        }
        Assert.Equal(events.Select(e => e.Id).Order(), received.Order());
        Assert.True(await client.IsSilentAsync(TimeSpan.FromMilliseconds(300)), "an event was delivered twice");
    }

    [Fact]
    public async Task Events_deleted_by_another_process_are_no_longer_served()
    {
        using var db = new TempDb(withPort: true);
        using var relay = RelayProcess.Start(db.Config);
        await relay.WaitListeningAsync();
        await using var client = await TestClient.ConnectAsync(db.Url);
        var keys = new TestKeys();
        var notes = Enumerable.Range(0, 4).Select(i => keys.Sign(1, $"note {i}")).ToList();
        var reaction = keys.Sign(7, "+");
        foreach (var e in notes.Append(reaction)) Assert.True((await client.PublishAsync(e)).Accepted);
        Assert.Equal(5, (await client.QueryAsync("before", $"{{\"authors\":[\"{keys.PubKey}\"]}}")).Count);

        var r = await db.RunAsync("delete", "--filter", "{\"kinds\":[1]}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Deleted 4 events", r.Stderr);
        var served = await client.QueryAsync("after", $"{{\"authors\":[\"{keys.PubKey}\"]}}");
        Assert.Equal([reaction.Id], served.Select(e => e.GetProperty("id").GetString()!));
        // And scan, a third process, agrees.
        Assert.Equal("1", (await db.RunAsync("scan", "--count", "{}")).Stdout.Trim());
    }

    [Fact]
    public async Task Relay_and_import_writing_at_once_never_hand_out_a_levId_twice()
    {
        using var db = new TempDb(withPort: true);
        using var relay = RelayProcess.Start(db.Config);
        await relay.WaitListeningAsync();
        var keys = new TestKeys();
        var imported = Enumerable.Range(0, 3000).Select(i => keys.Sign(1, $"imported {i}")).ToList();
        CommandTestKit.WriteJsonl(db.PathOf("in.jsonl"), imported.Select(e => e.Json));

        var published = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var publisher = Task.Run(async () =>
        {
            await using var client = await TestClient.ConnectAsync(db.Url);
            for (int i = 0; !stop.IsCancellationRequested || i < 50; i++)
            {
                var ev = keys.Sign(1, $"published {i}");
                var (accepted, message) = await client.PublishAsync(ev);
                Assert.True(accepted, message);
                published.Enqueue(ev.Id);
            }
        });
        while (published.Count < 20) await Task.Delay(10);
        // Small batches: many interleaved commits of both processes.
        var r = await db.RunAsync("import", "--write-batch", "100", "--no-verify", db.PathOf("in.jsonl"));
        await stop.CancelAsync();
        await publisher;
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("3000 stored", r.Stderr);

        // Each event under its own levId: every one is found, and the event count adds up.
        await using var check = await TestClient.ConnectAsync(db.Url);
        var all = imported.Select(e => e.Id).Concat(published).ToList();
        var served = await CommandTestKit.FetchByIdsAsync(check, all);
        Assert.Equal(all.Count, served.Count);
        Assert.Equal(all.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            (await db.RunAsync("scan", "--count", "{}")).Stdout.Trim());
    }
}
