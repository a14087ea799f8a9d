using System.Diagnostics;
using System.Security.Cryptography;
using Relay.Load.Cli;
using Relay.Load.Reporting;
using Relay.Native.Events;
using Relay.Native.Storage;

namespace Relay.Load.Commands;

/// <summary>
/// <c>commit-latency --dir DIR [--count 100] [--batch 64]</c>: times durable LMDB commits (write
/// transaction + fsync) of <c>batch</c> events on this disk through the relay's own EventStore. With a
/// window of W un-acknowledged events per connection, one connection cannot beat W / commit latency:
/// the ingest scenario's single-connection target is measured against this.
/// </summary>
public static class CommitLatencyCommand
{
    public static int Run(CliArgs args)
    {
        string dir = args.Require("dir");
        int count = Math.Max(1, args.GetInt("count", 100));
        int batch = Math.Max(1, args.GetInt("batch", 64));
        (string reportDir, string name) = CommandContext.ReportTarget(args, "commit-latency");
        args.RejectUnknown();

        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        var report = new LoadReport("commit-latency", name, "file://" + Path.GetFullPath(dir));
        report.Parameter("count", count);
        report.Parameter("batch", batch);
        var recorder = new LatencyRecorder();
        var sw = Stopwatch.StartNew();
        using (var store = EventStore.Open(new StoreOptions { Path = dir, MapSize = 1L << 30 }))
        {
            var items = new WriteItem[batch];
            var results = new WriteResult[batch];
            byte[] json = new byte[500];
            long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            for (int round = 0; round < count; round++)
            {
                for (int i = 0; i < batch; i++)
                {
                    var packed = new byte[PackedEvent.HeaderSize + 70];
                    var w = new PackedEventWriter(packed, RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32), now, 1, 0);
                    w.TryAddTag((byte)'p', "0000000000000000000000000000000000000000000000000000000000000000"u8);
                    items[i] = new WriteItem(packed.AsMemory(0, w.Length), json);
                }
                long start = Stopwatch.GetTimestamp();
                store.WriteBatch(items, results, durable: true);
                recorder.RecordSince(start);
            }
        }
        report.Finish(sw.Elapsed);
        report.Latency("durable commit", recorder);
        var summary = recorder.Summarize();
        report.Rate($"bound for window {batch} (events/s = {batch} / p50)", batch / (summary.P50Ms / 1000.0));
        Directory.Delete(dir, recursive: true);
        return CommandContext.Publish(report, reportDir);
    }
}
