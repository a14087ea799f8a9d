using System.Text.Json;
using Relay.Tests.Integration;

namespace Relay.Tests.Policy;

/// <summary>
/// Private DMs (relay.auth.restrictedReadKinds, default 4 and 1059): the author and the p-tagged
/// recipients read them, by REQ, COUNT and live; nobody else can read or count them by any path.
/// </summary>
public class RestrictedReadTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(400);

    /// <summary>
    /// Who is who: alice and bob write to each other; carol writes to dave; eve is nobody's
    /// correspondent; a gift wrap (signed by a throwaway key) goes to bob.
    /// </summary>
    private sealed class Cast
    {
        public readonly TestKeys Alice = new(), Bob = new(), Carol = new(), Dave = new(), Eve = new(), Wrapper = new();

        public List<TestEvent> Events(string tag) =>
        [
            Alice.Sign(1, "note " + tag, [["p", Bob.PubKey]]),
            Alice.Sign(4, "alice to bob " + tag, [["p", Bob.PubKey]]),
            Bob.Sign(4, "bob to alice " + tag, [["p", Alice.PubKey]]),
            Wrapper.Sign(1059, "wrap for bob " + tag, [["p", Bob.PubKey]]),
            Carol.Sign(4, "carol to dave " + tag, [["p", Dave.PubKey]]),
            Carol.Sign(1, "carol's note " + tag),
        ];
    }

    /// <summary>A reader: the pubkeys its connection authenticated as (none, one, or two).</summary>
    private sealed record Reader(string Name, TestKeys[] Keys);

    private static Reader[] Readers(Cast c) =>
    [
        new("unauthenticated", []),
        new("eve", [c.Eve]),
        new("alice", [c.Alice]),
        new("bob", [c.Bob]),
        new("eve+carol", [c.Eve, c.Carol]),
        new("wrapper key", [c.Wrapper]),
    ];

    private static bool IsRestricted(TestEvent e) => e.Kind is 4 or 1059;

    private static bool MayRead(Reader r, TestEvent e, Func<TestEvent, string[]> pTags) =>
        !IsRestricted(e) || r.Keys.Any(k => k.PubKey == e.PubKey || pTags(e).Contains(k.PubKey));

    /// <summary>Filters (JSON) and which events each matches, restrictions aside.</summary>
    private static (string Filter, Func<TestEvent, bool> Matches, bool OnlyRestrictedKinds)[] Filters(Cast c, IReadOnlyList<TestEvent> evs, Func<TestEvent, string[]> pTags)
    {
        string Ids(params TestEvent[] es) => string.Join(',', es.Select(e => $"\"{e.Id}\""));
        var restricted = evs.Where(IsRestricted).ToArray();
        return
        [
            ("{\"kinds\":[4]}", e => e.Kind == 4, true),
            ("{\"kinds\":[4,1059]}", e => e.Kind is 4 or 1059, true),
            ($"{{\"kinds\":[4],\"authors\":[\"{c.Alice.PubKey}\"]}}", e => e.Kind == 4 && e.PubKey == c.Alice.PubKey, true),
            ("{\"kinds\":[1,4]}", e => e.Kind is 1 or 4, false),
            ("{}", _ => true, false),
            ($"{{\"ids\":[{Ids(restricted)}]}}", e => restricted.Contains(e), false),
            ($"{{\"#p\":[\"{c.Bob.PubKey}\"]}}", e => pTags(e).Contains(c.Bob.PubKey), false),
            ($"{{\"#p\":[\"{c.Dave.PubKey}\"]}}", e => pTags(e).Contains(c.Dave.PubKey), false),
            ($"{{\"authors\":[\"{c.Alice.PubKey}\",\"{c.Carol.PubKey}\"]}}", e => e.PubKey == c.Alice.PubKey || e.PubKey == c.Carol.PubKey, false),
            ($"{{\"authors\":[\"{c.Wrapper.PubKey}\"]}}", e => e.PubKey == c.Wrapper.PubKey, false),
        ];
    }

    private static Func<TestEvent, string[]> PTags(IEnumerable<TestEvent> evs)
    {
        var map = evs.ToDictionary(e => e.Id, e =>
        {
            using var doc = JsonDocument.Parse(e.Json);
            return doc.RootElement.GetProperty("tags").EnumerateArray()
                .Where(t => t[0].GetString() == "p").Select(t => t[1].GetString()!).ToArray();
        });
        return e => map[e.Id];
    }

    private static string WithSince(string filter, long since) =>
        filter[..^1] + (filter == "{}" ? "" : ",") + "\"since\":" + since + "}";

    private static async Task<PolicyClient> ConnectAs(TestRelay relay, Reader reader)
    {
        var client = await relay.ConnectClientAsync();
        foreach (var keys in reader.Keys) await client.LoginAsync(keys);
        return client;
    }

    [Fact]
    public async Task Nobody_but_author_and_recipients_reads_or_counts_dms_by_req_or_count_whatever_the_filter()
    {
        await using var relay = PolicyKit.StartWithAuth();
        var cast = new Cast();
        var events = cast.Events("stored");
        await using (var w = await relay.ConnectClientAsync())
            foreach (var e in events) Assert.True((await w.PublishAsync(e)).Accepted);
        var pTags = PTags(events);
        var filters = Filters(cast, events, pTags);

        var failures = new List<string>();
        foreach (var reader in Readers(cast))
        {
            await using var client = await ConnectAs(relay, reader);
            bool authenticated = reader.Keys.Length > 0;
            int n = 0;
            foreach (var (filter, matches, onlyRestricted) in filters)
            {
                n++;
                var expected = events.Where(e => matches(e) && MayRead(reader, e, pTags)).Select(e => e.Id).Order().ToList();
                bool refused = onlyRestricted && !authenticated;

                var req = await client.QueryAsync("r" + n, filter);
                if (refused)
                {
                    if (req.Closed is null || !req.Closed.StartsWith("auth-required: ", StringComparison.Ordinal))
                        failures.Add($"{reader.Name} REQ {filter}: expected auth-required, got {req.Closed ?? "events"}");
                }
                else if (req.Closed is not null || !req.Ids.Order().SequenceEqual(expected))
                {
                    failures.Add($"{reader.Name} REQ {filter}: expected [{string.Join(",", expected.Select(Short))}] got [{string.Join(",", req.Ids.Select(Short))}] {req.Closed}");
                }

                var count = await client.CountAsync("c" + n, filter);
                if (refused)
                {
                    if (count.Closed is null || !count.Closed.StartsWith("auth-required: ", StringComparison.Ordinal))
                        failures.Add($"{reader.Name} COUNT {filter}: expected auth-required, got {count.Count}");
                }
                else if (count.Count != expected.Count)
                {
                    failures.Add($"{reader.Name} COUNT {filter}: expected {expected.Count}, got {count.Count?.ToString() ?? count.Closed}");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));

        string Short(string id) => events.First(e => e.Id == id).Content;
    }

    [Fact]
    public async Task Nobody_but_author_and_recipients_receives_dms_live()
    {
        await using var relay = PolicyKit.StartWithAuth();
        var cast = new Cast();
        var probe = cast.Events("probe");
        var pTags = PTags(probe);
        var filters = Filters(cast, probe, pTags);
        var readers = Readers(cast);

        // Every reader opens every filter it may open, before the events exist.
        var clients = new List<(Reader Reader, PolicyClient Client, Dictionary<string, int> Subs)>();
        foreach (var reader in readers)
        {
            var client = await ConnectAs(relay, reader);
            var subs = new Dictionary<string, int>();
            for (int i = 0; i < filters.Length; i++)
            {
                if (filters[i].OnlyRestrictedKinds && reader.Keys.Length == 0) continue;
                // ids filters name ids that do not exist yet; they are checked by REQ above.
                if (filters[i].Filter.Contains("\"ids\"", StringComparison.Ordinal)) continue;
                var r = await client.ReqAsync("s" + i, WithSince(filters[i].Filter, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5));
                Assert.Null(r.Closed);
                Assert.Empty(r.Events);
                subs["s" + i] = i;
            }
            clients.Add((reader, client, subs));
        }

        var live = cast.Events("live");
        var livePTags = PTags(live);
        await using (var w = await relay.ConnectClientAsync())
            foreach (var e in live) Assert.True((await w.PublishAsync(e)).Accepted);
        var liveFilters = Filters(cast, live, livePTags);

        var failures = new List<string>();
        foreach (var (reader, client, subs) in clients)
        {
            var expected = new HashSet<(string, string)>();
            foreach (var (sub, i) in subs)
                foreach (var e in live.Where(e => liveFilters[i].Matches(e) && MayRead(reader, e, livePTags)))
                    expected.Add((sub, e.Id));
            var got = new HashSet<(string, string)>();
            try
            {
                while (!expected.IsSubsetOf(got))
                {
                    var m = await client.NextAsync(TimeSpan.FromSeconds(5));
                    got.Add((m[1].GetString()!, m[2].GetProperty("id").GetString()!));
                }
                while (true)
                {
                    var m = await client.NextAsync(Quiet);
                    got.Add((m[1].GetString()!, m[2].GetProperty("id").GetString()!));
                }
            }
            catch (OperationCanceledException)
            {
            }
            foreach (var (sub, id) in got.Except(expected))
                failures.Add($"{reader.Name} got {live.First(e => e.Id == id).Content} on {filters[subs[sub]].Filter}");
            foreach (var (sub, id) in expected.Except(got))
                failures.Add($"{reader.Name} missed {live.First(e => e.Id == id).Content} on {filters[subs[sub]].Filter}");
            await client.DisposeAsync();
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Authenticating_opens_dms_to_a_subscription_that_was_already_open()
    {
        await using var relay = PolicyKit.StartWithAuth();
        var cast = new Cast();
        await using var bob = await relay.ConnectClientAsync();
        // Mixed kinds: allowed unauthenticated, DMs left out, and a challenge offered.
        var r = await bob.ReqAsync("mixed", "{\"kinds\":[1,4],\"since\":" + (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5) + "}");
        Assert.Null(r.Closed);
        Assert.NotNull(bob.Challenge);
        var (accepted, message) = await bob.AuthAsync(bob.AuthEvent(cast.Bob));
        Assert.True(accepted, message);

        await using var w = await relay.ConnectClientAsync();
        var dm = cast.Alice.Sign(4, "live dm", [["p", cast.Bob.PubKey]]);
        Assert.True((await w.PublishAsync(dm)).Accepted);
        var m = await bob.ExpectAsync("EVENT");
        Assert.Equal(dm.Id, m[2].GetProperty("id").GetString());
    }

    [Fact]
    public async Task Limit_counts_only_events_the_reader_may_see()
    {
        await using var relay = PolicyKit.StartWithAuth();
        var cast = new Cast();
        await using var w = await relay.ConnectClientAsync();
        long t = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var note = cast.Alice.Sign(1, "older public note", createdAt: t - 10);
        Assert.True((await w.PublishAsync(note)).Accepted);
        for (int i = 0; i < 3; i++)
            Assert.True((await w.PublishAsync(cast.Carol.Sign(4, "newer dm " + i, [["p", cast.Dave.PubKey]], t - i))).Accepted);

        var r = await w.QueryAsync("l", "{\"limit\":1}");
        Assert.Equal([note.Id], r.Ids);
    }

    [Fact]
    public async Task With_restrict_read_to_involved_pubkey_off_any_authenticated_pubkey_reads_dms()
    {
        await using var relay = PolicyKit.StartWithAuth(c => c.Relay.Auth.RestrictReadToInvolvedPubkey = false);
        var cast = new Cast();
        await using var w = await relay.ConnectClientAsync();
        var dm = cast.Carol.Sign(4, "dm", [["p", cast.Dave.PubKey]]);
        Assert.True((await w.PublishAsync(dm)).Accepted);
        Assert.Empty((await w.QueryAsync("u", "{}")).Events);

        await using var eve = await relay.ConnectClientAsync();
        await eve.LoginAsync(cast.Eve);
        Assert.Equal([dm.Id], (await eve.QueryAsync("e", "{\"kinds\":[4]}")).Ids);
    }

    [Fact]
    public async Task Without_auth_restricted_kinds_are_served_to_nobody_and_a_req_for_them_is_restricted()
    {
        await using var relay = TestRelay.Start();   // strfry's defaults: restricted kinds, no serviceUrl
        var cast = new Cast();
        await using var c = await relay.ConnectClientAsync();
        var dm = cast.Alice.Sign(4, "dm", [["p", cast.Bob.PubKey]]);
        Assert.True((await c.PublishAsync(dm)).Accepted);
        var r = await c.QueryAsync("q", "{\"kinds\":[4]}");
        Assert.StartsWith("restricted: ", r.Closed);
        Assert.Null(c.Challenge);
        Assert.Empty((await c.QueryAsync("all", "{}")).Events);
        Assert.Equal(0, (await c.CountAsync("n", "{}")).Count);
    }

    [Fact]
    public async Task Empty_restricted_kinds_serve_dms_to_everyone()
    {
        await using var relay = TestRelay.Start(c => c.Relay.Auth.RestrictedReadKinds = "");
        var cast = new Cast();
        await using var c = await relay.ConnectClientAsync();
        var dm = cast.Alice.Sign(4, "dm", [["p", cast.Bob.PubKey]]);
        Assert.True((await c.PublishAsync(dm)).Accepted);
        Assert.Equal([dm.Id], (await c.QueryAsync("q", "{\"kinds\":[4]}")).Ids);
    }
}
