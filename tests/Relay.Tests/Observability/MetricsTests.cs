using System.Diagnostics.Metrics;
using System.Net;
using Relay.Tests.Integration;

namespace Relay.Tests.Observability;

/// <summary>/metrics after known traffic through a live relay, and the same metrics on the Meter.</summary>
[Collection(ObservabilityCollection.Name)]
public class MetricsTests
{
    // Dashboards and the load tool read these; strfry's names must all be there.
    public static readonly string[] Names =
    [
        "strfry_write_events_total", "strfry_write_rejected_total", "strfry_write_dups_total", "strfry_write_time_microseconds_total",
        "strfry_write_batch_size", "strfry_connections_current", "strfry_slow_client_terminations_total",
        "strfry_auth_challenges_sent_total", "strfry_auth_success_total", "strfry_auth_failure_total", "strfry_authenticated_connections_current",
        "nostr_client_messages_total", "nostr_relay_messages_total", "nostr_events_total",
        "relay_sync_time_microseconds_total", "relay_events_received_total", "relay_events_sent_total", "relay_reqs_total", "relay_notices_total",
        "relay_inbox_full_waits_total", "relay_verify_seconds", "relay_commit_seconds", "relay_query_seconds",
        "relay_db_map_used_bytes", "relay_db_map_size_bytes", "relay_db_map_full_total",
        "relay_process_allocated_bytes_total", "relay_gc_collections_total", "relay_gc_heap_bytes", "relay_process_working_set_bytes",
    ];

    [Fact]
    public async Task Every_metric_is_served_with_its_type()
    {
        await using var relay = TestRelay.Start();
        var s = await Scrape.TakeAsync(relay);
        foreach (string name in Names) Assert.NotNull(s.TypeOf(name));
        Assert.Equal("histogram", s.TypeOf("relay_commit_seconds"));
        Assert.Equal("counter", s.TypeOf("nostr_relay_messages_total"));
        Assert.Equal("gauge", s.TypeOf("strfry_authenticated_connections_current"));
        Assert.Equal("summary", s.TypeOf("strfry_write_batch_size"));
        // The load tool reads these exact series.
        Assert.True(s["relay_process_allocated_bytes_total"] > 0);
        Assert.True(s.Has("relay_gc_collections_total{generation=\"0\"}"));
        Assert.True(s.Has("relay_gc_collections_total{generation=\"2\"}"));
    }

    [Fact]
    public async Task Messages_are_counted_by_verb_and_stored_events_by_kind()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        const int Kind = 7311;
        var before = await Scrape.TakeAsync(relay);

        for (int i = 0; i < 3; i++) Assert.True((await c.PublishAsync(keys.Sign(Kind, "n" + i))).Accepted);
        Assert.True((await c.PublishAsync(keys.Sign(1, "a kind 1"))).Accepted);
        var dup = keys.Sign(1, "twice");
        await c.PublishAsync(dup);
        await c.PublishAsync(dup);
        Assert.Equal(3, (await c.QueryAsync("q", $"{{\"kinds\":[{Kind}]}}")).Count);
        await c.SendAsync($"[\"COUNT\",\"n\",{{\"kinds\":[{Kind}]}}]");
        await c.ExpectAsync("COUNT");
        await c.SendAsync("[\"NOPE\"]");
        await c.ExpectAsync("NOTICE");
        await c.SendAsync("[\"REQ\",\"bad\",{\"kinds\":\"x\"}]");
        await c.ExpectAsync("CLOSED");

        var after = await Scrape.TakeAsync(relay);
        double Delta(string series) => after[series] - before[series];

        Assert.Equal(6, Delta("nostr_client_messages_total{verb=\"EVENT\"}"));
        Assert.Equal(2, Delta("nostr_client_messages_total{verb=\"REQ\"}"));
        Assert.Equal(1, Delta("nostr_client_messages_total{verb=\"CLOSE\"}"));
        Assert.Equal(1, Delta("nostr_client_messages_total{verb=\"COUNT\"}"));
        Assert.Equal(1, Delta("nostr_client_messages_total{verb=\"UNKNOWN\"}"));
        Assert.Equal(0, Delta("nostr_client_messages_total{verb=\"AUTH\"}"));

        Assert.Equal(6, Delta("nostr_relay_messages_total{verb=\"OK\"}"));
        Assert.Equal(3, Delta("nostr_relay_messages_total{verb=\"EVENT\"}"));
        Assert.Equal(1, Delta("nostr_relay_messages_total{verb=\"EOSE\"}"));
        Assert.Equal(1, Delta("nostr_relay_messages_total{verb=\"COUNT\"}"));
        Assert.Equal(1, Delta("nostr_relay_messages_total{verb=\"NOTICE\"}"));
        Assert.Equal(1, Delta("nostr_relay_messages_total{verb=\"CLOSED\"}"));
        Assert.True(after.Has("nostr_relay_messages_total{verb=\"NEG-ERR\"}"));

        Assert.Equal(3, after[$"nostr_events_total{{kind=\"{Kind}\"}}"]);
        Assert.Equal(2, Delta("nostr_events_total{kind=\"1\"}"));
        Assert.Equal(5, Delta("strfry_write_events_total"));
        Assert.Equal(1, Delta("strfry_write_dups_total"));
        Assert.Equal(1, Delta("relay_reqs_total"));
        Assert.Equal(3, Delta("relay_events_sent_total"));
        Assert.Equal(6, Delta("relay_events_received_total"));
    }

    [Fact]
    public async Task Latency_histograms_have_cumulative_buckets_that_end_in_the_count()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        var keys = new TestKeys();
        var before = await Scrape.TakeAsync(relay);
        for (int i = 0; i < 4; i++) Assert.True((await c.PublishAsync(keys.Sign(1, "h" + i))).Accepted);
        await c.QueryAsync("h", "{\"kinds\":[1]}");
        await c.SendAsync("[\"COUNT\",\"h\",{\"kinds\":[1]}]");
        await c.ExpectAsync("COUNT");
        var after = await Scrape.TakeAsync(relay);

        foreach (var (name, label, value) in new[]
        {
            ("relay_verify_seconds", "scope", "batch"), ("relay_verify_seconds", "scope", "event"),
            ("relay_commit_seconds", "phase", "write"), ("relay_commit_seconds", "phase", "fsync"),
            ("relay_query_seconds", "type", "req"), ("relay_query_seconds", "type", "count"),
        })
        {
            var buckets = after.Buckets(name, label, value);
            Assert.Equal(LatencyHistogram.Bounds.Length + 1, buckets.Count);
            for (int i = 1; i < buckets.Count; i++)
            {
                Assert.True(buckets[i].Le > buckets[i - 1].Le, $"{name}{{{label}={value}}}: le not ascending");
                Assert.True(buckets[i].Count >= buckets[i - 1].Count, $"{name}{{{label}={value}}}: buckets not cumulative");
            }
            Assert.True(double.IsPositiveInfinity(buckets[^1].Le));
            string series = $"{{{label}=\"{value}\"}}";
            Assert.Equal(after[name + "_count" + series], buckets[^1].Count);
            Assert.True(after[name + "_count" + series] > 0, $"{name}{series} recorded nothing");
            Assert.True(after[name + "_sum" + series] > 0);
        }
        double Delta(string series) => after[series] - before[series];
        Assert.Equal(4, Delta("relay_verify_seconds_count{scope=\"event\"}"));
        Assert.Equal(1, Delta("relay_query_seconds_count{type=\"req\"}"));
        Assert.Equal(1, Delta("relay_query_seconds_count{type=\"count\"}"));
        // Every durable OK waited for an fsync, and each batch was one write transaction.
        Assert.True(Delta("relay_commit_seconds_count{phase=\"fsync\"}") >= 1);
        Assert.Equal(Delta("strfry_write_batch_size_count"), Delta("relay_commit_seconds_count{phase=\"write\"}"));
    }

    [Fact]
    public async Task Gauges_show_this_relays_connections_and_map()
    {
        await using var relay = TestRelay.Start(c => c.DbParams.Mapsize = 64L << 20);
        await using var a = await relay.ConnectAsync();
        await using var b = await relay.ConnectAsync();
        await Wait.UntilAsync(() => relay.Server.Listener.ConnectionCount == 2, "two connections");
        var s = await Scrape.TakeAsync(relay);
        Assert.Equal(2, s["strfry_connections_current"]);
        Assert.Equal(64L << 20, s["relay_db_map_size_bytes"]);
        Assert.InRange(s["relay_db_map_used_bytes"], 4096, 64L << 20);
        Assert.Equal(0, s["strfry_authenticated_connections_current"]);
    }

    [Fact]
    public async Task The_Relay_meter_publishes_the_same_values_to_a_listener()
    {
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectAsync();
        const int Kind = 7312;
        Assert.True((await c.PublishAsync(new TestKeys().Sign(Kind, "meter"))).Accepted);

        var longs = new List<(string Name, long Value, string? Tag)>();
        var doubles = new List<(string Name, double Value, string? Tag)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Metrics.MeterName) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => { lock (longs) longs.Add((i.Name, v, TagText(tags))); });
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => { lock (doubles) doubles.Add((i.Name, v, TagText(tags))); });
        listener.Start();

        // Histograms are pushed while a listener is attached: this query shows up there.
        await c.QueryAsync("m", $"{{\"kinds\":[{Kind}]}}");
        await Wait.UntilAsync(() => { lock (doubles) return doubles.Any(d => d.Name == "relay_query_seconds" && d.Tag == "type=req"); }, "a query latency");

        listener.RecordObservableInstruments();
        var s = await Scrape.TakeAsync(relay);
        lock (longs)
        {
            Assert.Contains(longs, m => m.Name == "nostr_events_total" && m.Tag == $"kind={Kind}" && m.Value == 1);
            var written = longs.Single(m => m.Name == "strfry_write_events_total");
            Assert.True(written.Value >= 1 && written.Value <= s["strfry_write_events_total"]);
            Assert.Contains(longs, m => m.Name == "strfry_connections_current" && m.Value >= 1);
            Assert.Contains(longs, m => m.Name == "nostr_client_messages_total" && m.Tag == "verb=EVENT" && m.Value >= 1);
            Assert.Contains(longs, m => m.Name == "relay_db_map_size_bytes" && m.Value >= 1L << 30);
        }
        // Every Prometheus family is an instrument of the meter, under the same name.
        var published = new HashSet<string>();
        using (var names = new MeterListener())
        {
            names.InstrumentPublished = (i, _) => { if (i.Meter.Name == Metrics.MeterName) published.Add(i.Name); };
            names.Start();
        }
        foreach (string name in Names) Assert.Contains(name, published);
    }

    private static string? TagText(ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        tags.Length == 0 ? null : $"{tags[0].Key}={tags[0].Value}";
}
