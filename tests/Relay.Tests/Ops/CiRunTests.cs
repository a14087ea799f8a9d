namespace Relay.Tests.Ops;

/// <summary>
/// .ci/run in a copy of the repository whose setup is a stub and whose dotnet is a fake that prints
/// what the real one prints: the closing totals line and the temp files are what is checked.
/// </summary>
public class CiRunTests
{
    private static TempDir Sandbox(string testOutput, int testExitCode)
    {
        var dir = new TempDir();
        File.Copy(Shell.RepoPath(".ci/run"), dir.Combine("repo/.ci/run").AlsoCreateFolder());
        dir.Write("repo/scripts/setup.sh", "echo 'setup: ok'\n");
        dir.Write("bin/dotnet", $$"""
            #!/bin/sh
            case "$1" in
              publish) mkdir -p publish/relay && printf '#!/bin/sh\n' > publish/relay/relay && chmod +x publish/relay/relay
                       echo "  Relay.Server -> $PWD/publish/relay/" ;;
              test) printf '%s\n' '{{testOutput}}'; exit {{testExitCode}} ;;
            esac
            """, executable: true);
        Directory.CreateDirectory(dir.Combine("tmp"));
        return dir;
    }

    private static ScriptResult RunCi(TempDir dir) =>
        Shell.Run("bash", [dir.Combine("repo/.ci/run")], new Dictionary<string, string>
        {
            ["PATH"] = dir.Combine("bin") + ":" + Environment.GetEnvironmentVariable("PATH"),
            ["TMPDIR"] = dir.Combine("tmp"),
        });

    private static string LastLine(string text) => text.TrimEnd('\n').Split('\n')[^1];

    [Fact]
    public void A_green_run_ends_with_the_totals_and_leaves_no_temp_logs()
    {
        using var dir = Sandbox("Passed!  - Failed:     0, Passed:   412, Skipped:     0, Total:   412, Duration: 1 m", 0);

        var r = RunCi(dir);

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("412 passed, 0 failed", LastLine(r.Stdout));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Combine("tmp")));
    }

    [Fact]
    public void A_red_run_counts_failures_and_skips_and_still_leaves_no_temp_logs()
    {
        using var dir = Sandbox("Failed!  - Failed:     2, Passed:   410, Skipped:     1, Total:   413, Duration: 1 m", 1);

        var r = RunCi(dir);

        Assert.Equal(1, r.ExitCode);
        Assert.Equal("410 passed, 2 failed, 1 skipped", LastLine(r.Stdout));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Combine("tmp")));
    }
}
