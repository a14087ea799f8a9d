using System.Diagnostics;
using Relay.Tests.Integration;

namespace Relay.Tests.Policy;

/// <summary>nostr-tools' NIP-42 handling (onauth, auth(), the pool's retry after auth-required:) against a live relay.</summary>
public class AuthInteropTests
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
    public async Task Nostr_tools_clients_authenticate_and_read_their_own_dms_and_nobody_else_reads_or_counts_them()
    {
        string dir = InteropDir;
        Assert.True(Directory.Exists(Path.Combine(dir, "node_modules", "nostr-tools")),
            "tests/interop/node_modules is missing: run scripts/setup.sh (npm ci in tests/interop)");
        await using var relay = TestRelay.Start();
        // The relay tag nostr-tools signs is the URL it connected to.
        string url = $"ws://127.0.0.1:{relay.Server.Port}";
        relay.Reconfigure(c => c.Relay.Auth.ServiceUrl = url);

        var psi = new ProcessStartInfo("node") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("auth.mjs");
        psi.ArgumentList.Add(url);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        }
        finally
        {
            // A script stuck past the timeout must not outlive the test (nor hold the run open).
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
        string output = await stdout + await stderr;
        Assert.True(p.ExitCode == 0, output);
        Assert.Contains("AUTH INTEROP OK", output);
    }
}
