using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Relay.Tests.Integration;

namespace Relay.Tests.Fuzz;

/// <summary>
/// Mutated client messages against the real relay over one connection: every one of them must be
/// answered (or ignored) without the relay closing the connection or writing anything but JSON.
/// </summary>
public class LiveRelayFuzzTests
{
    private const int Messages = 200;

    [Fact]
    public async Task Mutated_messages_leave_the_connection_open_and_answering()
    {
        // Mutated REQs that are accepted stay open; the cap must not be what refuses the probes.
        await using var relay = TestRelay.Start(c => c.Relay.MaxSubsPerConnection = 10_000);
        await using var client = await relay.ConnectAsync();
        var random = new Random(FuzzRun.BaseSeed);
        var mutator = new Mutator(random, FuzzCorpus.Messages);
        var sent = new List<string>();

        for (int i = 0; i < Messages; i++)
        {
            var message = mutator.Mutate(FuzzCorpus.Messages[random.Next(FuzzCorpus.Messages.Count)]);
            // Text frames must be UTF-8 (the relay rightly closes with 1007 otherwise), and no larger
            // than the payload cap; within that, anything goes.
            string text = Encoding.UTF8.GetString(message);
            sent.Add(text);
            await client.SendAsync(text);

            // A probe after every message: it is answered in order with the connection still open.
            string probe = "probe-" + i;
            await client.SendAsync($"[\"REQ\",\"{probe}\",{{\"kinds\":[1],\"limit\":1}}]");
            await DrainUntilEoseAsync(client, probe, sent);
            await client.SendAsync($"[\"CLOSE\",\"{probe}\"]");
        }

        Assert.Equal(WebSocketState.Open, client.State);
        await client.SendAsync("[\"REQ\",\"final\",{}]");
        await DrainUntilEoseAsync(client, "final", sent);
    }

    [Fact]
    public async Task Message_type_with_a_lone_surrogate_escape_gets_a_notice_on_an_open_connection()
    {
        await using var relay = TestRelay.Start();
        await using var client = await relay.ConnectAsync();

        await client.SendAsync("[\"CLOS\\udc00E\",\"sub\"]");

        var notice = await client.ExpectAsync("NOTICE");
        Assert.StartsWith("invalid:", notice[1].GetString());
        Assert.Empty(await client.QueryAsync("after", "{}"));
    }

    /// <summary>Reads (JSON-parsing each) until the probe's EOSE; anything else is the answer to the fuzzed message.</summary>
    private static async Task DrainUntilEoseAsync(TestClient client, string subId, List<string> sent)
    {
        while (true)
        {
            JsonElement[]? m;
            try
            {
                m = await client.ReceiveAsync();
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or JsonException)
            {
                throw new Xunit.Sdk.XunitException($"after message {sent.Count} ({Quote(sent[^1])}): {e.GetType().Name}: {e.Message}");
            }
            if (m is null)
                throw new Xunit.Sdk.XunitException($"relay closed the connection after message {sent.Count}: {Quote(sent[^1])}");
            Assert.NotEmpty(m);
            string verb = m[0].GetString()!;
            Assert.Contains(verb, (string[])["EVENT", "EOSE", "OK", "NOTICE", "CLOSED", "COUNT"]);
            // Raw comparison: echoed ids of refused REQs may hold escapes that do not unescape (a lone
            // surrogate), which the relay rightly sends back byte for byte.
            bool isProbe = m.Length > 1 && m[1].GetRawText() == "\"" + subId + "\"";
            if (verb == "CLOSED" && isProbe)
                throw new Xunit.Sdk.XunitException($"probe refused after message {sent.Count} ({Quote(sent[^1])}): {m[2]}");
            if (verb == "EOSE" && isProbe) return;
        }
    }

    private static string Quote(string text) => JsonSerializer.Serialize(text.Length > 300 ? text[..300] + "..." : text);
}
