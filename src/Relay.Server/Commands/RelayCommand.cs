using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Relay.Server.Config;
using Relay.Server.Relay;

namespace Relay.Server.Commands;

/// <summary><c>relay</c> (or <c>relay relay</c>, strfry's spelling): serve on the configured address until SIGTERM/SIGINT.</summary>
internal static partial class RelayCommand
{
    /// <summary>The root command serves, so `relay --config FILE` (and strfry's `... relay`, see <see cref="Cli"/>) starts the relay.</summary>
    public static void Configure(RootCommand root, GlobalOptions g) => root.SetAction(parse => Serve(g, parse));

    private static int Serve(GlobalOptions g, ParseResult parse)
    {
        long started = Stopwatch.GetTimestamp();
        var loaded = g.LoadConfig(parse);
        if (loaded is null) return GlobalOptions.ExitFailure;
        foreach (var warning in loaded.Warnings) RelayLog.Warn(warning);
        var config = loaded.Config;
        // The schema has checked the value; the format holds for the life of the process.
        RelayLog.Format = RelayLog.TryParseFormat(config.Relay.Logging.Format, out var format) ? format : LogFormat.Text;
        try
        {
            loaded.CheckDbPath();
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine(e.Message);
            return GlobalOptions.ExitFailure;
        }

        RaiseFileLimit(config.Relay.Nofiles);
        var live = new LiveConfig(config);
        RelayServer relay;
        try
        {
            relay = new RelayServer(live);
        }
        catch (Exception e) when (GlobalOptions.IsStoreOpenFailure(e))
        {
            Console.Error.WriteLine($"relay: cannot start: {loaded.DbError(GlobalOptions.Explain(e, config.Db)).Message}");
            return GlobalOptions.ExitFailure;
        }
        try
        {
            relay.Start();
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or InvalidOperationException or IOException)
        {
            Console.Error.WriteLine($"relay: cannot start: {e.Message}");
            relay.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return GlobalOptions.ExitFailure;
        }
        RelayLog.Info($"relay {RelayServer.Version} listening on {config.Relay.Bind}:{relay.Port} " +
                      $"(db {config.Db}, config {loaded.Source}, verifier {relay.Verifier.Name}, " +
                      $"ready in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms)");

        // strfry reloads its config when the file changes; SIGHUP (systemd's ExecReload) asks for it at once.
        using var watcher = new ConfigWatcher(live, loaded);
        watcher.Reloaded += r =>
        {
            foreach (var c in r.Applied) RelayLog.Info($"config: {c.Key} changed to {c.NewValue}");
            foreach (var c in r.RestartRequired) RelayLog.Warn($"config: {c.Key} changed to {c.NewValue}; takes effect after a restart");
        };
        watcher.Start();
        using var stop = new ManualResetEventSlim();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; ThreadPool.QueueUserWorkItem(_ => watcher.Reload()); });
        stop.Wait();
        RelayLog.Info("shutting down");
        relay.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return GlobalOptions.ExitOk;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit { public ulong Current, Maximum; }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);

    /// <summary>
    /// Raises RLIMIT_NOFILE towards relay.nofiles, as far as the hard limit allows. strfry refuses to
    /// start when the hard limit is lower; Relay starts and says what it got.
    /// </summary>
    private static void RaiseFileLimit(long wanted)
    {
        const int RLIMIT_NOFILE = 7;
        if (wanted <= 0 || !OperatingSystem.IsLinux()) return;
        if (GetRLimit(RLIMIT_NOFILE, out var limit) != 0) return;
        ulong target = Math.Min((ulong)wanted, limit.Maximum);
        if (target > limit.Current)
        {
            var raised = new RLimit { Current = target, Maximum = limit.Maximum };
            if (SetRLimit(RLIMIT_NOFILE, raised) != 0)
            {
                RelayLog.Warn($"could not raise the open-files limit from {limit.Current} to {target} (relay.nofiles = {wanted})");
                return;
            }
        }
        if (target < (ulong)wanted)
            RelayLog.Warn($"open-files limit is {target}, the hard limit; relay.nofiles asks for {wanted} (raise LimitNOFILE / ulimit -Hn)");
    }
}
