using System.Text.Json;
using Relay.Tests.Integration;

namespace Relay.Tests.Policy;

/// <summary>Write limits (PoW, kinds, content, tags, created_at) and strfry's filterValidation, through a live relay.</summary>
public class LimitsTests
{
    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    [Fact]
    public async Task Minimum_pow_refuses_too_little_work_and_committed_targets_below_it()
    {
        var keys = new TestKeys();
        await using var relay = TestRelay.Start(c => c.Relay.Limits.MinPowDifficulty = 8);
        await using var c = await relay.ConnectClientAsync();

        var none = keys.Sign(1, "no work");
        (bool ok, string message) = await c.PublishAsync(none);
        if (!ok) Assert.Matches(@"^pow: difficulty \d is less than 8$", message);
        else Assert.True(Relay.Server.Policy.WriteRules.LeadingZeroBits(Convert.FromHexString(none.Id)) >= 8);

        Assert.Equal((true, ""), await c.PublishAsync(PolicyKit.Mine(keys, 1, "worked", bits: 8, target: 8)));
        Assert.Equal((true, ""), await c.PublishAsync(PolicyKit.Mine(keys, 1, "worked, uncommitted", bits: 9)));
        var lucky = PolicyKit.Mine(keys, 1, "aimed low, got lucky", bits: 8, target: 4);
        Assert.Equal((false, "pow: committed target 4 is less than 8"), await c.PublishAsync(lucky));

        var doc = await relay.Nip11Async();
        Assert.Equal(8, doc.GetProperty("limitation").GetProperty("min_pow_difficulty").GetInt32());
        Assert.True(doc.GetProperty("limitation").GetProperty("restricted_writes").GetBoolean());
        Assert.Contains(13, doc.GetProperty("supported_nips").EnumerateArray().Select(n => n.GetInt32()));
    }

    [Fact]
    public async Task Limits_hot_reload()
    {
        var keys = new TestKeys();
        await using var relay = TestRelay.Start();
        await using var c = await relay.ConnectClientAsync();
        Assert.True((await c.PublishAsync(keys.Sign(7, "+"))).Accepted);
        relay.Reconfigure(cfg => cfg.Relay.Limits.DeniedKinds = "7");
        Assert.Equal((false, "blocked: events of kind 7 are not accepted here"), await c.PublishAsync(keys.Sign(7, "-")));
        relay.Reconfigure(cfg => cfg.Relay.Limits.DeniedKinds = "");
        Assert.True((await c.PublishAsync(keys.Sign(7, "+ again"))).Accepted);
    }

    [Fact]
    public async Task Kind_allow_and_deny_lists_take_ranges()
    {
        var keys = new TestKeys();
        await using var relay = TestRelay.Start(c =>
        {
            c.Relay.Limits.AllowedKinds = "0-3, 7, 30000-39999";
            c.Relay.Limits.DeniedKinds = "2, 30078";
        });
        await using var c = await relay.ConnectClientAsync();
        foreach (int kind in new[] { 0, 1, 3, 7, 30023 })
            Assert.True((await c.PublishAsync(keys.Sign(kind, "ok", kind >= 30000 ? [["d", "x"]] : null))).Accepted, $"kind {kind}");
        foreach (int kind in new[] { 2, 4, 1059, 30078, 40000 })
            Assert.Equal((false, $"blocked: events of kind {kind} are not accepted here"),
                await c.PublishAsync(keys.Sign(kind, "no", kind >= 30000 && kind < 40000 ? [["d", "x"]] : null)));
    }

    [Fact]
    public async Task Content_length_counts_characters_as_clients_do()
    {
        var keys = new TestKeys();
        await using var relay = TestRelay.Start(c => c.Relay.Limits.MaxContentLength = 10);
        await using var c = await relay.ConnectClientAsync();
        Assert.True((await c.PublishAsync(keys.Sign(1, "0123456789"))).Accepted);
        // Ten characters of two UTF-8 bytes each: 20 bytes, 10 characters.
        Assert.True((await c.PublishAsync(keys.Sign(1, "éééééééééé"))).Accepted);
        Assert.Equal((false, "invalid: content too long"), await c.PublishAsync(keys.Sign(1, "0123456789a")));
        // An emoji is two UTF-16 code units, as JavaScript counts it.
        Assert.Equal((false, "invalid: content too long"), await c.PublishAsync(keys.Sign(1, "012345678🎉")));
        var doc = await relay.Nip11Async();
        Assert.Equal(10, doc.GetProperty("limitation").GetProperty("max_content_length").GetInt32());
    }

    [Fact]
    public async Task Tag_count_tag_size_and_created_at_window_are_enforced()
    {
        var keys = new TestKeys();
        await using var relay = TestRelay.Start(c =>
        {
            c.Events.MaxNumTags = 3;
            c.Events.MaxTagValSize = 10;
            c.Events.RejectEventsNewerThanSeconds = 60;
            c.Events.RejectEventsOlderThanSeconds = 3600;
        });
        await using var c = await relay.ConnectClientAsync();
        Assert.True((await c.PublishAsync(keys.Sign(1, "", [["t", "a"], ["t", "b"], ["t", "0123456789"]]))).Accepted);
        Assert.Equal((false, "invalid: too many tags"), await c.PublishAsync(keys.Sign(1, "", [["t", "a"], ["t", "b"], ["t", "c"], ["t", "d"]])));
        Assert.Equal((false, "invalid: tag value too long"), await c.PublishAsync(keys.Sign(1, "", [["t", "0123456789a"]])));
        Assert.StartsWith("invalid: created_at", (await c.PublishAsync(keys.Sign(1, "future", createdAt: Now + 120))).Message);
        Assert.StartsWith("invalid: created_at", (await c.PublishAsync(keys.Sign(1, "past", createdAt: Now - 7200))).Message);
        var limitation = (await relay.Nip11Async()).GetProperty("limitation");
        Assert.Equal(3, limitation.GetProperty("max_event_tags").GetInt32());
        Assert.Equal(60, limitation.GetProperty("created_at_upper_limit").GetInt64());
    }

    [Fact]
    public async Task Filter_validation_follows_strfrys_rules_for_req_and_count()
    {
        var a = new TestKeys().PubKey;
        var b = new TestKeys().PubKey;
        await using var relay = TestRelay.Start(c =>
        {
            var fv = c.Relay.FilterValidation;
            fv.Enabled = true;
            fv.MaxFiltersPerReq = 2;
            fv.MinFiltersPerReq = 1;
            fv.MaxKindsPerFilter = 2;
            fv.AllowedKinds = "1, 7, 9735";
            fv.RequireAuthorOrTag = true;
        });
        await using var c = await relay.ConnectClientAsync();
        string byA = $"\"authors\":[\"{a}\"]";
        (string Filters, string? Refusal)[] cases =
        [
            ($"{{{byA}}}", null),
            ($"{{{byA},\"kinds\":[1,7]}}", null),
            ($"{{\"#p\":[\"{a}\"],\"kinds\":[9735]}}", null),
            ($"{{\"#e\":[\"{a}\"]}}", null),
            ($"{{{byA}}},{{\"#p\":[\"{b}\"]}}", null),
            ($"{{{byA}}},{{{byA}}},{{{byA}}}", "blocked: 3 filters in one request; this relay takes 1 to 2"),
            ($"{{{byA},\"kinds\":[]}}", "blocked: 0 filters in one request; this relay takes 1 to 2"),
            ($"{{{byA},\"kinds\":[1,7,9735]}}", "blocked: 3 kinds in one filter; this relay takes at most 2"),
            ($"{{{byA},\"kinds\":[4]}}", "blocked: kind 4 may not be requested here"),
            ("{\"kinds\":[1]}", "blocked: each filter must name exactly one author, #p or #e"),
            ($"{{\"authors\":[\"{a}\",\"{b}\"]}}", "blocked: each filter must name exactly one author, #p or #e"),
            ($"{{\"#t\":[\"nostr\"]}}", "blocked: each filter must name exactly one author, #p or #e"),
        ];
        int n = 0;
        foreach (var (filters, refusal) in cases)
        {
            var req = await c.QueryAsync("r" + ++n, filters);
            Assert.True(refusal == req.Closed, $"REQ {filters}: {req.Closed}");
            var count = await c.CountAsync("c" + n, filters);
            Assert.True(refusal == count.Closed, $"COUNT {filters}: {count.Closed}");
        }
    }

    [Fact]
    public async Task Nip11_limitation_lists_the_limits()
    {
        await using var relay = PolicyKit.StartWithAuth(c =>
        {
            c.Relay.Limits.MinPowDifficulty = 0;
            c.Relay.Limits.MaxContentLength = 0;
            c.Events.MaxEventSize = 70000;
        });
        var doc = await relay.Nip11Async();
        var nips = doc.GetProperty("supported_nips").EnumerateArray().Select(n => n.GetInt32()).ToList();
        Assert.Contains(42, nips);
        Assert.Contains(70, nips);
        Assert.DoesNotContain(13, nips);
        Assert.Equal(nips.Order(), nips);
        var l = doc.GetProperty("limitation");
        Assert.Equal(0, l.GetProperty("min_pow_difficulty").GetInt32());
        Assert.Equal(70000, l.GetProperty("max_content_length").GetInt32());
        Assert.False(l.GetProperty("auth_required").GetBoolean());
        Assert.False(l.GetProperty("restricted_writes").GetBoolean());
        foreach (string key in new[] { "max_message_length", "max_subscriptions", "max_limit", "max_subid_length", "max_event_tags", "created_at_lower_limit", "created_at_upper_limit", "payment_required" })
            Assert.True(l.TryGetProperty(key, out _), key);
        Assert.Equal(JsonValueKind.Object, l.ValueKind);
    }
}
