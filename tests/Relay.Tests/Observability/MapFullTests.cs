using Relay.Native.Events;
using Relay.Native.Storage;
using Relay.Tests.Integration;

namespace Relay.Tests.Observability;

/// <summary>
/// LMDB's map is a hard ceiling (dbParams.mapsize). Reaching it must cost writes only: clients are
/// told why, the operator is told in the log, reads go on, and the relay takes writes again once
/// there is room (space freed, or a bigger map after a restart).
/// </summary>
[Collection(ObservabilityCollection.Name)]
public class MapFullTests
{
    private const long TinyMap = 1L << 20;
    // Content near 3 KB: each event takes an LMDB overflow page, so a tiny map fills in a few hundred.
    private static readonly string s_bulk = new('x', 3000);

    /// <summary>Publishes until the relay says the database is full; returns the ids it accepted.</summary>
    private static async Task<List<string>> FillAsync(TestClient c, TestKeys keys, string refusal = "error: database is full")
    {
        var accepted = new List<string>();
        for (int i = 0; i < 2000; i++)
        {
            var ev = keys.Sign(1, s_bulk + i);
            var (ok, message) = await c.PublishAsync(ev);
            if (!ok)
            {
                Assert.Equal(refusal, message);
                return accepted;
            }
            accepted.Add(ev.Id);
        }
        throw new Xunit.Sdk.XunitException($"a {TinyMap}-byte map took {accepted.Count} events without filling");
    }

    [Fact]
    public async Task A_full_map_refuses_writes_with_a_reason_logs_an_error_and_keeps_serving_reads()
    {
        using var log = new LogCapture();
        await using var relay = TestRelay.Start(c => c.DbParams.Mapsize = TinyMap);
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        long refusalsBefore = Metrics.MapFullRefusals.Value;

        var accepted = await FillAsync(c, keys);

        Assert.NotEmpty(accepted);
        Assert.Single(log.Containing("level=ERROR"), l => l.Contains("database is full", StringComparison.Ordinal));
        // Refused again, still one ERROR line for the episode, every refusal counted.
        var (ok, message) = await c.PublishAsync(keys.Sign(1, s_bulk + "again"));
        Assert.False(ok);
        Assert.Equal("error: database is full", message);
        Assert.Single(log.Containing("level=ERROR"), l => l.Contains("database is full", StringComparison.Ordinal));
        Assert.True(Metrics.MapFullRefusals.Value >= refusalsBefore + 2);

        // Reads go on, on the same connection and on a new one.
        Assert.Equal(accepted.Count, (await c.QueryAsync("all", "{\"kinds\":[1],\"limit\":5000}")).Count);
        await using var reader = await relay.ConnectAsync();
        Assert.Single(await reader.QueryAsync("one", $"{{\"ids\":[\"{accepted[0]}\"]}}"));
        var s = await Scrape.TakeAsync(relay);
        Assert.True(s["relay_db_map_used_bytes"] / s["relay_db_map_size_bytes"] > 0.9, "the map gauge does not show it full");
        Assert.True(relay.Server.IsReady);
    }

    [Fact]
    public async Task Writes_are_accepted_again_once_events_are_deleted()
    {
        using var log = new LogCapture();
        await using var relay = TestRelay.Start(c => c.DbParams.Mapsize = TinyMap);
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        var accepted = await FillAsync(c, keys);

        // An operator frees space (what `relay delete` does): the oldest tenth of the events.
        ulong deleted = 0;
        for (ulong levId = 1; deleted < (ulong)accepted.Count / 10; levId++)
            if (relay.Server.Store.Delete(levId)) deleted++;

        var (ok, message) = await c.PublishAsync(keys.Sign(1, s_bulk + "after the delete"));
        Assert.True(ok, message);
        Assert.Single(log.Containing("database accepts writes again"));
    }

    [Fact]
    public async Task A_bigger_mapsize_after_a_restart_takes_writes_and_keeps_every_event()
    {
        string dir = TestRelay.NewTempDir();
        var keys = new TestKeys();
        List<string> accepted;
        var first = TestRelay.Start(c => c.DbParams.Mapsize = TinyMap, dir);
        await using (var c = await first.ConnectAsync())
        {
            accepted = await FillAsync(c, keys);
        }
        // Only the server: disposing the TestRelay would delete the directory.
        await first.Server.DisposeAsync();
        await using (var relay = TestRelay.Start(c => c.DbParams.Mapsize = 8 * TinyMap, dir))
        await using (var c = await relay.ConnectAsync())
        {
            var s = await Scrape.TakeAsync(relay);
            Assert.Equal(8 * TinyMap, s["relay_db_map_size_bytes"]);
            var fresh = keys.Sign(1, s_bulk + "after the restart");
            Assert.True((await c.PublishAsync(fresh)).Accepted);
            var ids = (await c.QueryAsync("all", "{\"kinds\":[1],\"limit\":5000}")).Select(e => e.GetProperty("id").GetString()).ToHashSet();
            Assert.Equal(accepted.Count + 1, ids.Count);
            foreach (string id in accepted) Assert.Contains(id, ids);
            Assert.Contains(fresh.Id, ids);
        }
    }

    [Fact]
    public void Capacity_warns_once_past_80_then_90_then_95_percent()
    {
        using var log = new LogCapture();
        string dir = TestRelay.NewTempDir();
        try
        {
            using var store = EventStore.Open(new StoreOptions { Path = dir, MapSize = TinyMap, MaxReaders = 16 });
            var capacity = new StoreCapacity(store);
            var keys = new TestKeys();
            var results = new WriteResult[1];
            var levels = new List<long>();
            for (int i = 0; i < 2000; i++)
            {
                capacity.Check();
                capacity.Check();   // a second look at the same level says nothing new
                var ev = keys.Sign(1, s_bulk + i);
                try
                {
                    store.WriteBatch([StoreTestItem(ev)], results, durable: false);
                }
                catch (LightningDB.LightningException e) when (StoreCapacity.IsMapFull(e))
                {
                    break;
                }
            }
            capacity.Check();
            var warnings = log.Containing("level=WARN").Where(l => l.Contains("map is filling up", StringComparison.Ordinal)).ToList();
            Assert.Equal(3, warnings.Count);
            int[] thresholds = [80, 90, 95];
            for (int i = 0; i < 3; i++)
            {
                int percent = int.Parse(System.Text.RegularExpressions.Regex.Match(warnings[i], @"used_percent=(\d+)").Groups[1].Value,
                    System.Globalization.CultureInfo.InvariantCulture);
                Assert.InRange(percent, thresholds[i], i < 2 ? thresholds[i + 1] - 1 : 100);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static WriteItem StoreTestItem(TestEvent ev)
    {
        var json = System.Text.Encoding.UTF8.GetBytes(ev.Json);
        var packed = new byte[EventParser.MaxPackedSize(json.Length)];
        var normalized = new byte[EventParser.MaxJsonSize(json.Length)];
        var status = EventParser.Parse(json, new EventLimits(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            packed, out int packedLength, normalized, out int jsonLength, out _, out _);
        Assert.Equal(EventParseStatus.Ok, status);
        return new WriteItem(packed.AsMemory(0, packedLength), normalized.AsMemory(0, jsonLength));
    }
}
