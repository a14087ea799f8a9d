using System.Diagnostics;

namespace Relay.Tests.Integration;

/// <summary>nostr-tools, the JavaScript library most Nostr apps use, against a live relay.</summary>
public class InteropTests
{
    private static string InteropDir
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Relay.sln"))) dir = dir.Parent;
            if (dir is null) throw new DirectoryNotFoundException("repository root (Relay.sln) not found above " + AppContext.BaseDirectory);
            return Path.Combine(dir.FullName, "tests", "interop");
        }
    }

    [Fact]
    public async Task Nostr_tools_publishes_queries_subscribes_and_counts()
    {
        string dir = InteropDir;
        Assert.True(Directory.Exists(Path.Combine(dir, "node_modules", "nostr-tools")),
            "tests/interop/node_modules is missing: run scripts/setup.sh (npm ci in tests/interop)");
        await using var relay = TestRelay.Start();

        var psi = new ProcessStartInfo("node") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("interop.mjs");
        psi.ArgumentList.Add(relay.Url.ToString().TrimEnd('/'));
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        string output = await stdout + await stderr;
        Assert.True(p.ExitCode == 0, output);
        Assert.Contains("INTEROP OK", output);
    }
}
