using System.Diagnostics;
using Relay.Server.Config;

namespace Relay.Tests.Config;

/// <summary>Runs only where strfry's repository is mirrored (developer machines, not CI).</summary>
public sealed class StrfryMirrorFactAttribute : FactAttribute
{
    public const string GitDir = "/work/.mirror/hoytech+strfry/repo";
    public const string Commit = "f8a56a85967630a115e3c4367db42d228d7bedf3";

    public StrfryMirrorFactAttribute()
    {
        if (!Directory.Exists(GitDir)) Skip = "strfry's repository is not mirrored here";
    }

    public static string Show(string path) => Git("show", Commit + ":" + path);

    public static string Git(params string[] args)
    {
        var psi = new ProcessStartInfo("git", ["--git-dir=" + GitDir, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var git = Process.Start(psi)!;
        string text = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        Assert.True(git.ExitCode == 0, $"git {string.Join(' ', args)}: {git.StandardError.ReadToEnd()}");
        return text;
    }
}

public class StrfryConfTests
{
    // Relay's defaults differ from strfry's here on purpose (see RelayConfig).
    private static readonly HashSet<string> OwnDefaults = ["db", "relay.info.name", "relay.info.description"];

    [Fact]
    public void Strfry_conf_keys_and_values_bind_to_strfrys_defaults()
    {
        var loaded = ConfigLoader.FromText(StrfryConfFixture.Text, "strfry.conf", []);
        AssertStrfryDefaults(loaded);
    }

    [StrfryMirrorFact]
    public void Strfrys_own_strfry_conf_unchanged_binds_to_strfrys_defaults()
    {
        var loaded = ConfigLoader.FromText(StrfryMirrorFactAttribute.Show("strfry.conf"), "strfry.conf", []);
        AssertStrfryDefaults(loaded);
    }

    private static void AssertStrfryDefaults(LoadedConfig loaded)
    {
        Assert.Equal(ConfigFormat.TaoConfig, loaded.Format);
        var relayDefaults = new RelayConfig();
        foreach (var key in ConfigSchema.Keys)
        {
            if (ConfigSchema.RelayOnly.Contains(key.Path)) continue;
            Assert.NotNull(loaded.LocationOf(key.Path)); // every key of the schema is in strfry's file
            if (!OwnDefaults.Contains(key.Path)) Assert.Equal(key.Show(relayDefaults), key.Show(loaded.Config));
        }
        Assert.Equal("./strfry-db/", loaded.Config.Db);
        Assert.Equal("strfry default", loaded.Config.Relay.Info.Name);
        Assert.Equal([4, 1059], loaded.Config.Relay.Auth.RestrictedReadKindList);
        // strfry's values are the defaults, so even the keys Relay does not act on ask for nothing it misses.
        Assert.Empty(loaded.Warnings);
    }

    /// <summary>Every strfry.conf strfry ever shipped loads: keys of older versions are warned about, never refused.</summary>
    [StrfryMirrorFact]
    public void Every_historical_strfry_conf_loads()
    {
        var commits = StrfryMirrorFactAttribute.Git("log", "--format=%H", StrfryMirrorFactAttribute.Commit, "--", "strfry.conf")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(commits.Length > 20);
        int warned = 0;
        foreach (string commit in commits)
        {
            string text = StrfryMirrorFactAttribute.Git("show", commit + ":strfry.conf");
            var loaded = ConfigLoader.FromText(text, $"strfry.conf@{commit[..7]}", []);
            if (loaded.Warnings.Count > 0) warned++;
        }
        Assert.True(warned > 0); // the old ones carry yesstr, "unset" placeholders, ...
    }

    /// <summary>
    /// Our schema against strfry's own key table: the same keys, the same defaults (but the three
    /// we change on purpose), and restart-required exactly where strfry says noReload.
    /// </summary>
    [StrfryMirrorFact]
    public void Schema_matches_strfrys_golpe_yaml_keys_defaults_and_reload_flags()
    {
        var entries = GolpeConfigEntries(StrfryMirrorFactAttribute.Show("golpe.yaml"))
            .Concat(GolpeConfigEntries(StrfryMirrorFactAttribute.Show("src/apps/relay/golpe.yaml")))
            .ToList();
        Assert.Equal(ConfigSchema.Keys.Count - ConfigSchema.RelayOnly.Count, entries.Count);
        var defaults = new RelayConfig();
        foreach (var (name, value, noReload) in entries)
        {
            string path = name.Replace("__", ".");
            var key = ConfigSchema.Find(path);
            Assert.True(key is not null, $"strfry key {path} is missing from ConfigSchema");
            Assert.True(key.RestartRequired == noReload, $"{path}: restart-required {key.RestartRequired}, strfry noReload {noReload}");
            if (OwnDefaults.Contains(path)) continue;
            string expected = key.Kind == ConfigValueKind.String ? ConfigValues.Quote(value) : value.ToLowerInvariant();
            Assert.True(expected == key.Show(defaults), $"{path}: default {key.Show(defaults)}, strfry's {expected}");
        }
    }

    private static IEnumerable<(string Name, string Default, bool NoReload)> GolpeConfigEntries(string yaml)
    {
        bool inConfig = false;
        string? name = null, value = null;
        bool noReload = false;
        foreach (string rawLine in yaml.Split('\n'))
        {
            string line = rawLine.TrimEnd();
            if (line.Length > 0 && !char.IsWhiteSpace(line[0]))
            {
                if (name is not null) yield return (name, value ?? "", noReload);
                name = null;
                inConfig = line == "config:";
                continue;
            }
            if (!inConfig) continue;
            string t = line.Trim();
            if (t.StartsWith("- name:", StringComparison.Ordinal))
            {
                if (name is not null) yield return (name, value ?? "", noReload);
                name = t["- name:".Length..].Trim();
                value = null;
                noReload = false;
            }
            else if (t.StartsWith("default:", StringComparison.Ordinal))
            {
                string v = t["default:".Length..].Trim();
                if (v.StartsWith('"')) v = v[1..v.LastIndexOf('"')];
                else if (v.Contains('#')) v = v[..v.IndexOf('#')].Trim();
                value = v;
            }
            else if (t == "noReload: true")
            {
                noReload = true;
            }
        }
        if (name is not null) yield return (name, value ?? "", noReload);
    }
}
