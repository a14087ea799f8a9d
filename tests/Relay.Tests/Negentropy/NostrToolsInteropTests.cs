using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Relay.Native.Events;
using Relay.Native.Negentropy;

namespace Relay.Tests.Negentropy;

/// <summary>
/// Our engine against an implementation we did not write: nostr-tools' nip77 client (node,
/// tests/interop/neg-vectors.mjs) reconciles against replies from our responder, and its
/// fingerprint and initial message must equal ours byte for byte.
/// </summary>
public class NostrToolsInteropTests
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

    public static TheoryData<string, int, int> Cases() => new()
    {
        // name, server size, frame limit (both sides)
        { "overlapping", 5000, NegentropyProtocol.MinFrameSizeLimit },
        { "overlapping", 5000, NegentropyProtocol.ClientFrameSizeLimit },
        { "identical", 2000, NegentropyProtocol.ClientFrameSizeLimit },
        { "empty-client", 3000, NegentropyProtocol.MinFrameSizeLimit },
        { "one-timestamp", 3000, NegentropyProtocol.MinFrameSizeLimit },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Nostr_tools_client_reconciles_against_our_responder(string scenario, int serverSize, int frameSizeLimit)
    {
        string dir = InteropDir;
        Assert.True(Directory.Exists(Path.Combine(dir, "node_modules", "nostr-tools")),
            "tests/interop/node_modules is missing: run scripts/setup.sh (npm ci in tests/interop)");

        var random = new Random(serverSize + frameSizeLimit + scenario.Length);
        int spread = scenario == "one-timestamp" ? 1 : 100_000;
        var server = NegTestKit.RandomItems(random, serverSize, spread: spread);
        var client = scenario switch
        {
            "identical" => new List<NegItem>(server),
            "empty-client" => new List<NegItem>(),
            _ => server.Where((_, i) => i % 9 != 0).Concat(NegTestKit.RandomItems(random, 300, spread: spread)).ToList(),
        };

        var psi = new ProcessStartInfo("node")
        {
            WorkingDirectory = dir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add("neg-vectors.mjs");
        using var node = Process.Start(psi)!;
        var stderr = node.StandardError.ReadToEndAsync();
        try
        {
            var config = new { items = client.Select(i => new object[] { i.Timestamp, i.Id.ToString() }).ToArray(), frameSizeLimit };
            await node.StandardInput.WriteLineAsync(JsonSerializer.Serialize(config));
            await node.StandardInput.FlushAsync();

            var clientVector = NegTestKit.Vector(client);
            string fingerprint = await Expect(node, "FP ", stderr);
            Assert.Equal(clientVector.Fingerprint(0, clientVector.Count).ToString(), fingerprint);

            // Same algorithm, same set: their initial message is ours, byte for byte.
            string initial = await Expect(node, "INIT ", stderr);
            var ours = new NegentropyClient(clientVector, frameSizeLimit);
            Assert.Equal(Convert.ToHexStringLower(ours.Initiate()), initial);

            var responder = new NegentropyResponder(frameSizeLimit);
            var serverVector = NegTestKit.Vector(server);
            string message = initial;
            for (int round = 1; ; round++)
            {
                Assert.True(round < 5000, "no convergence");
                Assert.Equal(NegError.None, responder.Respond(serverVector, Convert.FromHexString(message)));
                Assert.True(responder.Reply.Length <= frameSizeLimit);
                await node.StandardInput.WriteLineAsync("MSG " + Convert.ToHexStringLower(responder.Reply));
                await node.StandardInput.FlushAsync();
                string? line = await ReadLine(node, stderr);
                if (line.StartsWith("DONE ", StringComparison.Ordinal))
                {
                    using var done = JsonDocument.Parse(line.Substring(5));
                    var have = done.RootElement.GetProperty("have").EnumerateArray().Select(e => Bytes32.From(Convert.FromHexString(e.GetString()!))).ToList();
                    var need = done.RootElement.GetProperty("need").EnumerateArray().Select(e => Bytes32.From(Convert.FromHexString(e.GetString()!))).ToList();
                    // nostr-tools may report an id twice when a frame limit reopens a range; as sets they must be exact.
                    var result = new NegTestKit.SyncResult(have.Distinct().ToList(), need.Distinct().ToList(), round, 0, 0);
                    NegTestKit.AssertFoundDifference(client, server, result);
                    if (scenario == "identical") Assert.Equal(1, round);
                    return;
                }
                Assert.StartsWith("MSG ", line);
                message = line.Substring(4);
                Assert.True(message.Length / 2 <= frameSizeLimit);
            }
        }
        finally
        {
            if (!node.HasExited) node.Kill();
            await node.WaitForExitAsync();
        }
    }

    private static async Task<string> Expect(Process node, string prefix, Task<string> stderr)
    {
        string line = await ReadLine(node, stderr);
        Assert.True(line.StartsWith(prefix, StringComparison.Ordinal), $"expected {prefix.Trim()}, got: {line}");
        return line.Substring(prefix.Length);
    }

    private static async Task<string> ReadLine(Process node, Task<string> stderr)
    {
        var line = await node.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (line is null) Assert.Fail("node exited: " + await stderr);
        Assert.False(line!.StartsWith("ERROR", StringComparison.Ordinal), "nostr-tools: " + line);
        return line;
    }
}
