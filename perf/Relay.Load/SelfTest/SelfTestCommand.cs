using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Relay.Load.Cli;
using Relay.Load.Corpus;
using Relay.Load.Generation;
using Relay.Load.Protocol;
using Relay.Load.Reporting;
using Relay.Load.Scenarios;
using Relay.Load.WebSockets;

namespace Relay.Load.SelfTest;

/// <summary>
/// Hidden <c>selftest</c> command: checks the generator (escaping, ids, signatures, determinism,
/// content mix), the framing and message parsing, and runs every scenario against
/// <see cref="FakeRelay"/>. Exit code 1 when any check fails.
/// </summary>
public static class SelfTestCommand
{
    private static int s_failures;

    public static async Task<int> RunAsync(CliArgs args)
    {
        int count = args.GetInt("count", 3000);
        bool generatorOnly = args.Has("generator-only");
        bool keep = args.Has("keep");
        args.RejectUnknown();
        s_failures = 0;
        string dir = Path.Combine(Path.GetTempPath(), "relay-load-selftest-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        try
        {
            CheckEscaping();
            CheckPublishedIdVector();
            CheckFraming();
            CheckRelayMessages();
            EventCorpus corpus = CheckGenerator(dir, count);
            if (!generatorOnly) await CheckScenariosAsync(dir, corpus).ConfigureAwait(false);
        }
        finally
        {
            if (!keep) Directory.Delete(dir, recursive: true);
        }
        Console.WriteLine(s_failures == 0 ? "selftest: all checks passed" : $"selftest: {s_failures} check(s) FAILED");
        return s_failures == 0 ? 0 : 1;
    }

    private static void Check(string name, bool ok, string detail = "")
    {
        if (ok) Console.WriteLine($"PASS {name}");
        else
        {
            s_failures++;
            Console.WriteLine($"FAIL {name}{(detail.Length > 0 ? ": " + detail : "")}");
        }
    }

    private static void CheckEscaping()
    {
        var output = new ArrayBufferWriter<byte>();
        JsonBuffer.WriteString(output, "a\"b\\c\n\r\t\b\f\u0001\u001f/é日😀\u007f");
        byte[] expected = Encoding.UTF8.GetBytes("\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f/é日😀\u007f\"");
        Check("canonical escaping: short forms, \\u00XX for other controls, the rest verbatim UTF-8",
            output.WrittenSpan.SequenceEqual(expected), Encoding.UTF8.GetString(output.WrittenSpan));
    }

    private static void CheckPublishedIdVector()
    {
        // A published event (kind 96024, created_at 0) with its id. This pins Relay.Native's id
        // serialization, which the verifier uses to check every generated event below.
        byte[] serialization = Relay.Native.Events.EventSigner.Serialize(
            Convert.FromHexString("2e7b0e5aae374d0ed1fab6cc877a969716ea48a710176a035398635e5d660dc1"), 96024, 0, [], new string('0', 64));
        string id = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(serialization));
        Check("NIP-01 id of a published event", id == "54ffbfbb8a4f76991c9f2401943b9b4d4f10084863ec7ea538bad2ded3d56892", id);
    }

    private static void CheckFraming()
    {
        bool ok = true;
        string detail = "";
        var random = DeterministicRandom.For(3, 3, 3);
        foreach (int length in new[] { 0, 1, 125, 126, 127, 65535, 65536, 70001 })
        {
            foreach (bool masked in new[] { true, false })
            {
                byte[] payload = new byte[length];
                random.NextBytes(payload);
                var frame = new ArrayBufferWriter<byte>();
                WebSocketFrame.Write(frame, WebSocketFrame.Text, masked, 0xA1B2C3D4, payload.AsSpan(0, length / 3), payload.AsSpan(length / 3));
                byte[] wire = frame.WrittenSpan.ToArray();
                if (!WebSocketFrame.TryReadHeader(wire, out FrameHeader header) || header.PayloadLength != length
                    || header.HeaderLength + length != wire.Length || header.Masked != masked || !header.Fin)
                {
                    ok = false; detail = $"header of {length}-byte frame"; continue;
                }
                Span<byte> body = wire.AsSpan(header.HeaderLength);
                if (masked)
                {
                    if (length >= 8 && body.SequenceEqual(payload)) { ok = false; detail = "payload not masked"; }
                    WebSocketFrame.ApplyMask(body, header.MaskKey);
                }
                if (!body.SequenceEqual(payload)) { ok = false; detail = $"payload of {length}-byte frame (masked={masked})"; }
                if (WebSocketFrame.TryReadHeader(wire.AsSpan(0, Math.Min(wire.Length, header.HeaderLength - 1)), out _))
                {
                    ok = false; detail = "a truncated header parsed";
                }
            }
        }
        Check("WebSocket frames round-trip for 7-bit, 16-bit and 64-bit lengths, masked and not", ok, detail);
    }

    private static void CheckRelayMessages()
    {
        string id = new('a', 64);
        bool ok = RelayMessage.TryParse(Encoding.UTF8.GetBytes($"[\"OK\",\"{id}\",false,\"blocked: no\"]"), out RelayMessage m)
                  && m.Type == RelayMessageType.Ok && !m.Accepted && m.EventIdHex.SequenceEqual(Encoding.ASCII.GetBytes(id))
                  && RelayMessage.PrefixOf(m.Text) == "blocked";
        ok &= RelayMessage.TryParse("[\"OK\",\"x\",true,\"\"]"u8, out m) && m.Accepted && RelayMessage.PrefixOf(m.Text) == "(empty)";
        ok &= RelayMessage.TryParse("[\"EOSE\",\"3.17\"]"u8, out m) && m.Type == RelayMessageType.Eose && m.SubscriptionId.SequenceEqual("3.17"u8);
        ok &= RelayMessage.TryParse("[\"EVENT\",\"s\",{\"tags\":[[\"t\",\"x\"],[\"seq\",\"12\"]],\"content\":\"}\"}]"u8, out m)
              && m.Type == RelayMessageType.Event && m.Event.SequenceEqual("{\"tags\":[[\"t\",\"x\"],[\"seq\",\"12\"]],\"content\":\"}\"}"u8)
              && EventFields.TryGetTagValue(m.Event, "seq"u8, out ReadOnlySpan<byte> seq) && seq.SequenceEqual("12"u8);
        ok &= RelayMessage.TryParse("[\"CLOSED\",\"s\",\"ERROR: bad req\"]"u8, out m) && m.Type == RelayMessageType.Closed && RelayMessage.PrefixOf(m.Text) == "ERROR: bad req";
        ok &= RelayMessage.TryParse("[\"NOTICE\",\"hello\"]"u8, out m) && m.Type == RelayMessageType.Notice;
        ok &= !RelayMessage.TryParse("[\"OK\",\"x\""u8, out _);
        Check("relay messages parse (OK, EOSE, EVENT, CLOSED, NOTICE, truncated)", ok);
    }

    private static EventCorpus CheckGenerator(string dir, int count)
    {
        const long now = 1_750_000_000;
        string parallelPath = Path.Combine(dir, "parallel.bin"), serialPath = Path.Combine(dir, "serial.bin"), otherPath = Path.Combine(dir, "other.bin");
        GenerateResult result = EventGenerator.Generate(new GenerateOptions(parallelPath, count, 7, 300, now, 0));
        Console.WriteLine($"     generated {count:N0} events in {result.Elapsed.TotalSeconds:0.00} s ({result.EventsPerSecond:N0}/s, {Environment.ProcessorCount} cores)");
        EventGenerator.Generate(new GenerateOptions(serialPath, count, 7, 300, now, 1));
        EventGenerator.Generate(new GenerateOptions(otherPath, Math.Min(count, 200), 8, 300, now, 0));
        byte[] parallel = File.ReadAllBytes(parallelPath);
        Check("same seed gives a byte-identical file on 1 thread and on all cores", parallel.AsSpan().SequenceEqual(File.ReadAllBytes(serialPath)));

        string managedPath = Path.Combine(dir, "managed.bin");
        int managedCount = Math.Min(count, 300);
        GenerateResult managed = EventGenerator.Generate(new GenerateOptions(managedPath, managedCount, 7, 300, now, 0, PreferNativeSigner: false));
        byte[] managedBytes = File.ReadAllBytes(managedPath);
        EventGenerator.Generate(new GenerateOptions(managedPath, managedCount, 7, 300, now, 0));
        Check($"{result.Signer} and {managed.Signer} sign identically (BIP-340 with fixed aux data)",
            managedBytes.AsSpan().SequenceEqual(File.ReadAllBytes(managedPath)));

        EventCorpus corpus = EventCorpus.Load(parallelPath);
        EventCorpus other = EventCorpus.Load(otherPath);
        Check("a different seed gives different events", corpus.Ids[0] != other.Ids[0]);
        Check("the file holds the requested count", corpus.Count == count && corpus.Header.Seed == 7 && corpus.Header.GeneratedAt == now);

        int invalid = 0;
        string firstProblem = "";
        for (int i = 0; i < corpus.Count; i++)
        {
            if (CorpusVerifier.Verify(corpus.EventJson(i), now) is { } problem) { invalid++; if (firstProblem.Length == 0) firstProblem = $"event {i}: {problem}"; }
        }
        Check($"every event has a correct NIP-01 id and a valid BIP-340 signature ({corpus.Count:N0} checked)", invalid == 0, firstProblem);

        // A relay must reject a tampered event: the verifier must notice one changed content byte.
        byte[] tampered = corpus.EventJson(0).ToArray();
        int contentAt = tampered.AsSpan().IndexOf("\"content\":\""u8) + 11;
        tampered[contentAt] = tampered[contentAt] == (byte)'x' ? (byte)'y' : (byte)'x';
        Check("the verifier catches a tampered event", CorpusVerifier.Verify(tampered, now) is not null);

        bool metadataIsJson = true;
        for (int i = 0; i < corpus.Count; i++)
        {
            if (corpus.Kinds[i] != 0) continue;
            using JsonDocument doc = JsonDocument.Parse(corpus.EventJson(i).ToArray());
            try { using JsonDocument metadata = JsonDocument.Parse(doc.RootElement.GetProperty("content").GetString()!); }
            catch (JsonException) { metadataIsJson = false; }
        }
        Check("kind 0 content is a JSON object", metadataIsJson);

        var kinds = new HashSet<int>(corpus.Kinds);
        Check("kinds 0, 1, 3, 7 and 30023 all occur", kinds.SetEquals([0, 1, 3, 7, 30023]), string.Join(",", kinds));
        bool inWindow = true;
        for (int i = 0; i < corpus.Count; i++) inWindow &= corpus.CreatedAt[i] <= now && corpus.CreatedAt[i] >= now - EventPlanner.Days * 86_400;
        Check("created_at lies in the 30 days before generation", inWindow);

        bool newline = false, tab = false, quote = false, backslash = false, emoji = false, cjk = false, accent = false;
        for (int i = 0; i < corpus.Count; i++)
        {
            ReadOnlySpan<byte> json = corpus.EventJson(i);
            newline |= json.IndexOf("\\n"u8) >= 0;
            tab |= json.IndexOf("\\t"u8) >= 0;
            quote |= json.IndexOf("\\\"quoted\\\""u8) >= 0;
            backslash |= json.IndexOf("back\\\\slash"u8) >= 0;
            emoji |= json.IndexOf("🚀"u8) >= 0;
            cjk |= json.IndexOf("日本語"u8) >= 0;
            accent |= json.IndexOf("café"u8) >= 0;
        }
        Check("content includes newlines, tabs, quotes, backslashes, emoji, CJK and accents",
            newline && tab && quote && backslash && emoji && cjk && accent, $"{newline} {tab} {quote} {backslash} {emoji} {cjk} {accent}");
        Check("corpus index finds authors, e/p/t tag values", corpus.AuthorsByActivity.Length > 10 && corpus.ETagValues.Length > 0
            && corpus.PTagValues.Length > 0 && corpus.TTagValues.Length > 0);
        return corpus;
    }

    private static async Task CheckScenariosAsync(string dir, EventCorpus corpus)
    {
        await using var relay = new FakeRelay();
        string reports = Path.Combine(dir, "reports");
        int blocked = 0;
        foreach (var id in corpus.Ids) if (id.ToString().EndsWith('0')) blocked++;

        LoadReport ingest = await IngestScenario.RunAsync(new IngestOptions(relay.Url, "selftest-ingest", Connections: 4, Window: 16,
            Duration: TimeSpan.FromSeconds(60), Timeout: TimeSpan.FromSeconds(10)), corpus, CancellationToken.None).ConfigureAwait(false);
        Publish(ingest, reports);
        if (!relay.Errors.IsEmpty) Console.WriteLine("     fake relay errors: " + string.Join("; ", relay.Errors.Take(3)));
        Check("ingest: every event sent and answered, none timed out",
            ingest.CounterValue("sent") == corpus.Count && ingest.CounterValue("ok") + ingest.CounterValue("fail (OK false)") == corpus.Count
            && ingest.CounterValue("timeouts") == 0 && ingest.CounterValue("unmatched OK") == 0,
            string.Join(", ", ingest.Counters.Select(c => c.Key + "=" + c.Value)));
        Check("ingest: rejections counted and grouped by prefix", ingest.CounterValue("fail (OK false)") == blocked
            && (blocked == 0 || ingest.Groups["rejected (OK false) by prefix"]["blocked"] == blocked));
        Check("ingest: latency recorded for every OK", ingest.Latencies[0].Value.Count == corpus.Count);

        LoadReport again = await IngestScenario.RunAsync(new IngestOptions(relay.Url, "selftest-ingest-paced", Connections: 2, Window: 4,
            Rate: 2000, Count: 200), corpus, CancellationToken.None).ConfigureAwait(false);
        Publish(again, reports);
        Check("paced ingest with --count: replays are reported as duplicates",
            again.CounterValue("sent") == 200 && again.CounterValue("ok") == 200 && again.Groups["accepted with message"]["duplicate"] == 200);

        LoadReport query = await QueryScenario.RunAsync(new QueryOptions(relay.Url, "selftest-query", Connections: 2, Window: 4,
            Duration: TimeSpan.FromSeconds(2)), corpus, CancellationToken.None).ConfigureAwait(false);
        Publish(query, reports);
        long completed = query.CounterValue("ok (EOSE)");
        Check("query: REQs complete with EOSE (half of them fragmented), events counted per REQ",
            completed > 0 && query.CounterValue("REQ sent") == completed && query.CounterValue("timeouts") == 0
            && query.CounterValue("events received") == 2 * completed,
            string.Join(", ", query.Counters.Select(c => c.Key + "=" + c.Value)));

        LoadReport connections = await ConnectionsScenario.RunAsync(new ConnectionsOptions(relay.Url, "selftest-connections", 100,
            Subscribe: true, RelayPid: Environment.ProcessId, Hold: TimeSpan.FromSeconds(1)), CancellationToken.None).ConfigureAwait(false);
        Publish(connections, reports);
        Check("connections: all open, subscribed and still open after the hold; RSS read from /proc",
            connections.CounterValue("opened") == 100 && connections.CounterValue("subscribed (EOSE)") == 100
            && connections.CounterValue("open after hold") == 100 && connections.CounterValue("relay RSS before (KiB)") > 0,
            string.Join(", ", connections.Counters.Select(c => c.Key + "=" + c.Value)));

        LoadReport fanout = await FanoutScenario.RunAsync(new FanoutOptions(relay.Url, "selftest-fanout", Subscribers: 20, Events: 30,
            Rate: 300, Grace: TimeSpan.FromSeconds(10)), CancellationToken.None).ConfigureAwait(false);
        Publish(fanout, reports);
        Check("fanout: every subscriber receives every event exactly once",
            fanout.CounterValue("delivered") == 600 && fanout.CounterValue("missing") == 0 && fanout.CounterValue("duplicates") == 0
            && fanout.CounterValue("publish ok") == 30 && fanout.Latencies[0].Value.Count == 600,
            string.Join(", ", fanout.Counters.Select(c => c.Key + "=" + c.Value)));

        Check("the client answers pings with pongs", relay.Pongs > 0);
        Check("the fake relay saw no protocol errors", relay.Errors.IsEmpty, string.Join("; ", relay.Errors.Take(3)));

        string json = Path.Combine(reports, "selftest-ingest.json");
        using (JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(json)))
        {
            JsonElement root = doc.RootElement;
            Check("report JSON carries counters, rates and latency percentiles",
                root.GetProperty("counters").GetProperty("ok").GetInt64() == ingest.CounterValue("ok")
                && root.GetProperty("latencyMs").GetProperty("EVENT -> OK").GetProperty("p99").GetDouble() > 0
                && root.GetProperty("ratesPerSecond").GetProperty("ok").GetDouble() > 0
                && root.GetProperty("bytesSent").GetInt64() > 0);
        }
        Check("report Markdown written", File.ReadAllText(Path.Combine(reports, "selftest-ingest.md")).Contains("| EVENT -> OK |", StringComparison.Ordinal));
    }

    private static void Publish(LoadReport report, string directory)
    {
        var console = new StringWriter();
        ReportWriter.Publish(report, directory, console);
        if (Environment.GetEnvironmentVariable("RELAY_LOAD_SELFTEST_VERBOSE") == "1") Console.Write(console);
    }
}
