namespace Relay.Tests.Ops;

/// <summary>
/// scripts/sysctl-tuning.sh against a fake root (DIR/proc/sys, DIR/etc): the tests never touch the
/// machine's own kernel settings.
/// </summary>
public class SysctlTuningTests
{
    private const string Script = "scripts/sysctl-tuning.sh";

    // Debian 12's kernel defaults on a machine like this one (fields separated by tabs, as the kernel does).
    private static readonly Dictionary<string, string> s_stock = new(StringComparer.Ordinal)
    {
        ["fs.file-max"] = "2466170",
        ["fs.nr_open"] = "1048576",
        ["net.core.somaxconn"] = "4096",
        ["net.ipv4.tcp_max_syn_backlog"] = "2048",
        ["net.core.netdev_max_backlog"] = "1000",
        ["net.ipv4.ip_local_port_range"] = "32768\t60999",
        ["net.ipv4.tcp_fin_timeout"] = "60",
        ["net.ipv4.tcp_tw_reuse"] = "2",
        ["net.ipv4.tcp_keepalive_time"] = "7200",
        ["net.ipv4.tcp_keepalive_intvl"] = "75",
        ["net.ipv4.tcp_keepalive_probes"] = "9",
        ["net.ipv4.tcp_rmem"] = "4096\t131072\t6291456",
        ["net.ipv4.tcp_wmem"] = "4096\t16384\t4194304",
        ["net.netfilter.nf_conntrack_max"] = "65536",
    };

    private static readonly Dictionary<string, string> s_tuned = new(StringComparer.Ordinal)
    {
        ["fs.file-max"] = "9223372036854775807",
        ["fs.nr_open"] = "1048576",
        ["net.core.somaxconn"] = "65535",
        ["net.ipv4.tcp_max_syn_backlog"] = "65535",
        ["net.core.netdev_max_backlog"] = "16384",
        ["net.ipv4.ip_local_port_range"] = "1024\t65535",
        ["net.ipv4.tcp_fin_timeout"] = "10",
        ["net.ipv4.tcp_tw_reuse"] = "1",
        ["net.ipv4.tcp_keepalive_time"] = "300",
        ["net.ipv4.tcp_keepalive_intvl"] = "30",
        ["net.ipv4.tcp_keepalive_probes"] = "5",
        ["net.ipv4.tcp_rmem"] = "4096\t16384\t4194304",
        ["net.ipv4.tcp_wmem"] = "4096\t8192\t1048576",
        ["net.netfilter.nf_conntrack_max"] = "262144",
    };

    private static TempDir FakeRoot(IReadOnlyDictionary<string, string> values, params string[] without)
    {
        var root = new TempDir();
        // A script that ignored --root would reach for sysctl(8); this one records the attempt in the
        // fake root instead of changing the machine's kernel (snapshots then differ and the test fails).
        root.Write("bin/sysctl", "#!/bin/sh\necho \"$*\" >> \"$(dirname \"$0\")/../sysctl-called\"\nexit 1\n", executable: true);
        foreach (var (key, value) in values)
            if (Array.IndexOf(without, key) < 0)
                root.Write("proc/sys/" + key.Replace('.', '/'), value + "\n");
        return root;
    }

    private static string Value(TempDir root, string key) => File.ReadAllText(root.Combine("proc/sys/" + key.Replace('.', '/'))).Trim();

    private static Dictionary<string, string> GuardedPath(TempDir root) =>
        new() { ["PATH"] = root.Combine("bin") + ":" + Environment.GetEnvironmentVariable("PATH") };

    private static ScriptResult Run(TempDir root, params string[] args) =>
        Shell.Run("bash", [Shell.RepoPath(Script), .. args, "--root", root.Path], GuardedPath(root));

    [Fact]
    public void Check_passes_when_every_key_meets_or_beats_its_recommendation()
    {
        using var root = FakeRoot(s_tuned);
        var before = root.Snapshot();

        var r = Run(root, "--check");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("check: 14 ok, 0 need a change, 0 absent", r.Stdout);
        // Better than recommended in the "smaller is better" direction still counts as ok.
        Assert.EndsWith(" ok", r.Row("net.ipv4.tcp_wmem"));
        Assert.EndsWith(" ok", r.Row("net.ipv4.ip_local_port_range"));
        Assert.Equal(before, root.Snapshot());
    }

    [Fact]
    public void Check_fails_on_stock_settings_and_names_each_key_to_change_without_changing_it()
    {
        using var root = FakeRoot(s_stock);
        var before = root.Snapshot();

        var r = Run(root, "--check");

        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("needs change", r.Row("net.core.somaxconn"));
        Assert.Contains("32768 60999", r.Row("net.ipv4.ip_local_port_range"));
        Assert.Contains("needs change", r.Row("net.ipv4.tcp_rmem"));
        Assert.EndsWith(" ok", r.Row("fs.file-max"));
        Assert.EndsWith(" ok", r.Row("net.ipv4.tcp_wmem"));
        Assert.Contains("need a change", r.Stdout);
        Assert.Equal(before, root.Snapshot());
    }

    [Fact]
    public void A_key_the_kernel_lacks_is_reported_and_does_not_fail_the_check()
    {
        using var root = FakeRoot(s_tuned, without: "net.netfilter.nf_conntrack_max");

        var r = Run(root, "--check");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("absent", r.Row("net.netfilter.nf_conntrack_max"));
        Assert.Contains("check: 13 ok, 0 need a change, 1 absent", r.Stdout);
    }

    [Fact]
    public void Dry_run_shows_every_change_and_the_files_it_would_write_but_writes_nothing()
    {
        using var root = FakeRoot(s_stock, without: "net.netfilter.nf_conntrack_max");
        var before = root.Snapshot();

        var r = Run(root, "--dry-run", "--persist");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.EndsWith("would set 65535", r.Row("net.core.somaxconn"));
        Assert.EndsWith("would set 10240 65535", r.Row("net.ipv4.ip_local_port_range"));
        Assert.EndsWith("would set 4096 16384 4194304", r.Row("net.ipv4.tcp_rmem"));
        Assert.Contains("absent", r.Row("net.netfilter.nf_conntrack_max"));
        Assert.Contains("would write " + root.Combine("etc/sysctl.d/90-relay.conf"), r.Stdout);
        Assert.Contains("LimitNOFILE=1048576", r.Stdout);
        Assert.Contains("nothing was changed", r.Stdout);
        Assert.Equal(before, root.Snapshot());
        Assert.False(Directory.Exists(root.Combine("etc")));
    }

    [Fact]
    public void Read_only_proc_sys_is_reported_by_dry_run_and_apply_and_is_not_fatal()
    {
        using var root = FakeRoot(s_stock);
        var before = root.Snapshot();

        ScriptResult dryRun = RunOnReadOnlyProcSys(root, "--dry-run");
        ScriptResult apply = RunOnReadOnlyProcSys(root);

        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.Contains("would set 65535, but not writable", dryRun.Row("net.core.somaxconn"));
        Assert.True(apply.ExitCode == 0, apply.ToString());
        Assert.Contains("not writable", apply.Row("net.core.somaxconn"));
        Assert.EndsWith(" ok", apply.Row("fs.file-max"));
        Assert.Contains("0 set, 11 not set", apply.Stdout);
        Assert.Equal(before, root.Snapshot());
    }

    /// <summary>
    /// As root, file modes do not stop a write, so the fake proc/sys is made read-only the way a
    /// container's is: a read-only bind mount, in a private mount namespace that dies with the run.
    /// </summary>
    private static ScriptResult RunOnReadOnlyProcSys(TempDir root, params string[] args)
    {
        string procSys = root.Combine("proc/sys");
        if (!Shell.IsRoot && !OperatingSystem.IsWindows())
        {
            foreach (string f in Directory.EnumerateFiles(procSys, "*", SearchOption.AllDirectories))
                File.SetUnixFileMode(f, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            return Run(root, args);
        }
        string inner = "mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" && shift && exec bash \"$@\"";
        return Shell.Run("unshare", ["--mount", "--propagation", "private", "sh", "-c", inner, "sh", procSys,
            Shell.RepoPath(Script), .. args, "--root", root.Path], GuardedPath(root));
    }

    [Fact]
    public void Apply_raises_short_settings_never_lowers_better_ones_and_a_second_run_changes_nothing()
    {
        var start = new Dictionary<string, string>(s_stock)
        {
            ["fs.file-max"] = "9223372036854775807",
            ["net.ipv4.tcp_wmem"] = "4096\t8192\t1048576",
            ["net.ipv4.ip_local_port_range"] = "2000\t50000",
        };
        using var root = FakeRoot(start, without: "net.netfilter.nf_conntrack_max");

        var first = Run(root, "--persist");

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal("65535", Value(root, "net.core.somaxconn"));
        Assert.Equal("15", Value(root, "net.ipv4.tcp_fin_timeout"));
        Assert.Equal("4096 16384 4194304", Value(root, "net.ipv4.tcp_rmem"));
        Assert.Equal("9223372036854775807", Value(root, "fs.file-max"));
        Assert.Equal("4096\t8192\t1048576", Value(root, "net.ipv4.tcp_wmem"));
        // The range widens only where it falls short: its low end was already lower.
        Assert.Equal("2000 65535", Value(root, "net.ipv4.ip_local_port_range"));
        string conf = File.ReadAllText(root.Combine("etc/sysctl.d/90-relay.conf"));
        Assert.Contains("\nfs.file-max = 9223372036854775807\n", conf);
        Assert.Contains("\nnet.core.somaxconn = 65535\n", conf);
        Assert.Contains("\n-net.netfilter.nf_conntrack_max = 262144\n", conf);
        string dropIn = File.ReadAllText(root.Combine("etc/systemd/system/relay.service.d/90-limits.conf"));
        Assert.Contains("[Service]\nLimitNOFILE=1048576\n", dropIn);
        Assert.Equal(0, Run(root, "--check").ExitCode);

        var afterFirst = root.Snapshot();
        var second = Run(root, "--persist");

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("apply: 13 already ok, 0 set, 0 not set, 1 absent", second.Stdout);
        Assert.Contains(root.Combine("etc/sysctl.d/90-relay.conf") + ": unchanged", second.Stdout);
        Assert.Equal(afterFirst, root.Snapshot());
    }

    [Fact]
    public void Help_and_bad_arguments_change_nothing()
    {
        using var root = FakeRoot(s_stock);
        var before = root.Snapshot();
        var env = GuardedPath(root);
        env["RELAY_SYSCTL_ROOT"] = root.Path;

        var help = Shell.Run("bash", [Shell.RepoPath(Script), "--help"], env);
        var unknown = Shell.Run("bash", [Shell.RepoPath(Script), "--frobnicate"], env);
        var checkAndPersist = Shell.Run("bash", [Shell.RepoPath(Script), "--check", "--persist"], env);

        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains("--check", help.Stdout);
        Assert.Contains("LimitNOFILE", help.Stdout);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown argument '--frobnicate'", unknown.Stderr);
        Assert.Equal(2, checkAndPersist.ExitCode);
        Assert.Equal(before, root.Snapshot());
    }

    [Fact]
    public void Root_from_the_environment_is_used_when_no_root_argument_is_given()
    {
        using var root = FakeRoot(s_tuned);
        var env = GuardedPath(root);
        env["RELAY_SYSCTL_ROOT"] = root.Path;

        var r = Shell.Run("bash", [Shell.RepoPath(Script), "--check"], env);

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("9223372036854775807", r.Row("fs.file-max"));
    }

    [Fact]
    public void Keys_lists_every_managed_key_for_save_and_restore()
    {
        using var root = FakeRoot(s_stock);
        var before = root.Snapshot();

        var r = Run(root, "--keys");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(s_stock.Keys.Order(), r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
        Assert.Equal(before, root.Snapshot());
    }
}
