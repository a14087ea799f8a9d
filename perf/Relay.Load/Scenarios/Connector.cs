using System.Collections.Concurrent;
using Relay.Load.Protocol;
using Relay.Load.Reporting;
using Relay.Load.WebSockets;

namespace Relay.Load.Scenarios;

/// <summary>Opens many connections with bounded concurrency, timing each TCP connect + upgrade.</summary>
public static class Connector
{
    public sealed record Result(NostrWebSocket?[] Sockets, int Opened, ConcurrentDictionary<string, long> Failures);

    public static async Task<Result> OpenAsync(Uri url, int count, int concurrency, int receiveBufferSize,
        TimeSpan perConnectionTimeout, LatencyRecorder? connectLatency, CancellationToken cancellation)
    {
        var sockets = new NostrWebSocket?[count];
        var failures = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        int opened = 0;
        int next = -1;
        var workers = new Task[Math.Max(1, Math.Min(concurrency, count))];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count && !cancellation.IsCancellationRequested)
                {
                    long start = System.Diagnostics.Stopwatch.GetTimestamp();
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                    timeout.CancelAfter(perConnectionTimeout);
                    try
                    {
                        sockets[i] = await NostrWebSocket.ConnectAsync(url, receiveBufferSize, timeout.Token).ConfigureAwait(false);
                        connectLatency?.RecordSince(start);
                        Interlocked.Increment(ref opened);
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        string reason = e is OperationCanceledException ? "connect timeout" : e.GetType().Name + ": " + e.Message;
                        failures.AddOrUpdate(reason, 1, (_, n) => n + 1);
                    }
                }
            }, CancellationToken.None);
        }
        await Task.WhenAll(workers).ConfigureAwait(false);
        return new Result(sockets, opened, failures);
    }

    /// <summary>
    /// Closes every socket (close frame, best effort) with bounded concurrency; past
    /// <paramref name="limit"/> (default 10 s) the rest are aborted without a close frame.
    /// </summary>
    public static async Task CloseAllAsync(IReadOnlyList<NostrWebSocket?> sockets, int concurrency = 256, TimeSpan? limit = null)
    {
        long deadline = System.Diagnostics.Stopwatch.GetTimestamp()
            + (long)((limit ?? TimeSpan.FromSeconds(10)).TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        int next = -1;
        var workers = new Task[Math.Max(1, Math.Min(concurrency, sockets.Count))];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < sockets.Count)
                {
                    if (sockets[i] is not { } socket) continue;
                    if (System.Diagnostics.Stopwatch.GetTimestamp() > deadline) socket.Abort();
                    else await socket.CloseAsync().ConfigureAwait(false);
                }
            });
        }
        await Task.WhenAll(workers).ConfigureAwait(false);
    }

    public static void CountPrefix(ConcurrentDictionary<string, long> groups, ReadOnlySpan<byte> text) =>
        groups.AddOrUpdate(RelayMessage.PrefixOf(text), 1, (_, n) => n + 1);

    /// <summary>Waits for the tasks, but never longer than <paramref name="limit"/>.</summary>
    public static async Task WaitBoundedAsync(IEnumerable<Task> tasks, TimeSpan limit)
    {
        Task all = Task.WhenAll(tasks);
        await Task.WhenAny(all, Task.Delay(limit)).ConfigureAwait(false);
    }
}
