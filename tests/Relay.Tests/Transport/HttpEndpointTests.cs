using System.Net;
using System.Net.Sockets;
using System.Text;
using Relay.Server.Transport;

namespace Relay.Tests.Transport;

public class HttpEndpointTests
{
    private static readonly byte[] Document = Encoding.UTF8.GetBytes("{\"name\":\"test relay\",\"supported_nips\":[1,11]}");

    private static ListenerOptions Options(Func<HttpRequestInfo, HttpResponse?>? hook = null, string realIpHeader = "") => new()
    {
        Port = 0,
        AutoPingSeconds = 0,
        Nip11Document = _ => Document,
        HttpHandler = hook,
        RealIpHeader = realIpHeader,
    };

    private static async Task<(string Head, byte[] Body)> ExchangeAsync(int port, string request)
    {
        await using var client = await RawClient.ConnectAsync(port);
        string head = await client.RequestAsync(request);
        // The server closes after a plain HTTP response, so the rest of the stream is the body.
        var body = await client.ReadToEndAsync();
        return (head, body);
    }

    private static string? Header(string head, string name)
    {
        foreach (var line in head.Split("\r\n").Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Equals(name, StringComparison.OrdinalIgnoreCase))
                return line[(colon + 1)..].Trim();
        }
        return null;
    }

    [Fact]
    public async Task Nip11_request_gets_the_document_with_cors_headers()
    {
        await using var listener = TestServer.Start(new EchoHandler(), Options());
        var (head, body) = await ExchangeAsync(listener.Port,
            "GET / HTTP/1.1\r\nHost: relay\r\naccept: application/nostr+json\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200", head);
        Assert.Equal("application/nostr+json", Header(head, "Content-Type"));
        Assert.Equal(Document.Length.ToString(), Header(head, "Content-Length"));
        Assert.Equal("*", Header(head, "Access-Control-Allow-Origin"));
        Assert.Equal("*", Header(head, "Access-Control-Allow-Headers"));
        Assert.Equal("GET, OPTIONS", Header(head, "Access-Control-Allow-Methods"));
        Assert.Equal(Document, body);
    }

    [Fact]
    public async Task Nip11_is_recognised_among_several_accepted_types()
    {
        await using var listener = TestServer.Start(new EchoHandler(), Options());
        var (head, body) = await ExchangeAsync(listener.Port,
            "GET / HTTP/1.1\r\nHost: relay\r\nAccept: text/html, Application/Nostr+JSON;q=0.9\r\n\r\n");

        Assert.Equal("application/nostr+json", Header(head, "Content-Type"));
        Assert.Equal(Document, body);
    }

    [Fact]
    public async Task Cors_preflight_gets_204_with_cors_headers()
    {
        await using var listener = TestServer.Start(new EchoHandler(), Options());
        var (head, body) = await ExchangeAsync(listener.Port,
            "OPTIONS / HTTP/1.1\r\nHost: relay\r\nOrigin: https://example.com\r\nAccess-Control-Request-Method: GET\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 204", head);
        Assert.Equal("*", Header(head, "Access-Control-Allow-Origin"));
        Assert.Equal("*", Header(head, "Access-Control-Allow-Headers"));
        Assert.Equal("GET, OPTIONS", Header(head, "Access-Control-Allow-Methods"));
        Assert.Empty(body);
    }

    [Fact]
    public async Task Plain_get_gets_the_default_page()
    {
        await using var listener = TestServer.Start(new EchoHandler(), Options());
        var (head, body) = await ExchangeAsync(listener.Port, "GET / HTTP/1.1\r\nHost: relay\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200", head);
        Assert.StartsWith("text/plain", Header(head, "Content-Type"));
        Assert.Contains("Please use a Nostr client to connect.", Encoding.UTF8.GetString(body));
    }

    [Fact]
    public async Task Head_request_gets_headers_without_a_body()
    {
        await using var listener = TestServer.Start(new EchoHandler(), Options());
        var (head, body) = await ExchangeAsync(listener.Port, "HEAD / HTTP/1.1\r\nHost: relay\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200", head);
        Assert.NotEqual("0", Header(head, "Content-Length"));
        Assert.Empty(body);
    }

    [Fact]
    public async Task Http_hook_answers_its_paths_and_falls_back_to_the_page()
    {
        HttpResponse? Hook(HttpRequestInfo request) =>
            request.Path == "/health" ? HttpResponse.Text(200, "ok " + request.GetHeader("X-Probe")) : null;
        await using var listener = TestServer.Start(new EchoHandler(), Options(Hook));

        var (healthHead, healthBody) = await ExchangeAsync(listener.Port, "GET /health?full=1 HTTP/1.1\r\nx-probe: 42\r\n\r\n");
        var (_, otherBody) = await ExchangeAsync(listener.Port, "GET /other HTTP/1.1\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200", healthHead);
        Assert.Equal("ok 42", Encoding.UTF8.GetString(healthBody));
        Assert.Contains("Please use a Nostr client", Encoding.UTF8.GetString(otherBody));
    }

    [Fact]
    public async Task Http_hook_that_throws_gets_500_and_is_reported()
    {
        var errors = new List<Exception>();
        var options = new ListenerOptions
        {
            Port = 0,
            AutoPingSeconds = 0,
            HttpHandler = _ => throw new InvalidOperationException("boom"),
            OnError = e => { lock (errors) errors.Add(e); },
        };
        await using var listener = TestServer.Start(new EchoHandler(), options);

        var (head, _) = await ExchangeAsync(listener.Port, "GET /metrics HTTP/1.1\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 500", head);
        lock (errors)
            Assert.Contains(errors, e => e.Message == "boom");
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")]
    [InlineData("GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")]
    public async Task Bad_upgrade_request_gets_400(string request)
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler, Options());
        var (head, _) = await ExchangeAsync(listener.Port, request);

        Assert.StartsWith("HTTP/1.1 400", head);
        Assert.Equal(0, listener.ConnectionCount);
        Assert.Empty(handler.CloseCounts);
    }

    [Fact]
    public async Task Unsupported_websocket_version_gets_426_naming_version_13()
    {
        await using var listener = TestServer.Start(new EchoHandler(), Options());
        var (head, _) = await ExchangeAsync(listener.Port, RawClient.UpgradeRequest(version: "8"));

        Assert.StartsWith("HTTP/1.1 426", head);
        Assert.Equal("13", Header(head, "Sec-WebSocket-Version"));
    }

    [Theory]
    [InlineData("garbage\r\n\r\n")]
    [InlineData("GET /\r\n\r\n")]
    [InlineData("GET / HTTP/2.0\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\n folded: header\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nno colon here\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nbad name: x\r\n\r\n")]
    public async Task Malformed_request_gets_400(string request)
    {
        await using var listener = TestServer.Start(new EchoHandler(), Options());
        var (head, _) = await ExchangeAsync(listener.Port, request);
        Assert.StartsWith("HTTP/1.1 400", head);
    }

    [Fact]
    public async Task Oversized_request_head_gets_431()
    {
        await using var listener = TestServer.Start(new EchoHandler(), Options());
        string request = "GET / HTTP/1.1\r\nX-Filler: " + new string('a', 20_000) + "\r\n\r\n";
        var (head, _) = await ExchangeAsync(listener.Port, request);
        Assert.StartsWith("HTTP/1.1 431", head);
    }

    [Fact]
    public async Task Other_methods_get_405()
    {
        await using var listener = TestServer.Start(new EchoHandler(), Options());
        var (head, _) = await ExchangeAsync(listener.Port, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 405", head);
    }

    [Fact]
    public async Task Upgrade_answers_101_with_the_rfc_accept_key()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler, Options());
        await using var client = await RawClient.ConnectAsync(listener.Port);

        string head = await client.RequestAsync(RawClient.UpgradeRequest());

        Assert.StartsWith("HTTP/1.1 101", head);
        Assert.Equal(RawClient.SampleAccept, Header(head, "Sec-WebSocket-Accept"));
        Assert.Equal("websocket", Header(head, "Upgrade"), ignoreCase: true);
        var connection = await handler.NextOpenedAsync();
        Assert.Equal(IPAddress.Loopback, connection.RemoteAddress);
    }

    [Fact]
    public async Task Real_ip_header_sets_the_remote_address()
    {
        var handler = new EchoHandler();
        await using var listener = TestServer.Start(handler, Options(realIpHeader: "x-real-ip"));
        await using var client = await RawClient.ConnectAsync(listener.Port);

        await client.RequestAsync(RawClient.UpgradeRequest("X-Real-IP: 203.0.113.7\r\n"));

        var connection = await handler.NextOpenedAsync();
        Assert.Equal(IPAddress.Parse("203.0.113.7"), connection.RemoteAddress);
    }

    [Fact]
    public async Task Starting_on_a_taken_port_throws_a_clear_error()
    {
        await using var first = TestServer.Start(new EchoHandler(), Options());
        var second = new WebSocketListener(new ListenerOptions { Port = first.Port }, new EchoHandler());

        var error = Assert.Throws<InvalidOperationException>(second.Start);

        Assert.Contains("already in use", error.Message);
        Assert.Contains(first.Port.ToString(), error.Message);
        await second.DisposeAsync();
    }

    [Fact]
    public async Task Client_that_never_sends_a_request_is_dropped()
    {
        var options = new ListenerOptions { Port = 0, AutoPingSeconds = 0, HandshakeTimeoutSeconds = 1 };
        await using var listener = TestServer.Start(new EchoHandler(), options);
        await using var client = await RawClient.ConnectAsync(listener.Port);

        Assert.True(await client.ServerClosesAsync());
    }
}
