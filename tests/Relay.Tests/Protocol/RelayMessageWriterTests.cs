using System.Buffers;
using System.Text;
using System.Text.Json;
using Relay.Native.Protocol;

namespace Relay.Tests.Protocol;

public class RelayMessageWriterTests
{
    private static readonly byte[] Id = Convert.FromHexString("9eb62749da52938aa66ac7482de68f2c044ce86f0f0256d39f5ccfcc109eafc2");

    private static string Write(Action<ArrayBufferWriter<byte>> write)
    {
        var w = new ArrayBufferWriter<byte>();
        write(w);
        return Encoding.UTF8.GetString(w.WrittenSpan);
    }

    private static byte[] U(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void Ok_names_the_event_and_carries_the_message()
    {
        Assert.Equal("""["OK","9eb62749da52938aa66ac7482de68f2c044ce86f0f0256d39f5ccfcc109eafc2",true,""]""",
            Write(w => RelayMessageWriter.Ok(w, Id, true, "")));
        Assert.Equal("""["OK","9eb62749da52938aa66ac7482de68f2c044ce86f0f0256d39f5ccfcc109eafc2",false,"invalid: bad event id"]""",
            Write(w => RelayMessageWriter.Ok(w, Id, false, "invalid: bad event id")));
    }

    [Fact]
    public void Message_text_is_escaped()
    {
        string message = "blocked: \"quoted\" \\ back\nline\ttab\u0001\u001f\u007f é 😀 /";

        string written = Write(w => RelayMessageWriter.Notice(w, message));

        Assert.Equal("[\"NOTICE\",\"blocked: \\\"quoted\\\" \\\\ back\\nline\\ttab\\u0001\\u001f\u007f é 😀 /\"]", written);
        Assert.Equal(message, JsonDocument.Parse(written).RootElement[1].GetString());
    }

    [Fact]
    public void Lone_surrogate_in_a_message_still_gives_valid_json()
    {
        string written = Write(w => RelayMessageWriter.Notice(w, "a\ud800b"));

        Assert.Equal("a\ufffdb", JsonDocument.Parse(written).RootElement[1].GetString());
    }

    [Fact]
    public void Long_message_is_written_whole()
    {
        string message = "error: " + new string('x', 5000) + "\"";

        string written = Write(w => RelayMessageWriter.Closed(w, U("s"), message));

        Assert.Equal(message, JsonDocument.Parse(written).RootElement[2].GetString());
    }

    [Fact]
    public void Subscription_replies_echo_the_raw_subscription_id()
    {
        byte[] sub = U("""a\"b\u0001""");

        Assert.Equal("""["EVENT","a\"b\u0001",""", Write(w => RelayMessageWriter.EventPrefix(w, sub)));
        Assert.Equal("""["EVENT","a\"b\u0001",{"id":"x"}]""", Write(w => RelayMessageWriter.Event(w, sub, U("""{"id":"x"}"""))));
        Assert.Equal("""["EOSE","a\"b\u0001"]""", Write(w => RelayMessageWriter.Eose(w, sub)));
        Assert.Equal("""["CLOSED","a\"b\u0001","invalid: bad filter"]""", Write(w => RelayMessageWriter.Closed(w, sub, "invalid: bad filter")));
        Assert.Equal("""["COUNT","a\"b\u0001",{"count":1234567890123}]""", Write(w => RelayMessageWriter.Count(w, sub, 1234567890123)));
        Assert.Equal("""["COUNT","a\"b\u0001",{"count":0}]""", Write(w => RelayMessageWriter.Count(w, sub, 0)));
    }

    [Fact]
    public void Auth_carries_the_challenge()
    {
        Assert.Equal("""["AUTH","c\"h"]""", Write(w => RelayMessageWriter.Auth(w, "c\"h")));
    }

    [Fact]
    public void Ok_eose_and_event_prefix_allocate_nothing_on_a_reused_writer()
    {
        var w = new ArrayBufferWriter<byte>(4096);
        byte[] sub = U("feed");
        for (int i = 0; i < 100; i++) WriteReplies(w, sub);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) WriteReplies(w, sub);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.StartsWith("[\"OK\",", Encoding.UTF8.GetString(w.WrittenSpan));
    }

    private static void WriteReplies(ArrayBufferWriter<byte> w, byte[] sub)
    {
        w.ResetWrittenCount();
        RelayMessageWriter.Ok(w, Id, false, "duplicate: have this event");
        RelayMessageWriter.EventPrefix(w, sub);
        RelayMessageWriter.Eose(w, sub);
        RelayMessageWriter.Count(w, sub, 42);
        RelayMessageWriter.Closed(w, sub, "error: shutting down");
    }
}
