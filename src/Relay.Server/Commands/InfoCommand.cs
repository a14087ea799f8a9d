using System.CommandLine;
using Relay.Native.Storage;

namespace Relay.Server.Commands;

/// <summary><c>relay info</c>: what the database holds (strfry's <c>info</c> prints the DB version; this says more).</summary>
internal static class InfoCommand
{
    public static Command Create(GlobalOptions g)
    {
        var command = new Command("info", "Print the database's schema version, event count, size and the LMDB version");
        command.SetAction(parse =>
        {
            var loaded = g.LoadConfig(parse);
            if (loaded is null) return GlobalOptions.ExitFailure;
            using var store = GlobalOptions.OpenStore(loaded);
            if (store is null) return GlobalOptions.ExitFailure;
            var info = store.Describe();
            Console.WriteLine($"db: {Path.GetFullPath(loaded.Config.Db)}");
            Console.WriteLine($"schema version: {EventStore.SchemaVersion}");
            Console.WriteLine($"events: {info.EventCount}");
            Console.WriteLine($"last levId: {info.LastLevId}");
            Console.WriteLine($"size: {info.FileBytes} bytes on disk, {info.UsedBytes} bytes in use, map size {info.MapSize}");
            Console.WriteLine($"lmdb: {info.LmdbVersion}");
            return GlobalOptions.ExitOk;
        });
        return command;
    }
}
