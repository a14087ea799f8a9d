using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Relay.Native.Protocol;

namespace Relay.Benchmarks;

/// <summary>
/// RelayMessageWriter into a reused ArrayBufferWriter, the way the server writes replies into its
/// per-thread scratch buffer: OK per EVENT, EVENT per stored or live event sent, EOSE per REQ.
/// </summary>
[MemoryDiagnoser]
public class RelayMessageWriterBenchmarks
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly byte[] _id = new byte[32];
    private byte[] _subIdRaw = [];
    private byte[] _eventJson = [];

    [GlobalSetup]
    public void Setup()
    {
        SampleEvents.Key(1).Span.CopyTo(_id);
        _subIdRaw = Encoding.UTF8.GetBytes(SampleMessages.SubscriptionId);
        _eventJson = SampleEvents.SignedNote(1);
    }

    [Benchmark]
    public int Ok_accepted()
    {
        _buffer.ResetWrittenCount();
        RelayMessageWriter.Ok(_buffer, _id, accepted: true, "");
        return _buffer.WrittenCount;
    }

    [Benchmark]
    public int Ok_duplicate_with_message()
    {
        _buffer.ResetWrittenCount();
        RelayMessageWriter.Ok(_buffer, _id, accepted: true, "duplicate: already have this event");
        return _buffer.WrittenCount;
    }

    [Benchmark]
    public int EventPrefix_and_event()
    {
        _buffer.ResetWrittenCount();
        RelayMessageWriter.EventPrefix(_buffer, _subIdRaw);
        _buffer.Write(_eventJson);
        _buffer.Write("]"u8);
        return _buffer.WrittenCount;
    }

    [Benchmark]
    public int Eose()
    {
        _buffer.ResetWrittenCount();
        RelayMessageWriter.Eose(_buffer, _subIdRaw);
        return _buffer.WrittenCount;
    }
}
