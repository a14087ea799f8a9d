using System.Text;
using Relay.Server.Commands;
using Relay.Server.Policy;
using Relay.Tests.Integration;

namespace Relay.Tests.Commands;

/// <summary>The write-policy seam of import: asked per verified event, before the write, with sourceType Import.</summary>
public class ImportPolicyTests
{
    private sealed class ContentPolicy : IEventPolicy
    {
        public List<PolicyRequest> Asked { get; } = new();

        public async ValueTask<PolicyVerdict> CheckAsync(PolicyRequest request, CancellationToken cancellationToken)
        {
            await Task.Yield();   // a plugin answers asynchronously
            Asked.Add(request with { EventJson = request.EventJson.ToArray() });
            string json = Encoding.UTF8.GetString(request.EventJson.Span);
            if (json.Contains("\"content\":\"no\"", StringComparison.Ordinal)) return new PolicyVerdict(PolicyAction.Reject, "blocked: not here");
            if (json.Contains("\"content\":\"shh\"", StringComparison.Ordinal)) return new PolicyVerdict(PolicyAction.ShadowReject, "");
            return PolicyVerdict.Accept;
        }
    }

    [Fact]
    public async Task Import_asks_the_policy_about_each_verified_event_and_stores_only_accepted_ones()
    {
        using var db = new TempDb();
        var keys = new TestKeys();
        var yes = keys.Sign(1, "yes");
        var no = keys.Sign(1, "no");
        var shh = keys.Sign(1, "shh");
        var input = new MemoryStream(Encoding.UTF8.GetBytes(string.Join("\n", yes.Json, no.Json, shh.Json, keys.Sign(1, "x").WithField("sig", "\"" + new string('0', 128) + "\""))));

        var policy = new ContentPolicy();
        var tally = new ImportTally();
        using (var store = CommandTestKit.OpenStore(db.DbDir))
        {
            await new Importer(store, new ImportOptions { Policy = policy, SourceInfo = "events.jsonl" }, tally).RunAsync(input, CancellationToken.None);
            using var view = store.BeginRead();
            Assert.True(view.ContainsId(Convert.FromHexString(yes.Id)));
            Assert.False(view.ContainsId(Convert.FromHexString(no.Id)));
            Assert.False(view.ContainsId(Convert.FromHexString(shh.Id)));
        }
        Assert.Equal(1, tally.StoredCount);
        Assert.Equal(3, tally.RejectedCount);
        var reasons = tally.ByReason().ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(1, reasons["blocked: not here"]);
        Assert.Equal(1, reasons["invalid: bad signature"]);
        Assert.Equal(1, reasons["shadowReject by the write policy"]);
        // Events with a bad signature never reach the policy.
        Assert.Equal(3, policy.Asked.Count);
        Assert.All(policy.Asked, r => Assert.Equal(EventSourceType.Import, r.Source));
        Assert.All(policy.Asked, r => Assert.Equal("events.jsonl", r.SourceInfo));
    }
}
