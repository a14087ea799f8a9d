using System.CommandLine;
using System.Diagnostics;

namespace Relay.Server.Commands;

/// <summary>
/// <c>relay backup DIR</c>: a consistent hot copy of the database into DIR/data.mdb while a relay
/// serves and writes (a compacting LMDB copy from one read snapshot). Every event acknowledged with
/// OK true before the backup started is in it.
/// </summary>
internal static class BackupCommand
{
    public static Command Create(GlobalOptions g)
    {
        var dir = new Argument<string>("DIR")
        {
            Description = "Directory for the copy (created if missing; must not hold a data.mdb yet).\n" +
                "Every event acknowledged (OK true) before the backup started is in the copy.\n" +
                "Restore: stop the relay; move the old database directory (the config's `db`) aside and create it empty;\n" +
                "copy DIR/data.mdb into it (LMDB makes a fresh lock.mdb); start the relay. Or point `db` at DIR.",
        };
        var command = new Command("backup", "Hot backup: a consistent, compacted copy of the database into DIR/data.mdb while the relay serves and writes")
        {
            dir,
        };
        command.SetAction(parse =>
        {
            var loaded = g.LoadConfig(parse);
            if (loaded is null) return GlobalOptions.ExitFailure;
            string target = parse.GetValue(dir)!;
            string file = Path.Combine(target, "data.mdb");
            string partial = file + ".partial";
            if (Path.GetFullPath(target).TrimEnd('/') == Path.GetFullPath(loaded.Config.Db).TrimEnd('/'))
            {
                Console.Error.WriteLine("relay backup: DIR is the database directory itself");
                return GlobalOptions.ExitFailure;
            }
            if (File.Exists(file))
            {
                Console.Error.WriteLine($"relay backup: '{file}' exists, not overwriting");
                return GlobalOptions.ExitFailure;
            }
            using var store = GlobalOptions.OpenStore(loaded);
            if (store is null) return GlobalOptions.ExitFailure;
            var started = Stopwatch.GetTimestamp();
            try
            {
                Directory.CreateDirectory(target);
                // Left behind by an interrupted backup: never a valid copy.
                File.Delete(partial);
                CompactCommand.CopyToNewFile(store, partial);
                // Only a complete, fsynced copy gets the name data.mdb.
                File.Move(partial, file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or LightningDB.LightningException)
            {
                Console.Error.WriteLine($"relay backup: {e.Message}");
                return GlobalOptions.ExitFailure;
            }
            Console.Error.WriteLine($"Backed up {new FileInfo(file).Length} bytes to {file} in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s");
            return GlobalOptions.ExitOk;
        });
        return command;
    }
}
