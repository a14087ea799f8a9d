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
            string corpusPath = Path.Combine(dir, "parallel.bin");
            CheckCorpusLoading(corpusPath, corpus);
            CheckExport(dir, corpusPath, corpus);
            CheckQueryMixes(corpus);
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
        // strfry's texts: "ERROR: " before the NIP-01 prefix of CLOSED/NOTICE, plain prefixes in OK.
        ok &= RelayMessage.TryParse("[\"NOTICE\",\"ERROR: too many concurrent REQs\"]"u8, out m) && RelayMessage.PrefixOf(m.Text) == "ERROR: too many concurrent REQs";
        ok &= RelayMessage.TryParse("[\"OK\",\"x\",true,\"duplicate: have this event\"]"u8, out m) && m.Accepted && RelayMessage.PrefixOf(m.Text) == "duplicate";
        ok &= RelayMessage.TryParse("[\"EVENT\",\"4.9\",{\"id\":\"x\"}]"u8, out m, skipEventBody: true) && m.Type == RelayMessageType.Event
              && m.SubscriptionId.SequenceEqual("4.9"u8) && m.Event.IsEmpty;
        ok &= !RelayMessage.TryParse("[\"OK\",\"x\""u8, out _);
        Check("relay messages parse (OK, EOSE, EVENT, CLOSED, NOTICE, truncated; strfry's ERROR: prefixes grouped with the prefix after them)", ok);
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

    private static void CheckCorpusLoading(string path, EventCorpus corpus)
    {
        EventCorpus segmented = EventCorpus.Load(path, 0, keepJson: true, segmentBytes: 64 * 1024);
        bool same = segmented.Count == corpus.Count && segmented.SegmentCount > 1;
        for (int i = 0; same && i < corpus.Count; i++) same = segmented.EventJson(i).SequenceEqual(corpus.EventJson(i)) && segmented.Ids[i] == corpus.Ids[i];
        Check($"a corpus loaded in 64 KiB segments ({segmented.SegmentCount}) holds the same events as in one", same);

        EventCorpus prefix = EventCorpus.Load(path, corpus.Count / 2, keepJson: false);
        Check("--loaded N: only the first N events are indexed, and their index is unchanged",
            prefix.Count == corpus.Count / 2 && prefix.Ids[^1] == corpus.Ids[corpus.Count / 2 - 1] && prefix.AuthorCount <= corpus.AuthorCount);

        // Exactly one stored kind 0 per author that has any: older versions are superseded.
        var withProfile = new HashSet<int>();
        int storedProfiles = 0;
        for (int i = 0; i < corpus.Count; i++)
        {
            if (corpus.Kinds[i] != 0) continue;
            withProfile.Add(corpus.AuthorOf(i));
            if (!corpus.Superseded[i]) storedProfiles++;
        }
        Check("replaceable supersession: one stored kind 0 per author; stored < loaded",
            storedProfiles == withProfile.Count && corpus.StoredCount < corpus.Count && corpus.ContactLists.Length > 0,
            $"{storedProfiles} stored kind 0 for {withProfile.Count} authors, {corpus.StoredCount}/{corpus.Count}");
    }

    private static void CheckExport(string dir, string path, EventCorpus corpus)
    {
        string jsonl = Path.Combine(dir, "export.jsonl");
        int from = 10, count = Math.Min(500, corpus.Count - 10);
        var console = Console.Out;
        Console.SetOut(TextWriter.Null);
        try { Commands.ExportCommand.Run(new CliArgs(["--events", path, "--out", jsonl, "--from", from.ToString(System.Globalization.CultureInfo.InvariantCulture), "--count", count.ToString(System.Globalization.CultureInfo.InvariantCulture)])); }
        finally { Console.SetOut(console); }
        string[] lines = File.ReadAllLines(jsonl);
        bool same = lines.Length == count;
        for (int i = 0; same && i < count; i++) same = Encoding.UTF8.GetBytes(lines[i]).AsSpan().SequenceEqual(corpus.EventJson(from + i));
        Check("export writes events [from, from+count) as JSON lines, byte for byte", same, $"{lines.Length} lines");
    }

    private static void CheckQueryMixes(EventCorpus corpus)
    {
        // The default mix must not change: results measured with it stay comparable across versions.
        QueryMix mix = QueryMix.Create("default", corpus);
        var random = DeterministicRandom.For(1, 100, 0);
        var output = new ArrayBufferWriter<byte>();
        using (var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256))
        {
            for (int i = 0; i < 200; i++)
            {
                output.ResetWrittenCount();
                mix.Write(ref random, "0." + i, output);
                hash.AppendData(output.WrittenSpan);
            }
            string digest = Convert.ToHexStringLower(hash.GetHashAndReset());
            Check("the default query mix sends the same 200 REQs as before feed150 was added", digest == DefaultMixDigest, digest);
        }

        // The matcher (what --estimate counts) against a scan of every stored event, for both mixes.
        var matcher = new CorpusMatcher(corpus);
        string detail = "";
        bool agree = true;
        foreach (string name in QueryMix.Names)
        {
            QueryMix m = QueryMix.Create(name, corpus);
            var r = DeterministicRandom.For(5, 100, 0);
            for (int i = 0; i < 300 && agree; i++)
            {
                QueryFilter filter = m.Next(ref r, out int type);
                int expected = ScanCount(corpus, filter), got = matcher.Count(filter);
                if (expected != got) { agree = false; detail = $"{name}/{m.Types[type]}: matcher {got}, scan {expected}"; }
            }
        }
        Check("the corpus matcher counts what a scan of every stored event finds (both mixes, 300 filters each)", agree, detail);

        QueryMix feed = QueryMix.Create("feed150", corpus);
        var fr = DeterministicRandom.For(1, 100, 0);
        bool limits = true, follows = false;
        for (int i = 0; i < 500; i++)
        {
            QueryFilter f = feed.Next(ref fr, out int type);
            string t = feed.Types[type];
            if (t is "home-feed" or "global-feed" or "kind-list" or "notifications" or "hashtag" or "author-notes")
                limits &= f.Limit is >= 100 and <= 500;
            if (t == "home-feed") follows |= f.Authors!.Count >= 10;
        }
        Check("feed150: feeds with limit 100-500, home feeds over contact lists of 10+ authors", limits && follows);
    }

    // SHA-256 of the first 200 REQs of the default mix (seed 1, connection 0) on the self-test corpus.
    private const string DefaultMixDigest = "72e91ba48342040e243739126493bc1800eae5bf5fb70dd08d784ee47c2eb5a7";

    private static int ScanCount(EventCorpus corpus, QueryFilter filter)
    {
        int limit = Math.Min(filter.Limit ?? CorpusMatcher.MaxLimit, CorpusMatcher.MaxLimit), count = 0;
        var ids = filter.Ids?.ToHashSet(StringComparer.Ordinal);
        var authors = filter.Authors?.ToHashSet(StringComparer.Ordinal);
        var values = filter.TagValues?.ToHashSet(StringComparer.Ordinal);
        var tagValues = new List<string>();
        for (int i = 0; i < corpus.Count && count < limit; i++)
        {
            if (corpus.Superseded[i]) continue;
            if (ids is not null && !ids.Contains(corpus.Ids[i].ToString())) continue;
            if (authors is not null && !authors.Contains(corpus.AuthorHex(corpus.AuthorOf(i)))) continue;
            if (filter.Kinds is not null && !filter.Kinds.Contains(corpus.Kinds[i])) continue;
            if (filter.Since is long since && corpus.CreatedAt[i] < since) continue;
            if (filter.Until is long until && corpus.CreatedAt[i] > until) continue;
            if (values is not null)
            {
                tagValues.Clear();
                corpus.CopyTagValues(i, filter.TagLetter, tagValues);
                if (!tagValues.Exists(values.Contains)) continue;
            }
            count++;
        }
        return count;
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

        // The relay probe reads this process as "the relay", with a fake data.mdb beside it.
        string dbDir = Path.Combine(dir, "db");
        Directory.CreateDirectory(dbDir);
        File.WriteAllBytes(Path.Combine(dbDir, "data.mdb"), new byte[12_345]);
        var probe = new RelayProbe(Environment.ProcessId, dbDir);
        LoadReport feed = await QueryScenario.RunAsync(new QueryOptions(relay.Url, "selftest-query-feed150", Connections: 2, Window: 4,
            Duration: TimeSpan.FromSeconds(2), Mix: "feed150", Probe: probe), corpus, CancellationToken.None).ConfigureAwait(false);
        Publish(feed, reports);
        Check("query --mix feed150: REQs complete, events per REQ reported, relay CPU and DB size read from /proc and data.mdb",
            feed.CounterValue("ok (EOSE)") > 0 && feed.CounterValue("events per REQ (mean)") == 2 && feed.CounterValue("timeouts") == 0
            && feed.CounterValue("DB size, data.mdb (bytes)") == 12_345 && feed.Counters.Exists(c => c.Key == "relay CPU per REQ (us)")
            && feed.Parameters.Exists(p => p.Key == "mix" && p.Value == "feed150"),
            string.Join(", ", feed.Counters.Select(c => c.Key + "=" + c.Value)));

        // Paced so that each step lasts longer than the 100 ms between progress checks.
        int from = corpus.Count / 3, stepEvents = (corpus.Count - from) / 4;
        LoadReport fill = await IngestScenario.RunAsync(new IngestOptions(relay.Url, "selftest-ingest-progress", Connections: 2, Window: 16,
            Rate: stepEvents * 3, Count: corpus.Count - from, From: from, ProgressEvery: stepEvents, Probe: probe), corpus, CancellationToken.None).ConfigureAwait(false);
        Publish(fill, reports);
        ReportSeries? steps = fill.Series.Count == 1 ? fill.Series[0] : null;
        Check("ingest --from/--progress-every: events from the offset matched by id, one progress row per step, the last at the total",
            fill.CounterValue("sent") == corpus.Count - from && fill.CounterValue("unmatched OK") == 0 && fill.CounterValue("timeouts") == 0
            && steps is not null && steps.Rows.Count >= 3 && steps.Rows[^1][0] == corpus.Count - from
            && fill.Counters.Exists(c => c.Key == "relay CPU per event (us)") && fill.CounterValue("DB bytes per stored event") > 0,
            $"{steps?.Rows.Count} rows; " + string.Join(", ", fill.Counters.Select(c => c.Key + "=" + c.Value)));

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
        using (JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(reports, "selftest-ingest-progress.json"))))
        {
            JsonElement root = doc.RootElement;
            Check("report JSON carries p99.9, headline latencies and the progress series",
                root.GetProperty("latencyMs").GetProperty("EVENT -> OK").GetProperty("p99.9").GetDouble() > 0
                && root.GetProperty("headlineLatencies")[0].GetString() == "EVENT -> OK"
                && root.GetProperty("series").EnumerateObject().First().Value.GetArrayLength() == steps?.Rows.Count);
        }

        // The other relay's report of the same scenario: here the same file with the rate halved.
        string other = File.ReadAllText(Path.Combine(reports, "selftest-query-feed150.json"));
        double rate = feed.Rates.Find(r => r.Key == "ok").Value;
        string otherJson = other.Replace("\"ok\": " + Math.Round(rate, 2).ToString(System.Globalization.CultureInfo.InvariantCulture), "\"ok\": " + (2 * Math.Round(rate, 2)).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(reports, "selftest-query-feed150.twin.json"), otherJson);
        ComparedScenario compared = ComparedScenario.Load("selftest-query-feed150", Path.Combine(reports, "selftest-query-feed150.json"),
            Path.Combine(reports, "selftest-query-feed150.twin.json"));
        string table = CompareWriter.ToMarkdown("Relay", "twin", "", [compared], []);
        Check("compare: ratio table with rates, p50/p99/p99.9/max, CPU per REQ; the side ahead named",
            table.Contains("| rate: ok (/s) |", StringComparison.Ordinal) && table.Contains("| 0.50 | twin |", StringComparison.Ordinal)
            && table.Contains("| REQ -> EOSE (all) p99.9 (ms) |", StringComparison.Ordinal) && table.Contains("relay CPU per REQ (us)", StringComparison.Ordinal)
            && table.Contains("| events per REQ (mean) | 2.000 | 2.000 | 1.00 |  |", StringComparison.Ordinal),
            table);
    }

    private static void Publish(LoadReport report, string directory)
    {
        var console = new StringWriter();
        ReportWriter.Publish(report, directory, console);
        if (Environment.GetEnvironmentVariable("RELAY_LOAD_SELFTEST_VERBOSE") == "1") Console.Write(console);
    }
}
