using System.CommandLine;

namespace Relay.Server.Commands;

/// <summary>
/// The command line, strfry's verbs and flags: <c>relay [--config FILE] [--set KEY=VALUE]... [COMMAND]</c>.
/// With no command the relay serves (strfry's <c>relay</c> command). Each command lives in its own
/// file in this folder and adds itself to the list below.
/// </summary>
internal static class Cli
{
    public static RootCommand Build()
    {
        var globals = new GlobalOptions();
        var root = new RootCommand(
            "Relay: a Nostr relay that replaces strfry (its config file, CLI and plugins).\n" +
            "With no command, or with strfry's command `relay`, it serves until SIGTERM.");
        globals.AddTo(root);

        RelayCommand.Configure(root, globals);
        foreach (var command in Commands(globals))
            root.Subcommands.Add(command);
        return root;
    }

    /// <summary>Every command but serving; one line each.</summary>
    private static IEnumerable<Command> Commands(GlobalOptions g) =>
    [
        ExportCommand.Create(g),
        ImportCommand.Create(g),
        ScanCommand.Create(g),
        DeleteCommand.Create(g),
        CompactCommand.Create(g),
        BackupCommand.Create(g),
        InfoCommand.Create(g),
    ];

    public static int Run(string[] args)
    {
        var root = Build();
        var parse = root.Parse(WithoutServeVerb(args));
        return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    private static readonly HashSet<string> s_optionsWithValue = ["--config", "--set", "--verbosity"];

    /// <summary>
    /// strfry serves with `strfry [options] relay`; here serving is the root command (the executable is
    /// itself called relay, which System.CommandLine reserves), so that verb is dropped where a command
    /// name would stand and a strfry systemd unit's command line works unchanged.
    /// </summary>
    internal static string[] WithoutServeVerb(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (s_optionsWithValue.Contains(a)) { i++; continue; }
            if (a.StartsWith('-')) continue;
            if (a != "relay") return args;
            var rest = new string[args.Length - 1];
            Array.Copy(args, rest, i);
            Array.Copy(args, i + 1, rest, i, args.Length - i - 1);
            return rest;
        }
        return args;
    }
}
