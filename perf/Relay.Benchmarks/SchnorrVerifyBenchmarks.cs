using BenchmarkDotNet.Attributes;
using Relay.Native.Crypto;
using Relay.Native.Events;

namespace Relay.Benchmarks;

/// <summary>
/// BIP-340 verification of event signatures, both backends. Single-threaded, so Op/s is verifies per
/// second per core; the batch is counted per signature (OperationsPerInvoke).
/// </summary>
[MemoryDiagnoser]
[OperationsPerSecond]
public class SchnorrVerifyBenchmarks
{
    private const int BatchSize = 64;

    private ISchnorrVerifier _verifier = SchnorrVerifiers.CreateManaged();
    private readonly byte[] _sigs = new byte[64 * BatchSize];
    private readonly byte[] _ids = new byte[32 * BatchSize];
    private readonly byte[] _pubKeys = new byte[32 * BatchSize];
    private readonly bool[] _results = new bool[BatchSize];

    [Params("native", "managed")]
    public string Backend { get; set; } = "native";

    [GlobalSetup]
    public void Setup()
    {
        _verifier = Backend == "native"
            ? SchnorrVerifiers.TryCreateNative() ?? throw new InvalidOperationException("libsecp256k1 with schnorrsig is not installed")
            : SchnorrVerifiers.CreateManaged();

        // 64 different signers and events, as a batch drained from many connections would hold.
        for (int i = 0; i < BatchSize; i++)
        {
            byte[] json = SampleEvents.SignedNote(i + 1);
            var packed = new byte[EventParser.MaxPackedSize(json.Length)];
            var normalized = new byte[EventParser.MaxJsonSize(json.Length)];
            if (EventParser.Parse(json, EventLimits.Default, SampleEvents.SignedNoteCreatedAt + 600, packed, out _,
                    normalized, out _, out ParsedEventHeader header, out string? error) != EventParseStatus.Ok)
                throw new InvalidOperationException("sample event refused: " + error);
            header.Sig.Span.CopyTo(_sigs.AsSpan(64 * i));
            header.Id.Span.CopyTo(_ids.AsSpan(32 * i));
            header.PubKey.Span.CopyTo(_pubKeys.AsSpan(32 * i));
        }

        // A benchmark of signatures that fail would measure the early-out, not the verification.
        if (!Verify_single() || Verify_batch_of_64() != BatchSize)
            throw new InvalidOperationException(_verifier.Name + " rejected a valid sample signature");
    }

    [Benchmark]
    public bool Verify_single() => _verifier.Verify(_sigs.AsSpan(0, 64), _ids.AsSpan(0, 32), _pubKeys.AsSpan(0, 32));

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public int Verify_batch_of_64()
    {
        _verifier.VerifyBatch(_sigs, _ids, _pubKeys, _results);
        int valid = 0;
        foreach (bool ok in _results) if (ok) valid++;
        return valid;
    }
}
