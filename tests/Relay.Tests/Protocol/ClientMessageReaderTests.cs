using System.Text;
using Relay.Native.Protocol;

namespace Relay.Tests.Protocol;

public class ClientMessageReaderTests
{
    private sealed record Read(bool Ok, ClientVerb Verb, string EventJson, string SubscriptionIdRaw, string FiltersJson, bool ReplyWithClosed, string? Notice);

    private static Read TryRead(string message) => TryRead(Encoding.UTF8.GetBytes(message));

    private static Read TryRead(byte[] message)
    {
        bool ok = ClientMessageReader.TryRead(message, out var msg, out string? notice);
        return new Read(ok, msg.Verb, Encoding.UTF8.GetString(msg.EventJson), Encoding.UTF8.GetString(msg.SubscriptionIdRaw),
            Encoding.UTF8.GetString(msg.FiltersJson), msg.ReplyWithClosed, notice);
    }

    [Fact]
    public void Event_message_yields_the_exact_bytes_of_the_event_object()
    {
        var r = TryRead("""[ "EVENT" , {"id":"x","tags":[["a","]"]],"content":"}"} ] """);

        Assert.True(r.Ok, r.Notice);
        Assert.Equal(ClientVerb.Event, r.Verb);
        Assert.Equal("""{"id":"x","tags":[["a","]"]],"content":"}"}""", r.EventJson);
        Assert.Null(r.Notice);
    }

    [Fact]
    public void Auth_message_yields_its_event()
    {
        var r = TryRead("""["AUTH",{"kind":22242}]""");

        Assert.True(r.Ok);
        Assert.Equal(ClientVerb.Auth, r.Verb);
        Assert.Equal("""{"kind":22242}""", r.EventJson);
    }

    [Theory]
    [InlineData("""["REQ","sub"]""", ClientVerb.Req, "")]
    [InlineData("""["REQ","sub",{}]""", ClientVerb.Req, "{}")]
    [InlineData("""["REQ","sub", {"kinds":[1]} ,{"#e":["}"]}, {"limit":5}]""", ClientVerb.Req, """{"kinds":[1]} ,{"#e":["}"]}, {"limit":5}""")]
    [InlineData("""["COUNT","sub",{"kinds":[7]}]""", ClientVerb.Count, """{"kinds":[7]}""")]
    public void Req_and_count_yield_subscription_id_and_filter_bytes(string message, ClientVerb verb, string filters)
    {
        var r = TryRead(message);

        Assert.True(r.Ok, r.Notice);
        Assert.Equal(verb, r.Verb);
        Assert.Equal("sub", r.SubscriptionIdRaw);
        Assert.Equal(filters, r.FiltersJson);
    }

    [Fact]
    public void Close_yields_the_subscription_id()
    {
        var r = TryRead("""["CLOSE","sub-1"]""");

        Assert.True(r.Ok);
        Assert.Equal(ClientVerb.Close, r.Verb);
        Assert.Equal("sub-1", r.SubscriptionIdRaw);
    }

    [Theory]
    [InlineData("""["REQ","\u0061\"b",{}]""", """\u0061\"b""")]
    [InlineData("""["REQ","\ud83d\ude00",{}]""", """\ud83d\ude00""")]
    [InlineData("""["REQ","日本語",{}]""", "日本語")]
    public void Subscription_id_is_kept_raw_as_sent(string message, string raw)
    {
        var r = TryRead(message);

        Assert.True(r.Ok, r.Notice);
        Assert.Equal(raw, r.SubscriptionIdRaw);
    }

    [Fact]
    public void Subscription_id_may_have_64_characters_counted_after_unescaping()
    {
        string ascii = new('a', 64);
        string emoji = string.Concat(Enumerable.Repeat("\U0001F600", 64));               // 256 bytes, 64 characters
        string escaped = string.Concat(Enumerable.Repeat("\\ud83d\\ude00", 64));        // 768 bytes raw

        Assert.True(TryRead($$"""["REQ","{{ascii}}",{}]""").Ok);
        Assert.True(TryRead($$"""["REQ","{{emoji}}",{}]""").Ok);
        Assert.True(TryRead($$"""["REQ","{{escaped}}",{}]""").Ok);
        Assert.False(TryRead($$"""["REQ","{{ascii}}a",{}]""").Ok);
        Assert.False(TryRead($$"""["REQ","{{emoji}}a",{}]""").Ok);
        Assert.False(TryRead($$"""["REQ","{{escaped}}a",{}]""").Ok);
    }

    [Theory]
    [InlineData("""["REQ","",{}]""")]
    [InlineData("""["REQ","a\u0001b",{}]""")]
    [InlineData("""["REQ","a\nb",{}]""")]
    [InlineData("""["REQ","a\u007fb",{}]""")]
    [InlineData("""["REQ","\ud800",{}]""")]
    public void Req_with_a_bad_subscription_id_is_answered_with_closed(string message)
    {
        var r = TryRead(message);

        Assert.False(r.Ok);
        Assert.Equal(ClientVerb.Req, r.Verb);
        Assert.True(r.ReplyWithClosed);
        Assert.Equal(ClientMessageReader.BadSubscriptionId, r.Notice);
        Assert.Equal(message[8..message.IndexOf("\",{", StringComparison.Ordinal)], r.SubscriptionIdRaw);
    }

    [Fact]
    public void Req_with_a_filter_that_is_not_an_object_is_answered_with_closed()
    {
        var r = TryRead("""["REQ","s",{"kinds":[1]},[1]]""");

        Assert.False(r.Ok);
        Assert.True(r.ReplyWithClosed);
        Assert.Equal("s", r.SubscriptionIdRaw);
        Assert.Equal(ClientMessageReader.FilterNotObject, r.Notice);
        Assert.Equal("", r.FiltersJson);
    }

    [Fact]
    public void Deep_nesting_inside_a_filter_is_answered_with_closed()
    {
        var r = TryRead("""["REQ","s",{"x":""" + new string('[', 10000) + new string(']', 10000) + "}]");

        Assert.False(r.Ok);
        Assert.True(r.ReplyWithClosed);
        Assert.Equal("s", r.SubscriptionIdRaw);
        Assert.Equal(ClientMessageReader.NotJson, r.Notice);
    }

    [Fact]
    public void A_huge_subscription_id_is_not_echoed()
    {
        var r = TryRead($$"""["REQ","{{new string('a', 5000)}}",{}]""");

        Assert.False(r.Ok);
        Assert.False(r.ReplyWithClosed);
        Assert.Equal("", r.SubscriptionIdRaw);
    }

    public static TheoryData<string, string> BadMessages => new()
    {
        { "", ClientMessageReader.NotJson },
        { "hello", ClientMessageReader.NotJson },
        { "{\"EVENT\":1}", ClientMessageReader.NotAnArray },
        { "\"EVENT\"", ClientMessageReader.NotAnArray },
        { "42", ClientMessageReader.NotAnArray },
        { "[]", ClientMessageReader.EmptyArray },
        { "[", ClientMessageReader.NotJson },
        { "[1]", ClientMessageReader.VerbNotString },
        { "[null,{}]", ClientMessageReader.VerbNotString },
        { "[[\"EVENT\"]]", ClientMessageReader.VerbNotString },
        { new string('[', 10000) + new string(']', 10000), ClientMessageReader.VerbNotString },
        { "[\"EVENT\"]", ClientMessageReader.EventNotObject },
        { "[\"EVENT\",1]", ClientMessageReader.EventNotObject },
        { "[\"EVENT\",\"{}\"]", ClientMessageReader.EventNotObject },
        { "[\"EVENT\",{},{}]", ClientMessageReader.EventNotObject },
        { "[\"EVENT\",{\"a\":" + new string('[', 10000) + "}]", ClientMessageReader.NotJson },
        { "[\"EVENT\",{\"a\":1}", ClientMessageReader.NotJson },
        { "[\"EVENT\",{}] x", ClientMessageReader.NotJson },
        { "[\"EVENT\",{}][]", ClientMessageReader.NotJson },
        { "[\"AUTH\",\"challenge\"]", ClientMessageReader.AuthNotObject },
        { "[\"REQ\"]", ClientMessageReader.SubscriptionIdNotString },
        { "[\"REQ\",1,{}]", ClientMessageReader.SubscriptionIdNotString },
        { "[\"REQ\",null]", ClientMessageReader.SubscriptionIdNotString },
        { "[\"COUNT\",{}]", ClientMessageReader.SubscriptionIdNotString },
        { "[\"CLOSE\"]", ClientMessageReader.SubscriptionIdNotString },
        { "[\"CLOSE\",1]", ClientMessageReader.SubscriptionIdNotString },
        { "[\"CLOSE\",\"\"]", ClientMessageReader.BadSubscriptionId },
        { "[\"CLOSE\",\"s\",\"t\"]", ClientMessageReader.CloseShape },
        { "[\"CLOSE\",\"s\"] garbage", ClientMessageReader.NotJson },
        { "[\"REQ\",\"s\",{}] {}", ClientMessageReader.NotJson },
        { "[\"REQ\",\"s\",{\"limit\":1e99999}, 99999999999999999999999999999]", ClientMessageReader.FilterNotObject },
        { "[\"event\",{}]", "invalid: unknown message type: event" },
        { "[\"NEG-OPEN\",\"s\",{},\"61\"]", "invalid: unknown message type: NEG-OPEN" },
        { "[\"" + new string('X', 100) + "\"]", "invalid: unknown message type: " + new string('X', 32) + "..." },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public void Bad_message_is_refused_with_a_notice(string message, string notice)
    {
        var r = TryRead(message);

        Assert.False(r.Ok);
        Assert.Equal(notice, r.Notice);
        Assert.Equal("", r.EventJson);
        Assert.Equal("", r.FiltersJson);
    }

    [Fact]
    public void Huge_numbers_in_filters_pass_the_envelope_and_are_left_to_the_filter_parser()
    {
        var r = TryRead("""["REQ","s",{"limit":1e99999,"since":123456789012345678901234567890}]""");

        Assert.True(r.Ok, r.Notice);
        Assert.Equal("""{"limit":1e99999,"since":123456789012345678901234567890}""", r.FiltersJson);
    }

    [Fact]
    public void Invalid_utf8_is_refused()
    {
        byte[] message = Encoding.UTF8.GetBytes("""["REQ","sXb",{}]""");
        message[8] = 0xFF;

        var r = TryRead(message);

        Assert.False(r.Ok);
        Assert.StartsWith("invalid: ", r.Notice);
    }

    [Fact]
    public void Reading_valid_messages_allocates_nothing()
    {
        byte[] req = Encoding.UTF8.GetBytes("""["REQ","feed",{"kinds":[1],"limit":50},{"authors":["aa"],"#e":["x"]}]""");
        byte[] ev = Encoding.UTF8.GetBytes("""["EVENT",{"id":"x","tags":[["p","y"]],"content":"hi \"there\""}]""");
        byte[] close = Encoding.UTF8.GetBytes("""["CLOSE","\u0066eed"]""");
        for (int i = 0; i < 100; i++) ReadAll(req, ev, close);

        long before = GC.GetAllocatedBytesForCurrentThread();
        int ok = 0;
        for (int i = 0; i < 1000; i++) ok += ReadAll(req, ev, close);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(3000, ok);
        Assert.Equal(0, allocated);
    }

    private static int ReadAll(byte[] a, byte[] b, byte[] c)
    {
        int ok = 0;
        if (ClientMessageReader.TryRead(a, out var m, out _) && m.FiltersJson.Length > 0) ok++;
        if (ClientMessageReader.TryRead(b, out m, out _) && m.EventJson.Length > 0) ok++;
        if (ClientMessageReader.TryRead(c, out m, out _) && m.SubscriptionIdRaw.Length > 0) ok++;
        return ok;
    }
}
