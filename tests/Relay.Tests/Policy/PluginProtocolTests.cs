using System.Buffers;
using System.Text;
using Relay.Server.Policy;

namespace Relay.Tests.Policy;

/// <summary>The bytes of strfry's plugin protocol: request lines out, answer lines in.</summary>
public class PluginProtocolTests
{
    private const string Id = "c9340dc62ab846806563e1335358f8fd283666907453da1688f6e62840680986";

    private static string Request(string eventJson, long receivedAt, EventSourceType source, string info, string? authed)
    {
        var w = new ArrayBufferWriter<byte>();
        PluginRequest.Write(w, Encoding.UTF8.GetBytes(eventJson), receivedAt, source, info, authed);
        return Encoding.UTF8.GetString(w.WrittenSpan);
    }

    [Fact]
    public void Request_line_has_strfry_key_order_with_the_event_verbatim()
    {
        Assert.Equal(
            "{\"event\":{\"id\":\"x\"},\"receivedAt\":1796157536,\"sourceInfo\":\"127.0.0.1\",\"sourceType\":\"IP4\",\"type\":\"new\"}\n",
            Request("{\"id\":\"x\"}", 1796157536, EventSourceType.IP4, "127.0.0.1", null));
        Assert.Equal(
            "{\"authed\":\"abc\",\"event\":{},\"receivedAt\":0,\"sourceInfo\":\"wss://r.example/\\\"q\\\"\",\"sourceType\":\"Stream\",\"type\":\"new\"}\n",
            Request("{}", 0, EventSourceType.Stream, "wss://r.example/\"q\"", "abc"));
    }

    [Theory]
    [InlineData("IP6")]
    [InlineData("Import")]
    [InlineData("Sync")]
    [InlineData("Stored")]
    public void Source_types_are_spelled_as_strfry_spells_them(string name) =>
        Assert.Contains($"\"sourceType\":\"{name}\"", Request("{}", 1, Enum.Parse<EventSourceType>(name), "", null));

    [Fact]
    public void Answer_is_read_with_its_id_action_and_message()
    {
        var r = PluginResponse.Parse(Encoding.UTF8.GetBytes($"{{\"msg\":\"blocked: caf\\u00e9\",\"id\":\"{Id}\",\"action\":\"reject\",\"extra\":[1]}}"));
        Assert.True(r.IsAnswer);
        Assert.True(r.HasId);
        Assert.Equal(Id, r.Id.ToString());
        Assert.Equal(PolicyAction.Reject, r.Action);
        Assert.Equal("blocked: café", r.Message);

        var shadow = PluginResponse.Parse(Encoding.UTF8.GetBytes($"{{\"id\":\"{Id}\",\"action\":\"shadowReject\"}} "));
        Assert.True(shadow.IsAnswer);
        Assert.Equal(PolicyAction.ShadowReject, shadow.Action);
        Assert.Equal("", shadow.Message);
    }

    [Theory]
    [InlineData("hello")]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    [InlineData("{\"id\":")]
    [InlineData("{\"action\":\"accept\"} {}")]
    [InlineData("{\"action\":\"accept\"} trailing")]
    public void Line_that_is_not_one_json_object_is_not_an_answer(string line) =>
        Assert.False(PluginResponse.Parse(Encoding.UTF8.GetBytes(line)).IsAnswer);

    [Theory]
    [InlineData("{\"action\":\"accept\"}")]
    [InlineData("{\"id\":42,\"action\":\"accept\"}")]
    [InlineData("{\"id\":\"C9340DC62AB846806563E1335358F8FD283666907453DA1688F6E62840680986\",\"action\":\"accept\"}")]
    [InlineData("{\"id\":\"c9340d\",\"action\":\"accept\"}")]
    public void Answer_without_a_usable_id_matches_no_event(string line)
    {
        var r = PluginResponse.Parse(Encoding.UTF8.GetBytes(line));
        Assert.True(r.IsAnswer);
        Assert.False(r.HasId);
    }

    [Theory]
    [InlineData("\"maybe\"")]
    [InlineData("\"Accept\"")]
    [InlineData("1")]
    public void Unknown_action_is_not_taken_for_any_action(string action)
    {
        var r = PluginResponse.Parse(Encoding.UTF8.GetBytes($"{{\"id\":\"{Id}\",\"action\":{action}}}"));
        Assert.True(r.IsAnswer);
        Assert.Null(r.Action);
    }

    [Theory]
    [InlineData("", "blocked: rejected by write policy")]
    [InlineData("not on the list", "blocked: not on the list")]
    [InlineData("blocked: not on the list", "blocked: not on the list")]
    [InlineData("rate-limited: slow down", "rate-limited: slow down")]
    [InlineData("Note: shouting", "blocked: Note: shouting")]
    [InlineData("see https://x", "blocked: see https://x")]
    public void Refusal_keeps_its_own_prefix_or_gets_blocked(string message, string expected) =>
        Assert.Equal(expected, WritePolicyGate.WithPrefix(message));
}
