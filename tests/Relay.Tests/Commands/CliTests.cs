using Relay.Tests.Integration;

namespace Relay.Tests.Commands;

/// <summary>The command line as an operator meets it: help, version, errors, and strfry's spellings.</summary>
public class CliTests
{
    [Fact]
    public async Task Help_lists_the_commands_and_the_global_options()
    {
        var r = await RelayCli.RunAsync("--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("--config", r.Stdout);
        Assert.Contains("--set", r.Stdout);
        Assert.Contains("--version", r.Stdout);
        Assert.Contains("info", r.Stdout);
    }

    [Fact]
    public async Task Version_prints_the_version()
    {
        var r = await RelayCli.RunAsync("--version");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith(Relay.Server.Relay.RelayServer.Version, r.Stdout.Trim());
    }

    [Fact]
    public async Task Config_without_a_value_is_reported_as_a_missing_value()
    {
        var r = await RelayCli.RunAsync("info", "--config");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--config", r.Stderr);
        Assert.DoesNotContain("nrecognized", r.Stderr);
    }

    [Fact]
    public async Task Extra_arguments_are_refused_not_ignored()
    {
        var r = await RelayCli.RunAsync("info", "surplus");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("surplus", r.Stderr);
    }

    [Fact]
    public async Task Info_describes_the_database_named_by_the_config()
    {
        string dir = TestRelay.NewTempDir();
        try
        {
            string config = RelayCli.WriteConfig(dir);
            // strfry's option spelling (--config=FILE before the command) and ours (after it) both work.
            foreach (var args in new[] { new[] { "--config=" + config, "info" }, new[] { "info", "--config", config } })
            {
                var r = await RelayCli.RunAsync(args);
                Assert.True(r.ExitCode == 0, r.ToString());
                Assert.Contains("events: 0", r.Stdout);
                Assert.Contains("lmdb: 1.0.", r.Stdout);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Strfry_serve_verb_is_dropped_where_a_command_would_stand()
    {
        Assert.Equal(["--config=x"], Relay.Server.Commands.Cli.WithoutServeVerb(["--config=x", "relay"]));
        Assert.Equal(["--config", "x"], Relay.Server.Commands.Cli.WithoutServeVerb(["--config", "x", "relay"]));
        // A value that happens to be "relay" is left alone.
        Assert.Equal(["--set", "relay", "info"], Relay.Server.Commands.Cli.WithoutServeVerb(["--set", "relay", "info"]));
        Assert.Equal(["export", "relay"], Relay.Server.Commands.Cli.WithoutServeVerb(["export", "relay"]));
    }
}
