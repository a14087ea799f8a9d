using System.Diagnostics;
using System.Runtime.InteropServices;
using Relay.Server.Config;
using Relay.Server.Relay;

namespace Relay.Server;

public static partial class Program
{
    private const string Usage = """
        Usage: relay [--config FILE] [COMMAND]

        Commands:
          relay        run the relay (the default)
          version      print the version

        Options:
          --config FILE   JSON config (comments allowed); default $RELAY_CONFIG, else ./config.json if present,
                          else built-in defaults
          -h, --help      this text
        """;

    public static int Main(string[] args)
    {
        long started = Stopwatch.GetTimestamp();
        string? configPath = null;
        string command = "relay";
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--config" when i + 1 < args.Length: configPath = args[++i]; break;
                case var a when a.StartsWith("--config=", StringComparison.Ordinal): configPath = a["--config=".Length..]; break;
                case "-h" or "--help": Console.WriteLine(Usage); return 0;
                case "--version" or "version": Console.WriteLine($"relay {RelayServer.Version}"); return 0;
                case "relay": command = "relay"; break;
                default:
                    Console.Error.WriteLine($"relay: unknown argument '{args[i]}'\n\n{Usage}");
                    return 2;
            }
        }

        RelayConfig config;
        try
        {
            configPath ??= Environment.GetEnvironmentVariable("RELAY_CONFIG");
            if (configPath is null && File.Exists("config.json")) configPath = "config.json";
            config = configPath is null ? new RelayConfig() : ConfigLoader.LoadFile(configPath);
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }

        return command switch
        {
            _ => RunRelay(config, configPath, started),
        };
    }

    private static int RunRelay(RelayConfig config, string? configPath, long started)
    {
        RaiseFileLimit(config.Relay.Nofiles);
        RelayServer relay;
        try
        {
            relay = new RelayServer(config);
            relay.Start();
        }
        catch (Exception e) when (e is NotSupportedException or IOException or UnauthorizedAccessException
                                      or System.Net.Sockets.SocketException or InvalidOperationException or DllNotFoundException)
        {
            Console.Error.WriteLine($"relay: cannot start: {e.Message}");
            return 1;
        }
        RelayLog.Info($"relay {RelayServer.Version} listening on {config.Relay.Bind}:{relay.Port} " +
                      $"(db {config.Db}, config {configPath ?? "built-in defaults"}, verifier {relay.Verifier.Name}, " +
                      $"ready in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms)");

        using var stop = new ManualResetEventSlim();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        stop.Wait();
        RelayLog.Info("shutting down");
        relay.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit { public ulong Current, Maximum; }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);

    /// <summary>Raises RLIMIT_NOFILE towards relay.nofiles, as far as the hard limit allows (like strfry).</summary>
    private static void RaiseFileLimit(long wanted)
    {
        const int RLIMIT_NOFILE = 7;
        if (wanted <= 0 || !OperatingSystem.IsLinux()) return;
        if (GetRLimit(RLIMIT_NOFILE, out var limit) != 0) return;
        ulong target = Math.Min((ulong)wanted, limit.Maximum);
        if (target <= limit.Current) return;
        var raised = new RLimit { Current = target, Maximum = limit.Maximum };
        if (SetRLimit(RLIMIT_NOFILE, raised) != 0)
            RelayLog.Info($"could not raise the open-files limit to {target}");
        else if (target < (ulong)wanted)
            RelayLog.Info($"open-files limit raised to the hard limit {target} (relay.nofiles asks for {wanted})");
    }
}
