namespace Relay.Tests.Ops;

/// <summary>
/// scripts/setup.sh decides what to install from the linker cache. It runs here in a copy of the
/// repository with fake ldconfig/apt-get on PATH, so nothing is installed for real.
/// </summary>
public class SetupScriptTests
{
    private const string Libsecp = "\tlibsecp256k1.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libsecp256k1.so.1\n";
    private const string Libssl = "\tlibssl.so.3 (libc6,x86-64) => /lib/x86_64-linux-gnu/libssl.so.3\n";

    /// <summary>
    /// A copy of setup.sh with the interop packages already present, and a bin folder whose ldconfig
    /// prints <paramref name="libraries"/> first and then far more than a pipe holds, as a big
    /// real cache does; apt-get records its arguments instead of installing.
    /// </summary>
    private static TempDir Sandbox(string libraries)
    {
        var dir = new TempDir();
        File.Copy(Shell.RepoPath("scripts/setup.sh"), dir.Combine("repo/scripts/setup.sh").AlsoCreateFolder());
        Directory.CreateDirectory(dir.Combine("repo/tests/interop/node_modules/nostr-tools"));
        string quoted = libraries.Replace("\t", "\\t").Replace("\n", "\\n");
        dir.Write("bin/ldconfig", $"#!/bin/sh\nprintf '{quoted}'\nyes '\tlibfiller.so.1 (libc6,x86-64) => /usr/lib/libfiller.so.1' | head -n 20000\n", executable: true);
        dir.Write("bin/apt-get", "#!/bin/sh\necho \"$*\" >> \"$(dirname \"$0\")/../apt-get.log\"\n", executable: true);
        dir.Write("bin/sudo", "#!/bin/sh\nexec \"$@\"\n", executable: true);
        foreach (string tool in new[] { "gcc", "ar", "shellcheck" })
            dir.Write("bin/" + tool, "#!/bin/sh\nexit 0\n", executable: true);
        return dir;
    }

    private static ScriptResult RunSetup(TempDir dir) =>
        Shell.Run("bash", [dir.Combine("repo/scripts/setup.sh")],
            new Dictionary<string, string> { ["PATH"] = dir.Combine("bin") + ":" + Environment.GetEnvironmentVariable("PATH") });

    [Fact]
    public void Installed_libraries_are_found_even_when_the_linker_cache_outgrows_a_pipe()
    {
        using var dir = Sandbox(Libsecp + Libssl);

        // Before the fix, grep -q quit at the first match, ldconfig died of SIGPIPE and pipefail made
        // the library look missing; with a cache this size that happened on every run.
        for (int run = 0; run < 5; run++)
        {
            var r = RunSetup(dir);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("setup: ok", r.Stdout);
            Assert.DoesNotContain("installing Debian packages", r.Stdout);
        }
        Assert.False(File.Exists(dir.Combine("apt-get.log")), "apt-get ran although every library is installed");
    }

    [Fact]
    public void A_library_that_is_really_missing_is_installed()
    {
        using var dir = Sandbox(Libssl);

        var r = RunSetup(dir);

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("installing Debian packages: libsecp256k1-1", r.Stdout);
        string aptLog = File.ReadAllText(dir.Combine("apt-get.log"));
        Assert.Contains("install -y -qq libsecp256k1-1", aptLog);
        Assert.DoesNotContain("libssl3", aptLog);
    }
}

internal static class PathExtensions
{
    /// <summary>Creates the file's folder and returns the path unchanged.</summary>
    public static string AlsoCreateFolder(this string file)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        return file;
    }
}
