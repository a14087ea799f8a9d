namespace Relay.Tests.Ops;

public class ShellcheckTests
{
    /// <summary>Every shell script operators or CI run (scripts/, perf/, deploy/, .ci/run) is shellcheck-clean.</summary>
    [Fact]
    public void Shell_scripts_pass_shellcheck()
    {
        var scripts = new List<string> { Shell.RepoPath(".ci/run") };
        foreach (string folder in new[] { "scripts", "perf", "deploy" })
            scripts.AddRange(Directory.EnumerateFiles(Shell.RepoPath(folder), "*.sh", SearchOption.TopDirectoryOnly));
        Assert.Contains(Shell.RepoPath("scripts/sysctl-tuning.sh"), scripts);

        ScriptResult r;
        try { r = Shell.Run("shellcheck", ["--severity=style", .. scripts]); }
        catch (System.ComponentModel.Win32Exception) { throw new Xunit.Sdk.XunitException("shellcheck is not installed: run scripts/setup.sh"); }

        Assert.True(r.ExitCode == 0, r.ToString());
    }
}
