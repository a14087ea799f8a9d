using BenchmarkDotNet.Attributes;
using Relay.Native.Events;

namespace Relay.Benchmarks;

/// <summary>Hex decode of an id/pubkey (64 chars) and a signature (128 chars): three per incoming EVENT.</summary>
[MemoryDiagnoser]
public class HexBenchmarks
{
    private readonly byte[] _id = new byte[32];
    private readonly byte[] _signature = new byte[64];
    private byte[] _idHex = [];
    private byte[] _signatureHex = [];

    [GlobalSetup]
    public void Setup()
    {
        _idHex = SampleEvents.HexOf(SampleEvents.Key(1));
        _signatureHex = [.. SampleEvents.HexOf(SampleEvents.Key(2)), .. SampleEvents.HexOf(SampleEvents.Key(3))];
    }

    [Benchmark]
    public bool Decode_id() => Hex.TryDecodeLower(_idHex, _id);

    [Benchmark]
    public bool Decode_signature() => Hex.TryDecodeLower(_signatureHex, _signature);
}
