using System.Diagnostics;

namespace Relay.Tests.Ops;

/// <summary>What a finished script printed and how it exited.</summary>
internal sealed record ScriptResult(int ExitCode, string Stdout, string Stderr)
{
    public string Output => Stdout + Stderr;

    /// <summary>The output line that starts with <paramref name="key"/> followed by a space (a table row).</summary>
    public string Row(string key)
    {
        foreach (string line in Stdout.Split('\n'))
            if (line.StartsWith(key + " ", StringComparison.Ordinal)) return line;
        throw new Xunit.Sdk.XunitException($"no row for {key} in:\n{Output}");
    }

    public override string ToString() => $"exit {ExitCode}\n{Output}";
}

/// <summary>Runs the repository's shell scripts as an operator would: bash, real files, real exit codes.</summary>
internal static partial class Shell
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string RepoPath(string relative) => Path.Combine(RepoRoot, relative);

    public static ScriptResult Run(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null,
        string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory ?? RepoRoot,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        if (env is not null)
            foreach (var pair in env) psi.Environment[pair.Key] = pair.Value;
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish");
        }
        return new ScriptResult(p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    public static ScriptResult Bash(string script, params string[] args) => Run("bash", [RepoPath(script), .. args]);

    public static bool IsRoot => GetEffectiveUserId() == 0;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Relay.sln"))) dir = dir.Parent;
        if (dir is null) throw new DirectoryNotFoundException("repository root (Relay.sln) not found above " + AppContext.BaseDirectory);
        return dir.FullName;
    }
}

/// <summary>A temp directory removed with everything in it.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "relay-ops-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(string relative) => System.IO.Path.Combine(Path, relative);

    /// <summary>Writes a file (creating its folders); <paramref name="executable"/> sets mode 0755.</summary>
    public string Write(string relative, string content, bool executable = false)
    {
        string file = Combine(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
        File.WriteAllText(file, content);
        if (executable && !OperatingSystem.IsWindows())
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return file;
    }

    /// <summary>Every file under the directory with its content, to prove a run changed nothing.</summary>
    public SortedDictionary<string, string> Snapshot()
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string f in Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories))
            files[System.IO.Path.GetRelativePath(Path, f)] = File.ReadAllText(f);
        return files;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
