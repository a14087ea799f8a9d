using System.CommandLine;

namespace Relay.Server.Commands;

/// <summary>
/// <c>relay export [--since N] [--until N] [--reverse]</c>: every stored event as JSONL on stdout,
/// oldest first like strfry (newest last), each line the bytes clients get back. One read snapshot
/// walks the created_at index and writes each payload as stored, so the output streams at disk
/// speed without holding the database in memory.
/// </summary>
internal static class ExportCommand
{
    public static Command Create(GlobalOptions g)
    {
        var since = new Option<ulong?>("--since") { Description = "Only events with created_at >= N", HelpName = "N" };
        var until = new Option<ulong?>("--until") { Description = "Only events with created_at <= N", HelpName = "N" };
        var reverse = new Option<bool>("--reverse") { Description = "Newest first" };
        var command = new Command("export", "Write stored events to stdout as JSONL, oldest first (what relay import and strfry import read)")
        {
            since, until, reverse,
        };
        command.SetAction(parse =>
        {
            var loaded = g.LoadConfig(parse);
            if (loaded is null) return GlobalOptions.ExitFailure;
            using var store = GlobalOptions.OpenStore(loaded);
            if (store is null) return GlobalOptions.ExitFailure;

            using var view = store.BeginRead();
            using var scan = view.ScanCreatedAt(parse.GetValue(since) ?? 0, parse.GetValue(until) ?? ulong.MaxValue, parse.GetValue(reverse));
            var output = new StdoutWriter();
            try
            {
                while (scan.MoveNext(out ulong levId, out _))
                {
                    if (!view.TryGetPayload(levId, out var json)) continue;
                    output.WriteLine(json);
                }
                output.Flush();
            }
            catch (IOException)
            {
                // The reader went away (`relay export | head`): stop quietly, as strfry does on SIGPIPE.
                return GlobalOptions.ExitFailure;
            }
            finally
            {
                output.Dispose();
            }
            return GlobalOptions.ExitOk;
        });
        return command;
    }
}
