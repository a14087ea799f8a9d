using BenchmarkDotNet.Attributes;
using Relay.Native.Protocol;

namespace Relay.Benchmarks;

/// <summary>
/// ClientMessageReader.TryRead: the envelope check every incoming WebSocket text message goes through
/// before the event or the filters are looked at.
/// </summary>
[MemoryDiagnoser]
public class ClientMessageReaderBenchmarks
{
    private byte[] _eventMessage = [];
    private byte[] _reqMessage = [];

    [GlobalSetup]
    public void Setup()
    {
        _eventMessage = SampleMessages.EventMessage(SampleEvents.SignedNote(1));
        _reqMessage = SampleMessages.ReqWithThreeFilters(authors: 20);
        if (Read(_eventMessage) <= 0 || Read(_reqMessage) <= 0) throw new InvalidOperationException("sample message refused");
    }

    [Benchmark]
    public int Event_message_700_bytes() => Read(_eventMessage);

    [Benchmark]
    public int Req_with_3_filters() => Read(_reqMessage);

    private static int Read(byte[] message)
    {
        if (!ClientMessageReader.TryRead(message, out ClientMessage msg, out _)) return -1;
        return msg.EventJson.Length + msg.FiltersJson.Length + msg.SubscriptionIdRaw.Length;
    }
}
