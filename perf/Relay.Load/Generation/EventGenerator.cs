using System.Collections.Concurrent;
using System.Diagnostics;

namespace Relay.Load.Generation;

public sealed record GenerateOptions(string OutputPath, int Count, ulong Seed, int Authors, long Now, int MaxThreads, bool PreferNativeSigner = true);

public sealed record GenerateResult(int Count, long FileBytes, TimeSpan Elapsed, Dictionary<int, int> KindCounts, string Signer, string Phases)
{
    public double EventsPerSecond => Count / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// Writes a deterministic, signed event set. Pass 1 computes the ids of the notes and articles that
/// replies and reactions point at (hashing only, no signing); pass 2 signs everything in
/// file-order batches, each batch spread over all cores.
/// </summary>
public static class EventGenerator
{
    private const int BatchSize = 8192;

    public static GenerateResult Generate(GenerateOptions options)
    {
        var stopwatch = Stopwatch.StartNew();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxThreads > 0 ? options.MaxThreads : Environment.ProcessorCount };
        var keys = AuthorKeys.Derive(options.Seed, "relay-load author", options.Authors, options.PreferNativeSigner);
        TimeSpan keysDone = stopwatch.Elapsed;
        var planner = new EventPlanner(options.Seed, options.Now, keys);

        var classes = new EventClass[options.Count];
        var targetList = new List<int>();
        for (int i = 0; i < options.Count; i++)
        {
            classes[i] = planner.Classify(i);
            if (EventPlanner.IsTarget(classes[i])) targetList.Add(i);
        }
        int[] targetIndices = targetList.ToArray();

        var targets = new TargetTable(options.Count);
        Parallel.ForEach(Partitioner.Create(0, targetIndices.Length, 512), parallel,
            () => new DraftSigner(keys),
            (range, _, signer) =>
            {
                Span<byte> id = stackalloc byte[32];
                for (int t = range.Item1; t < range.Item2; t++)
                {
                    int i = targetIndices[t];
                    EventDraft draft = planner.Draft(i, classes[i], null);
                    signer.ComputeId(draft, id);
                    targets.Set(i, id, draft);
                }
                return signer;
            },
            _ => { });
        targets.Seal(targetIndices);
        TimeSpan targetsDone = stopwatch.Elapsed;
        TimeSpan signing = TimeSpan.Zero, writing = TimeSpan.Zero;
        int duplicatesAvoided = 0;

        var kindCounts = new Dictionary<int, int>();
        var batch = new byte[BatchSize][];
        var batchKinds = new int[BatchSize];
        var batchIds = new Relay.Native.Events.Bytes32[BatchSize];
        var seenIds = new HashSet<Relay.Native.Events.Bytes32>(options.Count);
        var resigner = new DraftSigner(keys);
        var resignId = new byte[32];
        using (var file = new FileStream(options.OutputPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            EventFile.WriteHeader(file, new EventFile.Header(options.Count, options.Seed, options.Now, options.Authors));
            for (int start = 0; start < options.Count; start += BatchSize)
            {
                int end = Math.Min(options.Count, start + BatchSize);
                TimeSpan batchStart = stopwatch.Elapsed;
                Parallel.ForEach(Partitioner.Create(start, end, 128), parallel,
                    () => new DraftSigner(keys),
                    (range, _, signer) =>
                    {
                        Span<byte> id = stackalloc byte[32];
                        for (int i = range.Item1; i < range.Item2; i++)
                        {
                            EventDraft draft = planner.Draft(i, classes[i], targets);
                            batch[i - start] = signer.Sign(draft, id);
                            batchKinds[i - start] = draft.Kind;
                            batchIds[i - start] = Relay.Native.Events.Bytes32.From(id);
                        }
                        return signer;
                    },
                    _ => { });
                TimeSpan signed = stopwatch.Elapsed;
                signing += signed - batchStart;
                for (int i = 0; i < end - start; i++)
                {
                    // Popular authors reacting "+" to a popular note in the same second make identical
                    // events; a replay must not contain the same id twice, so nudge the time until unique.
                    // Done here, in file order, so the result does not depend on the thread count.
                    for (int bump = 1; !seenIds.Add(batchIds[i]); bump++)
                    {
                        EventDraft draft = planner.Draft(start + i, classes[start + i], targets);
                        draft.CreatedAt -= bump;
                        batch[i] = resigner.Sign(draft, resignId);
                        batchIds[i] = Relay.Native.Events.Bytes32.From(resignId);
                        duplicatesAvoided++;
                    }
                    EventFile.WriteRecord(file, batch[i]);
                    kindCounts[batchKinds[i]] = kindCounts.GetValueOrDefault(batchKinds[i]) + 1;
                    batch[i] = null!;
                }
                writing += stopwatch.Elapsed - signed;
            }
        }
        stopwatch.Stop();
        string phases = FormattableString.Invariant(
            $"keys {keysDone.TotalSeconds:0.00} s, reply targets {(targetsDone - keysDone).TotalSeconds:0.00} s, sign {signing.TotalSeconds:0.00} s, write {writing.TotalSeconds:0.00} s, {duplicatesAvoided} duplicate ids re-timed");
        return new GenerateResult(options.Count, new FileInfo(options.OutputPath).Length, stopwatch.Elapsed, kindCounts, keys.SignerName, phases);
    }
}
