using System.CommandLine;
using Relay.Native.Storage;
using Relay.Server.Config;

namespace Relay.Server.Commands;

/// <summary>
/// Options every command takes (strfry's globals) and what commands do with them: find and load the
/// config once, open the database it names. Accepted before or after the command name.
/// </summary>
internal sealed class GlobalOptions
{
    public const int ExitOk = 0;
    public const int ExitFailure = 1;

    public Option<string?> Config { get; } = new("--config")
    {
        Description = "Config file: strfry.conf format or JSON (default: $STRFRY_CONFIG, /etc/strfry.conf, ./strfry.conf, $RELAY_CONFIG, ./config.json)",
        HelpName = "FILE",
        Recursive = true,
    };

    public Option<string[]> Set { get; } = new("--set")
    {
        Description = "Override a config key, dotted path (repeatable), e.g. --set relay.port=7778",
        HelpName = "KEY=VALUE",
        Recursive = true,
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => [],
    };

    public Option<string?> Verbosity { get; } = new("--verbosity")
    {
        Description = "Log level: ERROR, WARN, INFO (default), or a number (1 = debug) as strfry takes it",
        HelpName = "LEVEL",
        Recursive = true,
    };

    public void AddTo(Command root)
    {
        root.Options.Add(Config);
        root.Options.Add(Set);
        root.Options.Add(Verbosity);
    }

    /// <summary>Loads the config the options point at; on failure prints the reason and returns null.</summary>
    public LoadedConfig? LoadConfig(ParseResult parse)
    {
        if (parse.GetValue(Verbosity) is { } level && !RelayLog.TrySetVerbosity(level))
        {
            Console.Error.WriteLine($"relay: --verbosity: unknown level '{level}' (ERROR, WARN, INFO, or a number)");
            return null;
        }
        try
        {
            return ConfigLoader.Load(parse.GetValue(Config), parse.GetValue(Set) ?? []);
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine(e.Message);
            return null;
        }
    }

    /// <summary>Opens the database the config names; on failure prints why (naming the `db` key) and returns null.</summary>
    public static EventStore? OpenStore(LoadedConfig loaded)
    {
        var config = loaded.Config;
        try
        {
            loaded.CheckDbPath();
            return EventStore.Open(new StoreOptions
            {
                Path = config.Db,
                MapSize = config.DbParams.Mapsize,
                MaxReaders = config.DbParams.Maxreaders,
            });
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine(e.Message);
            return null;
        }
        catch (Exception e) when (IsStoreOpenFailure(e))
        {
            Console.Error.WriteLine(loaded.DbError(Explain(e, config.Db)).Message);
            return null;
        }
    }

    public static bool IsStoreOpenFailure(Exception e) =>
        e is IOException or UnauthorizedAccessException or LightningDB.LightningException
          or StoreSchemaException or NotSupportedException or DllNotFoundException;

    /// <summary>
    /// A strfry database is LMDB 0.9's on-disk format, which LMDB 1.0 calls "not an LMDB file": say
    /// what it is and how to bring it over instead.
    /// </summary>
    public static Exception Explain(Exception e, string db)
    {
        const int MdbInvalid = -30793, MdbVersionMismatch = -30794;
        if (e is LightningDB.LightningException { StatusCode: MdbInvalid or MdbVersionMismatch } && File.Exists(Path.Combine(db, "data.mdb")))
            return new IOException($"{e.Message}: this is not a Relay database (a strfry database uses LMDB 0.9's format); " +
                                   "move it aside and bring its events over with `relay import --strfry-db DIR`", e);
        return e;
    }
}
