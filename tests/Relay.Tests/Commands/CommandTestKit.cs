using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Relay.Native.Storage;
using Relay.Tests.Integration;

namespace Relay.Tests.Commands;

/// <summary>A temp directory with a JSON config whose db is its "db" folder; deleted on dispose.</summary>
public sealed class TempDb : IDisposable
{
    public TempDb(bool withPort = false)
    {
        Dir = TestRelay.NewTempDir();
        Port = withPort ? FreePort() : 0;
        string extra = withPort
            ? $"\"relay\": {{ \"port\": {Port}, \"numThreads\": {{ \"ingester\": 1, \"reqWorker\": 1, \"reqMonitor\": 1 }} }}"
            : "";
        Config = RelayCli.WriteConfig(Dir, extra);
    }

    public string Dir { get; }
    public string Config { get; }
    public string DbDir => Path.Combine(Dir, "db");
    public int Port { get; }
    public Uri Url => new($"ws://127.0.0.1:{Port}/");

    /// <summary>Runs `relay --config this COMMAND ARGS...`.</summary>
    public Task<CliResult> RunAsync(params string[] args) => RelayCli.RunAsync(["--config", Config, .. args]);

    /// <summary>Runs a shell script; the shell function <c>relay</c> in it runs the relay executable with this config.</summary>
    public Task<CliResult> ShellAsync(string script) => CommandTestKit.ShellAsync(script, Config);

    public string PathOf(string name) => Path.Combine(Dir, name);

    public void Dispose()
    {
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}

public static class CommandTestKit
{
    /// <summary>A file of tests/fixtures/strfry (written by real strfry, see its README).</summary>
    public static string StrfryFixture(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "fixtures", "strfry", name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("strfry fixture not found: " + name);
    }

    /// <summary>
    /// bash -c SCRIPT, where the shell function <c>relay</c> runs the relay executable (with the
    /// config, when given), so its stdin/stdout are real pipes or files. Pipelines fail as a whole
    /// when any stage fails.
    /// </summary>
    public static async Task<CliResult> ShellAsync(string script, string? config = null)
    {
        string function = $"relay() {{ dotnet {Quote(RelayProcess.RelayDll)}" + (config is null ? "" : $" --config {Quote(config)}") + " \"$@\"; }\n";
        script = "set -e -o pipefail\n" + function + script;
        var psi = new ProcessStartInfo("/bin/bash")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        psi.Environment.Remove("STRFRY_CONFIG");
        psi.Environment.Remove("RELAY_CONFIG");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("bash -c " + script + " did not exit; stderr: " + await stderr);
        }
        return new CliResult(p.ExitCode, await stdout, await stderr);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>The "id" of each JSONL line, in order.</summary>
    public static List<string> Ids(string jsonl)
    {
        var ids = new List<string>();
        foreach (var line in jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            ids.Add(doc.RootElement.GetProperty("id").GetString()!);
        }
        return ids;
    }

    /// <summary>Writes events as JSONL (one per line, trailing newline).</summary>
    public static string WriteJsonl(string path, IEnumerable<string> lines)
    {
        var sb = new StringBuilder();
        foreach (var l in lines) sb.Append(l).Append('\n');
        File.WriteAllText(path, sb.ToString(), new UTF8Encoding(false));
        return path;
    }

    /// <summary>Opens a database directory (e.g. a copy made by compact or backup) as the relay does.</summary>
    public static EventStore OpenStore(string dir) =>
        EventStore.Open(new StoreOptions { Path = dir, MapSize = 1L << 30 });

    /// <summary>REQ by ids in chunks (the relay caps a filter at maxFilterLimit); returns every event found, by id.</summary>
    public static async Task<Dictionary<string, JsonElement>> FetchByIdsAsync(TestClient client, IReadOnlyList<string> ids)
    {
        var found = new Dictionary<string, JsonElement>();
        for (int i = 0; i < ids.Count; i += 200)
        {
            string list = string.Join(",", ids.Skip(i).Take(200).Select(id => $"\"{id}\""));
            foreach (var e in await client.QueryAsync("ids" + i, $"{{\"ids\":[{list}]}}"))
                found[e.GetProperty("id").GetString()!] = e;
        }
        return found;
    }
}
