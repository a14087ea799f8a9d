using BenchmarkDotNet.Attributes;
using Relay.Native.Events;

namespace Relay.Benchmarks;

/// <summary>
/// EventParser.Parse of a signed kind-1 reply: field checks, normalized JSON, packed record, the NIP-01
/// serialization and the SHA-256 id check. What every ingester does per EVENT before the signature.
/// </summary>
[MemoryDiagnoser]
public class EventParserBenchmarks
{
    private byte[] _event = [];
    private byte[] _packed = [];
    private byte[] _json = [];
    private long _now;

    [GlobalSetup]
    public void Setup()
    {
        _event = SampleEvents.SignedNote(1);
        _packed = new byte[EventParser.MaxPackedSize(_event.Length)];
        _json = new byte[EventParser.MaxJsonSize(_event.Length)];
        _now = SampleEvents.SignedNoteCreatedAt + 60;
        if (Parse_kind1_note() <= 0) throw new InvalidOperationException("sample event refused");
    }

    [Benchmark]
    public int Parse_kind1_note()
    {
        var status = EventParser.Parse(_event, EventLimits.Default, _now, _packed, out int packedLength,
            _json, out int jsonLength, out _, out _);
        return status == EventParseStatus.Ok ? packedLength + jsonLength : -1;
    }
}
