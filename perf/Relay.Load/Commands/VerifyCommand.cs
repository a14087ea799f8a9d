using Relay.Load.Cli;
using Relay.Load.Corpus;

namespace Relay.Load.Commands;

/// <summary><c>verify --events events.bin [--sample 2000]</c>: recompute ids and check signatures of a spread sample.</summary>
public static class VerifyCommand
{
    public static int Run(CliArgs args)
    {
        string path = args.Require("events");
        int sample = args.GetInt("sample", 2000);
        args.RejectUnknown();
        EventCorpus corpus = EventCorpus.Load(path);
        int checkedCount = 0, failed = 0;
        int step = Math.Max(1, corpus.Count / Math.Max(1, sample));
        for (int i = 0; i < corpus.Count && checkedCount < sample; i += step, checkedCount++)
        {
            string? problem = CorpusVerifier.Verify(corpus.EventJson(i), corpus.Header.GeneratedAt);
            if (problem is null) continue;
            failed++;
            if (failed <= 10) Console.WriteLine($"event {i}: {problem}");
        }
        Console.WriteLine($"verified {checkedCount:N0} of {corpus.Count:N0} events: {failed} invalid");
        return failed == 0 ? 0 : 1;
    }
}
