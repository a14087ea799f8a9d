using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;

namespace Relay.Benchmarks;

/// <summary>The event id check: SHA-256 of a typical canonical serialization (~400 bytes).</summary>
[MemoryDiagnoser]
public class Sha256Benchmarks
{
    private readonly byte[] _serialized = new byte[400];
    private readonly byte[] _hash = new byte[32];

    [GlobalSetup]
    public void Setup() => new Random(1).NextBytes(_serialized);

    [Benchmark]
    public int Hash_400_bytes() => SHA256.HashData(_serialized, _hash);
}
