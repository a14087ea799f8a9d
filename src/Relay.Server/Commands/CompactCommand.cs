using System.CommandLine;
using Microsoft.Win32.SafeHandles;

namespace Relay.Server.Commands;

/// <summary>
/// <c>relay compact FILE|-</c>: a compacted copy of the database file (LMDB's copy with
/// MDB_CP_COMPACT: free pages left out, pages renumbered), to a new file or to stdout. The copy is
/// one consistent snapshot, taken while writers go on. Put it in an empty directory as data.mdb to
/// use it.
/// </summary>
internal static class CompactCommand
{
    public static Command Create(GlobalOptions g)
    {
        var output = new Argument<string>("FILE") { Description = "File to create (must not exist), or - for standard output" };
        var command = new Command("compact", "Write a compacted, consistent copy of the database file (data.mdb) to FILE, or to stdout with -")
        {
            output,
        };
        command.SetAction(parse =>
        {
            var loaded = g.LoadConfig(parse);
            if (loaded is null) return GlobalOptions.ExitFailure;
            string path = parse.GetValue(output)!;
            if (path == "-" && !Console.IsOutputRedirected)
            {
                Console.Error.WriteLine("relay compact: refusing to write the database to a terminal; redirect standard output");
                return GlobalOptions.ExitFailure;
            }
            if (path != "-" && Path.Exists(path))
            {
                Console.Error.WriteLine($"relay compact: output file '{path}' exists, not overwriting");
                return GlobalOptions.ExitFailure;
            }
            using var store = GlobalOptions.OpenStore(loaded);
            if (store is null) return GlobalOptions.ExitFailure;
            try
            {
                if (path == "-")
                {
                    // LMDB writes to the descriptor itself; the stream only carries fd 1 to it.
                    using var stdout = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
                    store.CopyCompacted(stdout);
                }
                else
                {
                    CopyToNewFile(store, path);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or LightningDB.LightningException)
            {
                Console.Error.WriteLine($"relay compact: {e.Message}");
                return GlobalOptions.ExitFailure;
            }
            return GlobalOptions.ExitOk;
        });
        return command;
    }

    /// <summary>Copies into a file that must not exist yet, fsyncs it, and removes it again if the copy fails.</summary>
    internal static void CopyToNewFile(Native.Storage.EventStore store, string path)
    {
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        bool done = false;
        try
        {
            store.CopyCompacted(file);
            file.Flush(flushToDisk: true);
            done = true;
        }
        finally
        {
            file.Dispose();
            if (!done) File.Delete(path);
        }
    }
}
