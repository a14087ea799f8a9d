using System.Net;
using Relay.Server.Config;
using Relay.Server.Relay;
using Relay.Tests.Integration;

namespace Relay.Tests.Observability;

/// <summary>/health (alive) and /ready (worth sending clients to), as a load balancer probes them.</summary>
[Collection(ObservabilityCollection.Name)]
public class HealthTests
{
    [Fact]
    public async Task Ready_while_serving_and_not_ready_once_draining_while_health_stays_ok()
    {
        await using var relay = TestRelay.Start();
        using var http = new HttpClient();

        var ready = await http.GetAsync(new Uri(relay.HttpUrl, "/ready"));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ready\n", await ready.Content.ReadAsStringAsync());
        Assert.True(relay.Server.IsReady);

        relay.Server.MarkDraining();
        var draining = await http.GetAsync(new Uri(relay.HttpUrl, "/ready"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, draining.StatusCode);
        Assert.Equal("not ready: draining\n", await draining.Content.ReadAsStringAsync());
        Assert.False(relay.Server.IsReady);

        var health = await http.GetAsync(new Uri(relay.HttpUrl, "/health"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Not_ready_before_start_or_after_shutdown()
    {
        string dir = TestRelay.NewTempDir();
        try
        {
            var config = new RelayConfig { Db = dir };
            config.DbParams.Mapsize = 16L << 20;
            config.Relay.Port = 0;
            var server = new RelayServer(config);
            Assert.False(server.IsReady);
            server.Start();
            Assert.True(server.IsReady);
            await server.DisposeAsync();
            Assert.False(server.IsReady);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
