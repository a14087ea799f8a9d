using System.Text.Json;
using System.Text.RegularExpressions;
using Relay.Tests.Integration;
using YamlDotNet.RepresentationModel;

namespace Relay.Tests.Ops;

/// <summary>
/// deploy/ checked without extra tools: the files parse, carry what operators rely on, agree with
/// each other, and the dashboard and health check work against a real relay. The files' own
/// validators (nginx -t, systemd-analyze, promtool, Kubernetes and Compose schemas, a Dockerfile
/// linter) run in <see cref="Deploy_files_pass_their_own_validators"/>.
/// </summary>
public partial class DeployTests
{
    private const string DbPath = "/var/lib/relay";

    // Names the relay is to export (strfry's, and latency histograms); the dashboard may use them
    // before the relay serves them.
    private static readonly string[] s_announced =
    [
        "nostr_client_messages_total", "nostr_relay_messages_total", "nostr_events_total",
        "strfry_auth_challenges_sent_total", "strfry_auth_success_total", "strfry_auth_failure_total",
        "strfry_authenticated_connections_current",
        "relay_verify_seconds", "relay_commit_seconds", "relay_query_seconds",
    ];

    [GeneratedRegex(@"\b(?:strfry|nostr|relay)_[a-z0-9_]+")]
    private static partial Regex MetricName();

    private static string BaseName(string name)
    {
        foreach (string suffix in new[] { "_bucket", "_count", "_sum" })
            if (name.EndsWith(suffix, StringComparison.Ordinal)) return name[..^suffix.Length];
        return name;
    }

    private static List<(string Title, string Expr)> DashboardQueries()
    {
        using JsonDocument d = DeployFiles.Json("grafana/relay-dashboard.json");
        var queries = new List<(string, string)>();
        foreach (JsonElement p in d.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (p.GetProperty("type").GetString() == "row") continue;
            foreach (JsonElement t in p.GetProperty("targets").EnumerateArray())
                queries.Add((p.GetProperty("title").GetString()!, t.GetProperty("expr").GetString()!));
        }
        return queries;
    }

    [Fact]
    public void Dashboard_is_grafana_json_with_unique_panel_ids_and_a_query_in_every_panel()
    {
        using JsonDocument d = DeployFiles.Json("grafana/relay-dashboard.json");
        JsonElement root = d.RootElement;

        Assert.False(string.IsNullOrEmpty(root.GetProperty("uid").GetString()));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("title").GetString()));
        Assert.True(root.GetProperty("schemaVersion").GetInt32() >= 36);
        var ids = new HashSet<int>();
        foreach (JsonElement p in root.GetProperty("panels").EnumerateArray())
        {
            string title = p.GetProperty("title").GetString()!;
            Assert.True(ids.Add(p.GetProperty("id").GetInt32()), $"duplicate panel id in '{title}'");
            JsonElement grid = p.GetProperty("gridPos");
            Assert.True(grid.GetProperty("x").GetInt32() + grid.GetProperty("w").GetInt32() <= 24, $"'{title}' is wider than the dashboard");
            if (p.GetProperty("type").GetString() == "row") continue;
            JsonElement targets = p.GetProperty("targets");
            Assert.True(targets.GetArrayLength() > 0, $"'{title}' has no query");
            foreach (JsonElement t in targets.EnumerateArray())
                Assert.False(string.IsNullOrWhiteSpace(t.GetProperty("expr").GetString()), $"'{title}' has an empty query");
        }
        Assert.Contains(root.GetProperty("templating").GetProperty("list").EnumerateArray(), v => v.GetProperty("name").GetString() == "instance");
    }

    [Fact]
    public async Task Dashboard_charts_every_metric_the_relay_serves_and_no_unknown_one()
    {
        await using var relay = TestRelay.Start();
        using var http = new HttpClient();
        string metrics = await http.GetStringAsync(new Uri(relay.HttpUrl, "/metrics"));
        var served = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in metrics.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int end = line.IndexOfAny(['{', ' ']);
            served.Add(BaseName(end < 0 ? line : line[..end]));
        }
        var charted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (title, expr) in DashboardQueries())
            foreach (Match m in MetricName().Matches(expr))
            {
                string name = BaseName(m.Value);
                charted.Add(name);
                Assert.True(served.Contains(name) || s_announced.Contains(name),
                    $"panel '{title}' queries {name}, which the relay neither serves nor is to export");
            }

        Assert.NotEmpty(served);
        string[] uncharted = served.Except(charted).Order().ToArray();
        Assert.True(uncharted.Length == 0, "served on /metrics but on no panel of deploy/grafana/relay-dashboard.json: " + string.Join(", ", uncharted));
        string[] missing = s_announced.Except(charted).ToArray();
        Assert.True(missing.Length == 0, "announced but on no panel: " + string.Join(", ", missing));
    }

    [Fact]
    public void Every_yaml_file_in_deploy_parses()
    {
        var files = Directory.EnumerateFiles(Shell.RepoPath("deploy"), "*.y*ml", SearchOption.AllDirectories)
            .Where(f => !f.Contains("node_modules", StringComparison.Ordinal)).ToList();

        Assert.True(files.Count >= 10, string.Join(", ", files));
        foreach (string file in files)
        {
            var docs = DeployFiles.Yaml(Path.GetRelativePath(Shell.RepoPath("deploy"), file));
            Assert.NotEmpty(docs);
        }
    }

    [Fact]
    public void Statefulset_gives_each_pod_a_volume_probes_and_the_configmap()
    {
        YamlMappingNode sts = DeployFiles.Kind("kubernetes/statefulset.yaml", "StatefulSet", "relay");
        YamlMappingNode spec = sts.Map("spec");
        YamlMappingNode pod = spec.At("template.spec");
        YamlMappingNode container = pod.Seq("containers").Maps().Single();

        YamlMappingNode claim = spec.Seq("volumeClaimTemplates").Maps().Single();
        Assert.Contains("ReadWriteOnce", claim.Map("spec").Seq("accessModes").Select(n => n.ToString()));
        Assert.Equal("/health", container.At("livenessProbe.httpGet").Str("path"));
        Assert.Equal("/ready", container.At("readinessProbe.httpGet").Str("path"));
        Assert.Equal("7777", container.Seq("ports").Maps().Single().Str("containerPort"));
        var mounts = container.Seq("volumeMounts").Maps().ToDictionary(m => m.Str("name")!, m => m.Str("mountPath"));
        Assert.Equal(DbPath, mounts[claim.Map("metadata").Str("name")!]);
        string configVolume = pod.Seq("volumes").Maps().Single(v => v.Get("configMap") is not null).Str("name")!;
        Assert.Equal("/etc/relay", mounts[configVolume]);
        Assert.Equal(["--config", "/etc/relay/strfry.conf"], container.Seq("args").Select(n => n.ToString()));

        YamlMappingNode configMap = DeployFiles.Kind("kubernetes/configmap.yaml", "ConfigMap");
        Assert.Equal(pod.Seq("volumes").Maps().Single(v => v.Str("name") == configVolume).At("configMap").Str("name"), configMap.At("metadata").Str("name"));
        Assert.NotNull(configMap.Map("data").Str("strfry.conf"));
    }

    [Fact]
    public void Services_pdb_and_ingress_select_the_statefulset_pods()
    {
        YamlMappingNode sts = DeployFiles.Kind("kubernetes/statefulset.yaml", "StatefulSet");
        var podLabels = sts.At("spec.template.metadata.labels").Children.ToDictionary(p => p.Key.ToString(), p => p.Value.ToString());

        foreach (YamlMappingNode svc in DeployFiles.Yaml("kubernetes/service.yaml"))
            foreach (var (key, value) in svc.At("spec.selector").Children)
                Assert.Equal(podLabels[key.ToString()], value.ToString());
        foreach (var (key, value) in DeployFiles.Kind("kubernetes/pdb.yaml", "PodDisruptionBudget").At("spec.selector.matchLabels").Children)
            Assert.Equal(podLabels[key.ToString()], value.ToString());
        Assert.Contains(DeployFiles.Yaml("kubernetes/service.yaml"), s => s.Map("metadata").Str("name") == sts.Map("spec").Str("serviceName"));

        YamlMappingNode ingress = DeployFiles.Kind("kubernetes/ingress.yaml", "Ingress", "relay");
        YamlMappingNode annotations = ingress.At("metadata.annotations");
        Assert.True(int.Parse(annotations.Str("nginx.ingress.kubernetes.io/proxy-read-timeout")!) >= 3600);
        Assert.True(int.Parse(annotations.Str("nginx.ingress.kubernetes.io/proxy-send-timeout")!) >= 3600);
        string backend = ingress.Map("spec").Seq("rules").Maps().Single().At("http").Seq("paths").Maps().Single().At("backend.service").Str("name")!;
        Assert.Contains(DeployFiles.Yaml("kubernetes/service.yaml"), s => s.Map("metadata").Str("name") == backend);

        var listed = DeployFiles.Yaml("kubernetes/kustomization.yaml")[0].Seq("resources").Select(n => n.ToString()).Order();
        var present = Directory.EnumerateFiles(DeployFiles.PathOf("kubernetes"), "*.yaml").Select(Path.GetFileName).Where(f => f != "kustomization.yaml").Order();
        Assert.Equal(present, listed);
    }

    [Fact]
    public void Configmap_config_is_deploy_strfry_conf_with_bind_opened_to_the_pod_network()
    {
        string[] host = DeployFiles.Text("strfry.conf").TrimEnd('\n').Split('\n');
        string[] pod = DeployFiles.Kind("kubernetes/configmap.yaml", "ConfigMap").Map("data").Str("strfry.conf")!.TrimEnd('\n').Split('\n');

        Assert.Equal(host.Length, pod.Length);
        for (int i = 0; i < host.Length; i++)
        {
            if (host[i].Trim().StartsWith("bind = ", StringComparison.Ordinal))
            {
                Assert.Equal("bind = \"127.0.0.1\"", host[i].Trim());
                Assert.Equal("bind = \"0.0.0.0\"", pod[i].Trim());
            }
            else Assert.Equal(host[i], pod[i]);
        }
        Assert.Contains($"db = \"{DbPath}/\"", host);
    }

    [Fact]
    public void Systemd_unit_is_hardened_writes_only_the_db_and_stops_and_reloads_by_signal()
    {
        var unit = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in DeployFiles.Text("systemd/relay.service").Split('\n'))
        {
            int eq = line.IndexOf('=');
            if (line.StartsWith('#') || eq <= 0) continue;
            unit[line[..eq]] = line[(eq + 1)..];
        }

        Assert.Equal("strict", unit["ProtectSystem"]);
        Assert.Equal(DbPath, unit["ReadWritePaths"]);
        Assert.True(unit.ContainsKey("User") || unit.GetValueOrDefault("DynamicUser") == "yes");
        Assert.Equal("yes", unit["NoNewPrivileges"]);
        Assert.True(long.Parse(unit["LimitNOFILE"]) >= 65536);
        Assert.Equal("/bin/kill -HUP $MAINPID", unit["ExecReload"]);
        Assert.Equal("SIGTERM", unit["KillSignal"]);
        Assert.StartsWith("/usr/local/bin/relay --config /etc/relay/strfry.conf", unit["ExecStart"]);
        Assert.Contains("relay.nofiles", DeployFiles.Text("systemd/relay.service"));
    }

    [Fact]
    public void Nginx_site_upgrades_websockets_passes_the_client_address_and_keeps_metrics_internal()
    {
        string site = DeployFiles.Text("nginx/relay.conf");

        Assert.Contains("proxy_set_header Upgrade $http_upgrade;", site);
        Assert.Contains("proxy_set_header Connection $relay_connection;", site);
        Assert.Contains("proxy_set_header X-Real-IP $remote_addr;", site);
        Assert.Contains("proxy_http_version 1.1;", site);
        Assert.Contains("server 127.0.0.1:7777;", site);
        Assert.Matches(@"listen 443 ssl", site);
        Assert.Matches(@"proxy_read_timeout 1h;", site);
        Assert.Matches(@"limit_req zone=", site);
        Match metrics = Regex.Match(site, @"location = /metrics \{(?<body>[^}]*)\}");
        Assert.True(metrics.Success, "no location for /metrics");
        Assert.Contains("deny all;", metrics.Groups["body"].Value);
        Assert.Contains("realIpHeader = \"x-real-ip\"", DeployFiles.Text("strfry.conf"));
    }

    [Fact]
    public void Image_is_multi_stage_non_root_with_a_db_volume_and_a_health_check()
    {
        string dockerfile = DeployFiles.Text("Dockerfile");
        var instructions = dockerfile.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith(' ')).ToList();

        Assert.Equal(2, instructions.Count(l => l.StartsWith("FROM ", StringComparison.Ordinal)));
        Assert.Contains("dotnet publish src/Relay.Server -c Release", dockerfile);
        Assert.Contains($"VOLUME [\"{DbPath}\"]", instructions);
        string user = instructions.Single(l => l.StartsWith("USER ", StringComparison.Ordinal));
        Assert.DoesNotContain("root", user);
        Assert.Contains("libssl3", dockerfile);
        Assert.Contains("libsecp256k1-1", dockerfile);
        Assert.Contains("COPY --from=build /out/relay /usr/local/bin/relay", instructions);
        Assert.Single(instructions, l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal));
        Assert.Contains("bin/", File.ReadAllText(Shell.RepoPath(".dockerignore")));
    }

    /// <summary>The image's HEALTHCHECK command, run by bash against a live relay and a closed port.</summary>
    [Fact]
    public async Task Image_health_check_passes_on_a_live_relay_and_fails_without_one()
    {
        string dockerfile = DeployFiles.Text("Dockerfile");
        Match cmd = Regex.Match(dockerfile, @"CMD (\[""bash"".*\])");
        Assert.True(cmd.Success, "HEALTHCHECK CMD not found");
        string script = JsonSerializer.Deserialize<string[]>(cmd.Groups[1].Value)![2];
        Assert.Contains("/dev/tcp/127.0.0.1/7777", script);

        await using var relay = TestRelay.Start();
        var live = Shell.Run("bash", ["-c", script.Replace("/7777", "/" + relay.Server.Port)]);
        int closedPort;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        var down = Shell.Run("bash", ["-c", script.Replace("/7777", "/" + closedPort)]);

        Assert.True(live.ExitCode == 0, live.ToString());
        Assert.NotEqual(0, down.ExitCode);
    }

    [Fact]
    public void Compose_runs_two_relays_with_their_own_volumes_behind_a_sticky_nginx()
    {
        YamlMappingNode compose = DeployFiles.Yaml("compose/compose.yaml")[0];
        YamlMappingNode services = compose.Map("services");

        var volumes = new List<string>();
        foreach (string node in new[] { "relay1", "relay2" })
        {
            string volume = services.Map(node).Seq("volumes").Single().ToString();
            Assert.EndsWith(":" + DbPath, volume);
            volumes.Add(volume.Split(':')[0]);
        }
        Assert.Equal(2, volumes.Distinct().Count());
        Assert.All(volumes, v => Assert.NotNull(compose.Map("volumes").Get(v)));
        Assert.NotNull(services.Map("nginx").Get("depends_on"));
        string nginx = DeployFiles.Text("compose/nginx.conf");
        Match upstream = Regex.Match(nginx, @"upstream relay \{(?<body>[^}]*)\}");
        Assert.Contains("ip_hash;", upstream.Groups["body"].Value);
        Assert.Contains("server relay1:7777", upstream.Groups["body"].Value);
        Assert.Contains("server relay2:7777", upstream.Groups["body"].Value);
    }

    [Fact]
    public void Prometheus_examples_scrape_the_relay_job_and_load_the_alert_rules()
    {
        foreach (string file in new[] { "prometheus/prometheus.yml", "prometheus/prometheus-kubernetes.yml" })
        {
            YamlMappingNode config = DeployFiles.Yaml(file)[0];
            Assert.Contains("relay-rules.yml", config.Seq("rule_files").Select(n => n.ToString()));
            Assert.NotEmpty(config.Seq("scrape_configs").Maps());
        }
        YamlMappingNode host = DeployFiles.Yaml("prometheus/prometheus.yml")[0];
        Assert.Contains(host.Seq("scrape_configs").Maps(), j => j.Str("job_name") == "relay");
        YamlMappingNode rules = DeployFiles.Yaml("prometheus/relay-rules.yml")[0];
        Assert.All(rules.Seq("groups").Maps().SelectMany(g => g.Seq("rules").Maps()), r => Assert.False(string.IsNullOrEmpty(r.Str("expr"))));
    }

    /// <summary>
    /// nginx -t, systemd-analyze verify, promtool, the Kubernetes and Compose schemas and a Dockerfile
    /// linter, through deploy/validate.sh.
    /// </summary>
    [OptInFact("RELAY_DEPLOY_VALIDATE", "run deploy/validate.sh --install once (Debian + npm packages)")]
    public void Deploy_files_pass_their_own_validators()
    {
        var r = Shell.Run("bash", [DeployFiles.PathOf("validate.sh"), "--require-all"], timeout: TimeSpan.FromMinutes(3));

        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (string validator in new[] { "nginx -t (nginx/relay.conf)", "systemd-analyze verify", "promtool check config (prometheus/prometheus.yml)",
                     "kubernetes-models schemas", "compose-spec schema", "dockerfile-utils lint" })
            Assert.Contains("ran:     " + validator, r.Stdout);
    }
}
