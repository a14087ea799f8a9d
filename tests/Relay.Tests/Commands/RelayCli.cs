using System.Diagnostics;
using System.Text;
using Relay.Tests.Integration;

namespace Relay.Tests.Commands;

/// <summary>What one run of the relay executable printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs the relay executable (a child process, as an operator runs it) with arguments and optional stdin.</summary>
public static class RelayCli
{
    public static async Task<CliResult> RunAsync(IEnumerable<string> args, string? stdin = null, string? workingDirectory = null,
        IDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        psi.ArgumentList.Add(RelayProcess.RelayDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Keep the lookup of strfry.conf/config.json from finding the developer's own files.
        psi.Environment.Remove("STRFRY_CONFIG");
        psi.Environment.Remove("RELAY_CONFIG");
        if (environment is not null)
        {
            foreach (var (k, v) in environment)
            {
                if (v is null) psi.Environment.Remove(k);
                else psi.Environment[k] = v;
            }
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null) await p.StandardInput.WriteAsync(stdin);
        p.StandardInput.Close();
        try
        {
            await p.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("relay " + string.Join(' ', args) + " did not exit; stderr: " + await stderr);
        }
        return new CliResult(p.ExitCode, await stdout, await stderr);
    }

    public static Task<CliResult> RunAsync(params string[] args) => RunAsync((IEnumerable<string>)args);

    /// <summary>A JSON config in a new temp dir whose db is that dir's "db" folder; returns the config path.</summary>
    public static string WriteConfig(string dir, string extraJson = "")
    {
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "config.json");
        var sb = new StringBuilder();
        sb.Append("{ \"db\": ").Append(System.Text.Json.JsonSerializer.Serialize(Path.Combine(dir, "db"))).Append(", \"dbParams\": { \"mapsize\": 1073741824 }");
        if (extraJson.Length > 0) sb.Append(", ").Append(extraJson);
        sb.Append(" }");
        File.WriteAllText(path, sb.ToString());
        return path;
    }
}
