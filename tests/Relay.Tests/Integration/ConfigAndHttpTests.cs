using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Relay.Server.Config;

namespace Relay.Tests.Integration;

public class ConfigAndHttpTests
{
    [Fact]
    public void Config_file_with_comments_loads_with_strfry_defaults_for_missing_keys()
    {
        var c = ConfigLoader.Parse("""
            // comment
            { "relay": { "port": 9999, /* inline */ "info": { "name": "x" } }, }
            """);
        Assert.Equal(9999, c.Relay.Port);
        Assert.Equal("x", c.Relay.Info.Name);
        Assert.Equal(131072, c.Relay.MaxWebsocketPayloadSize);
        Assert.Equal(500, c.Relay.MaxFilterLimit);
        Assert.Equal(200, c.Relay.MaxSubsPerConnection);
        Assert.Equal(3, c.Relay.NumThreads.Ingester);
        Assert.Equal(65536, c.Events.MaxEventSize);
        Assert.Equal(94608000, c.Events.RejectEventsOlderThanSeconds);
        Assert.Equal(10995116277760, c.DbParams.Mapsize);
    }

    [Fact]
    public void Shipped_config_json_parses()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "config.json");
        var c = ConfigLoader.LoadFile(path);
        Assert.Equal(7777, c.Relay.Port);
        Assert.Equal("./data/", c.Db);
    }

    [Theory]
    [InlineData("{\"relay\":{\"port\":\"seven\"}}", "relay.port")]
    [InlineData("{\"relay\":{\"port\":70000}}", "relay.port")]
    [InlineData("{\"relay\":{\"prot\":1}}", "relay.prot")]
    [InlineData("{\"events\":{\"maxEventSize\":-5}}", "events.maxEventSize")]
    [InlineData("{\"relay\":{\"numThreads\":{\"ingester\":0}}}", "relay.numThreads.ingester")]
    [InlineData("{\"relay\":{\"bind\":\"localhost-ish\"}}", "relay.bind")]
    [InlineData("{\"relay\":{\"info\":{\"pubkey\":\"npub1xyz\"}}}", "relay.info.pubkey")]
    public void Bad_config_values_name_the_key(string json, string key)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(json));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public async Task Bad_config_file_stops_startup_with_a_message_naming_the_key()
    {
        string dir = TestRelay.NewTempDir();
        string path = Path.Combine(dir, "bad.json");
        File.WriteAllText(path, "{ \"relay\": { \"maxFilterLimit\": \"lots\" } }");
        using var p = RelayProcess.Start(path);
        Assert.Equal(1, await p.WaitExitAsync());
        Assert.Contains("relay.maxFilterLimit", p.Stderr);
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task Nip11_document_is_served_with_cors_headers()
    {
        await using var relay = TestRelay.Start(c => { c.Relay.Info.Name = "test relay"; c.Relay.MaxFilterLimit = 123; });
        using var http = new HttpClient();
        var req = new HttpRequestMessage(HttpMethod.Get, relay.HttpUrl);
        req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/nostr+json"));
        var res = await http.SendAsync(req);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("*", res.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.True(res.Headers.Contains("Access-Control-Allow-Headers"));
        Assert.True(res.Headers.Contains("Access-Control-Allow-Methods"));
        using var doc = JsonDocument.Parse(await res.Content.ReadAsStringAsync());
        var root = doc.RootElement;
        Assert.Equal("test relay", root.GetProperty("name").GetString());
        var nips = root.GetProperty("supported_nips").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Contains(1, nips);
        Assert.Contains(11, nips);
        Assert.Equal(123, root.GetProperty("limitation").GetProperty("max_limit").GetInt32());

        var preflight = await http.SendAsync(new HttpRequestMessage(HttpMethod.Options, relay.HttpUrl));
        Assert.True(preflight.IsSuccessStatusCode);
        Assert.Equal("*", preflight.Headers.GetValues("Access-Control-Allow-Origin").Single());

        var page = await http.GetAsync(relay.HttpUrl);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var metrics = await http.GetStringAsync(new Uri(relay.HttpUrl, "/metrics"));
        Assert.Contains("strfry_connections_current", metrics);
    }
}
