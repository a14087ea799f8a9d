using System.Text;
using BenchmarkDotNet.Attributes;
using Relay.Native.Events;

namespace Relay.Benchmarks;

/// <summary>CanonicalJson.WriteString: runs on the content and every tag element of every event parsed.</summary>
[MemoryDiagnoser]
public class CanonicalJsonBenchmarks
{
    private byte[] _withEscapes = [];
    private byte[] _plain = [];
    private byte[] _destination = [];

    [GlobalSetup]
    public void Setup()
    {
        // A multi-paragraph note: newlines, quotes, a tab, a backslash, one raw control byte, non-ASCII.
        _withEscapes = Encoding.UTF8.GetBytes(
            "Release notes \"v2.1\" 🎉\n\n- faster sync\n- fixed C:\\path handling\n\tindented: ça marche\n" +
            "Quote: \"Nostr is a protocol, not a platform.\"\nBell\u0007 and form\u000cfeed, 日本語のテキスト。\n" +
            "Thanks to everyone who tested! ⚡ zap if you like it.");
        // Same length, nothing to escape: the vectorized copy path.
        _plain = Encoding.UTF8.GetBytes(new string('a', _withEscapes.Length));
        _destination = new byte[CanonicalJson.MaxQuotedLength(_withEscapes.Length)];
    }

    [Benchmark]
    public int Content_with_escapes() => CanonicalJson.WriteString(_withEscapes, _destination);

    [Benchmark(Baseline = true)]
    public int Content_without_escapes() => CanonicalJson.WriteString(_plain, _destination);
}
