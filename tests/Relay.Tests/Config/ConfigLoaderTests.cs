using Relay.Server.Config;

namespace Relay.Tests.Config;

public class ConfigLoaderTests
{
    private static LoadedConfig Load(string text, string source = "f.conf", params string[] sets) =>
        ConfigLoader.FromText(text, source, sets);

    private static string Error(string text, string source = "f.conf", params string[] sets) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.FromText(text, source, sets)).Message;

    // --- format by content

    [Fact]
    public void Json_with_leading_comments_is_read_as_json()
    {
        var loaded = Load("// Relay config\n/* more */\n{ \"relay\": { \"port\": 9000, }, }", "relay.cfg");
        Assert.Equal(ConfigFormat.Json, loaded.Format);
        Assert.Equal(9000, loaded.Config.Relay.Port);
    }

    [Fact]
    public void A_file_named_json_holding_taocpp_is_read_as_taocpp()
    {
        var loaded = Load("relay { port = 9001 }", "config.json");
        Assert.Equal(ConfigFormat.TaoConfig, loaded.Format);
        Assert.Equal(9001, loaded.Config.Relay.Port);
    }

    [Fact]
    public void A_braced_file_with_taocpp_syntax_inside_is_read_as_taocpp()
    {
        var loaded = Load("{ relay { port = 9002 } }");
        Assert.Equal(ConfigFormat.TaoConfig, loaded.Format);
        Assert.Equal(9002, loaded.Config.Relay.Port);
    }

    [Fact]
    public void Json_syntax_errors_name_line_and_column()
    {
        string message = Error("{\n  \"relay\": {\n    \"port\": 7777,, \"bind\": \"x\"\n  }\n}", "config.json");
        Assert.Equal("config.json:3:18: ',' is an invalid start of a property name. Expected a '\"'.", message);
    }

    [Fact]
    public void A_json_file_missing_a_comma_is_still_read_since_taocpp_commas_are_optional()
    {
        var loaded = Load("{\n  \"relay\": {\n    \"port\": 7000\n    \"maxFilterLimit\": 9\n  }\n}", "config.json");
        Assert.Equal(ConfigFormat.TaoConfig, loaded.Format);
        Assert.Equal(9, loaded.Config.Relay.MaxFilterLimit);
    }

    [Fact]
    public void An_unclosed_json_object_is_reported_at_the_end()
    {
        string message = Error("{\n  \"relay\": {\n    \"port\": 7777\n", "config.json");
        Assert.Equal("config.json:4:1: the file ends before every '{' or '[' is closed", message);
    }

    // --- whole-file problems

    [Theory]
    [InlineData("")]
    [InlineData("  \n\t\n")]
    public void An_empty_file_is_one_clear_line_naming_the_file(string text)
    {
        Assert.Equal("f.conf: the file is empty; write settings as `key = value` lines (strfry.conf) or as a JSON object", Error(text));
    }

    [Theory]
    [InlineData("[]", "an array [ ... ]")]
    [InlineData("[1, 2]", "an array [ ... ]")]
    [InlineData("42", "42")]
    [InlineData("\"text\"", "\"text\"")]
    [InlineData("true", "true")]
    public void A_file_holding_an_array_or_a_scalar_says_so(string text, string found)
    {
        Assert.Equal($"f.conf: the file holds {found}, not settings; write `key = value` lines (strfry.conf) or a JSON object {{ ... }}", Error(text));
    }

    [Fact]
    public void A_comments_only_taocpp_file_gives_defaults()
    {
        var loaded = Load("# everything commented out\n# port = 1\n");
        Assert.Equal(7777, loaded.Config.Relay.Port);
    }

    [Fact]
    public void A_directory_given_as_config_is_named_as_such()
    {
        var env = new FakeConfigEnvironment();
        env.Directories.Add("/etc/relay");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load("/etc/relay", [], env));
        Assert.Equal("/etc/relay: is a directory, not a config file", e.Message);
    }

    [Fact]
    public void A_real_directory_given_as_config_is_named_as_such()
    {
        string dir = Directory.CreateTempSubdirectory("relay-conf-").FullName;
        try
        {
            var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(dir, []));
            Assert.Equal($"{dir}: is a directory, not a config file", e.Message);
        }
        finally { Directory.Delete(dir); }
    }

    [Fact]
    public void An_unreadable_file_is_one_line_naming_the_file()
    {
        var env = new FakeConfigEnvironment();
        env.Unreadable.Add("/etc/strfry.conf");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load("/etc/strfry.conf", [], env));
        Assert.Equal("/etc/strfry.conf: cannot read the config file: permission denied", e.Message);
    }

    [Fact]
    public void A_missing_explicit_file_is_an_error()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load("/nonexistent/strfry.conf", [], new FakeConfigEnvironment()));
        Assert.Equal("/nonexistent/strfry.conf: no such config file", e.Message);
    }

    // --- keys

    [Theory]
    [InlineData("relay {\n  foo = 1\n}", "f.conf:2:3: unknown key 'relay.foo'")]
    [InlineData("relay.prot = 1", "f.conf:1:1: unknown key 'relay.prot' (did you mean 'relay.port'?)")]
    [InlineData("Relay { port = 1 }", "f.conf:1:1: unknown key 'Relay'")]
    [InlineData("relay.maxEventSize = 1000", "f.conf:1:1: unknown key 'relay.maxEventSize' (did you mean 'events.maxEventSize'?)")]
    [InlineData("relay.plugins.other = 1", "f.conf:1:1: unknown key 'relay.plugins.other'")]
    public void Unknown_keys_are_errors_with_their_position(string text, string expected)
    {
        Assert.StartsWith(expected, Error(text));
    }

    [Fact]
    public void Unknown_json_key_is_named_with_its_position_not_as_a_bad_value()
    {
        string message = Error("{\n  \"relay\": {\n    \"prot\": 1\n  }\n}", "config.json");
        Assert.Equal("config.json:3:5: unknown key 'relay.prot' (did you mean 'relay.port'?)", message);
    }

    [Theory]
    [InlineData("relay.port = \"seven\"", "f.conf:1:1: key 'relay.port' must be an integer from 0 to 65535 (found \"seven\")")]
    [InlineData("relay.port = 70000", "f.conf:1:1: key 'relay.port' must be an integer from 0 to 65535 (found 70000)")]
    [InlineData("relay.port = 1.5", "f.conf:1:1: key 'relay.port' must be an integer from 0 to 65535 (found 1.5)")]
    [InlineData("events.maxEventSize = -5", "f.conf:1:1: key 'events.maxEventSize' must be an integer of at least 256 (found -5)")]
    [InlineData("relay.nofiles = -1", "f.conf:1:1: key 'relay.nofiles' must be an integer of 0 or more (found -1)")]
    [InlineData("relay.auth.enabled = \"yes\"", "f.conf:1:1: key 'relay.auth.enabled' must be true or false (found \"yes\")")]
    [InlineData("relay.info.name = 5", "f.conf:1:1: key 'relay.info.name' must be a string (found 5)")]
    [InlineData("relay.bind = \"localhost-ish\"", "f.conf:1:1: key 'relay.bind' must be an IP address such as 127.0.0.1 or 0.0.0.0 (found \"localhost-ish\")")]
    [InlineData("relay = 5", "f.conf:1:1: key 'relay' must be a section { ... } (found 5)")]
    [InlineData("relay { numThreads { ingester = 0 } }", "f.conf:1:22: key 'relay.numThreads.ingester' must be an integer from 1 to 64 (found 0)")]
    [InlineData("relay.info.nips = \"1, 11\"", "f.conf:1:1: key 'relay.info.nips' must be a JSON array of NIP numbers in a string")]
    [InlineData("relay.auth.restrictedReadKinds = \"4, dm\"", "f.conf:1:1: key 'relay.auth.restrictedReadKinds' must be a comma-separated list of event kinds in a string, e.g. \"4, 1059\": 'dm' is not an event kind")]
    [InlineData("db = \"\"", "f.conf:1:1: key 'db' must be a directory path (found \"\")")]
    [InlineData("relay.filterValidation { minFiltersPerReq = 5, maxFiltersPerReq = 3 }", "f.conf:1:26: key 'relay.filterValidation.minFiltersPerReq' (5) must not be more than relay.filterValidation.maxFiltersPerReq (3)")]
    [InlineData("relay.maxPendingOutboundBytes = 100", "f.conf:1:1: key 'relay.maxPendingOutboundBytes' must be 0 (unlimited) or at least 65536 (found 100)")]
    public void Wrong_values_name_the_key_and_what_it_takes(string text, string expected)
    {
        string message = Error(text);
        Assert.StartsWith(expected, message);
        Assert.DoesNotContain("System.", message);
        Assert.DoesNotContain("Int32", message);
    }

    [Fact]
    public void Json_keys_of_todays_config_keep_working_with_positions_for_bad_values()
    {
        string message = Error("{ \"relay\": {\n \"maxFilterLimit\": \"lots\" } }", "config.json");
        Assert.Equal("config.json:2:2: key 'relay.maxFilterLimit' must be an integer of at least 1 (found \"lots\")", message);
    }

    [Fact]
    public void Shipped_config_json_binds_to_the_built_in_defaults()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "config.json");
        var loaded = ConfigLoader.Load(path, []);
        Assert.Equal(ConfigFormat.Json, loaded.Format);
        var defaults = new RelayConfig();
        Assert.Empty(ConfigChange.Between(defaults, loaded.Config));
    }

    [Fact]
    public void Effective_config_as_json_reads_back_to_the_same_config()
    {
        var original = Load(StrfryConfFixture.Text + "\nrelay.info.pubkey = \"npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg\"").Config;
        var again = Load(original.ToJson(), "effective.json").Config;
        Assert.Empty(ConfigChange.Between(original, again));
    }

    // --- db default

    [Fact]
    public void Db_defaults_to_data_for_json_and_no_file_but_to_strfrys_directory_for_a_strfry_conf()
    {
        Assert.Equal("./data/", Load("{ \"relay\": { \"port\": 1 } }", "config.json").Config.Db);
        Assert.Equal("./data/", ConfigLoader.FromDefaults([]).Config.Db);
        Assert.Equal("./strfry-db/", Load("relay { port = 1 }").Config.Db);
        Assert.Equal("/var/lib/x/", Load("db = \"/var/lib/x/\"").Config.Db);
    }

    // --- values that are rewritten

    [Fact]
    public void Pubkeys_in_npub_or_any_case_hex_become_lowercase_hex()
    {
        var info = Load("""
            relay.info.pubkey = "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"
            relay.info.self = "7E7E9C42A91BFEF19FA929E5FDA1B72E0EBC1A4C1141673E2794234D86ADDF4E"
            """).Config.Relay.Info;
        Assert.Equal("7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e", info.Pubkey);
        Assert.Equal("7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e", info.Self);
    }

    [Theory]
    [InlineData("npub1xyz", "f.conf:1:1: key 'relay.info.pubkey' is not a valid npub: it is not bech32")]
    [InlineData("npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjpth", "f.conf:1:1: key 'relay.info.pubkey' is not a valid npub: it has a bad checksum")]
    [InlineData("abc", "f.conf:1:1: key 'relay.info.pubkey' must be an npub or 64 hex characters (found \"abc\")")]
    public void Bad_pubkeys_are_errors_naming_the_key(string value, string expected)
    {
        Assert.StartsWith(expected, Error($"relay.info.pubkey = \"{value}\""));
    }

    [Fact]
    public void An_nsec_given_as_pubkey_is_refused_without_echoing_it()
    {
        const string nsec = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5";
        string message = Error($"relay.info.pubkey = \"{nsec}\"");
        Assert.StartsWith("f.conf:1:1: key 'relay.info.pubkey' is a secret key (nsec)", message);
        Assert.DoesNotContain(nsec, message);
    }

    [Fact]
    public void Old_strfry_unset_placeholders_are_empty_with_a_warning()
    {
        var loaded = Load("relay.info {\n  pubkey = \"unset\"\n  contact = \"unset\"\n}");
        Assert.Equal("", loaded.Config.Relay.Info.Pubkey);
        Assert.Equal("", loaded.Config.Relay.Info.Contact);
        Assert.Contains("f.conf:2:3: relay.info.pubkey = \"unset\" (a placeholder from old strfry.conf files) is treated as empty", loaded.Warnings);
        Assert.Contains("f.conf:3:3: relay.info.contact = \"unset\" (a placeholder from old strfry.conf files) is treated as empty", loaded.Warnings);
    }

    [Fact]
    public void Real_ip_header_is_lower_cased_with_a_warning()
    {
        var loaded = Load("relay.realIpHeader = \"X-Real-IP\"");
        Assert.Equal("x-real-ip", loaded.Config.Relay.RealIpHeader);
        Assert.Contains(loaded.Warnings, w => w.StartsWith("f.conf:1:1: relay.realIpHeader \"X-Real-IP\" is used as \"x-real-ip\"", StringComparison.Ordinal));
        Assert.StartsWith("f.conf:1:1: key 'relay.realIpHeader' must be an HTTP header name", Error("relay.realIpHeader = \"x real ip\""));
    }

    [Fact]
    public void Kind_lists_and_nips_take_strfrys_text_or_an_array()
    {
        var relay = Load("""
            relay.auth.restrictedReadKinds = "1059,4, 4"
            relay.filterValidation.allowedKinds = [1, 7, 30023]
            relay.info.nips = [1, 11, 42]
            """).Config.Relay;
        Assert.Equal([4, 1059], relay.Auth.RestrictedReadKindList);
        Assert.Equal("1, 7, 30023", relay.FilterValidation.AllowedKinds);
        Assert.Equal([1, 7, 30023], relay.FilterValidation.AllowedKindList);
        Assert.Equal("[1,11,42]", relay.Info.Nips);
    }

    // --- keys Relay ignores

    [Fact]
    public void Keys_of_older_strfry_versions_are_one_warning_line_not_an_error()
    {
        var loaded = Load("""
            relay {
                serviceUrl = "wss://old.example"
                plugins { writePolicyPath = "/usr/local/bin/policy" }
                writePolicy { plugin = "/bin/policy" lookbackSeconds = 0 }
                numThreads { ingester = 2 yesstr = 1 }
                negentropy { maxFilterLimit = 10 }
            }
            """);
        Assert.Equal(2, loaded.Config.Relay.NumThreads.Ingester);
        string line = Assert.Single(loaded.Warnings, w => w.StartsWith("config: keys ignored by Relay: ", StringComparison.Ordinal));
        Assert.Equal("config: keys ignored by Relay: relay.serviceUrl (old name of relay.auth.serviceUrl), " +
                     "relay.plugins.writePolicyPath (old name of relay.writePolicy.plugin), " +
                     "relay.writePolicy.lookbackSeconds, relay.numThreads.yesstr, relay.negentropy.maxFilterLimit", line);
    }

    [Fact]
    public void Keys_relay_does_not_act_on_are_named_only_when_they_ask_for_a_non_default()
    {
        Assert.Empty(Load("events.ephemeralEventsLifetimeSeconds = 300\nrelay.compression.enabled = true").Warnings);
        Assert.Equal(["config: keys ignored by Relay: events.ephemeralEventsLifetimeSeconds, relay.compression.enabled"],
            Load("events.ephemeralEventsLifetimeSeconds = 60\nrelay.compression.enabled = false").Warnings);
    }

    [Fact]
    public void A_file_setting_only_honoured_keys_has_no_warnings()
    {
        Assert.Empty(Load("relay { port = 1 maxFilterLimit = 10 info { name = \"x\" } }").Warnings);
    }

    // --- lookup

    [Fact]
    public void Lookup_follows_strfry_then_relay_then_defaults()
    {
        var env = new FakeConfigEnvironment();
        Assert.Null(ConfigLoader.Find(env));
        env.Files["./config.json"] = "{}";
        Assert.Equal("./config.json", ConfigLoader.Find(env));
        env.Variables["RELAY_CONFIG"] = "/opt/relay.json";
        Assert.Equal("/opt/relay.json", ConfigLoader.Find(env));
        env.Files["./strfry.conf"] = "";
        Assert.Equal("./strfry.conf", ConfigLoader.Find(env));
        env.Files["/etc/strfry.conf"] = "";
        Assert.Equal("/etc/strfry.conf", ConfigLoader.Find(env));
        env.Variables["STRFRY_CONFIG"] = "/srv/strfry.conf";
        Assert.Equal("/srv/strfry.conf", ConfigLoader.Find(env));
    }

    [Fact]
    public void Load_without_a_path_reads_the_file_lookup_finds()
    {
        var env = new FakeConfigEnvironment();
        env.Files["./strfry.conf"] = "relay.port = 4444";
        var loaded = ConfigLoader.Load(null, [], env);
        Assert.Equal("./strfry.conf", loaded.Path);
        Assert.Equal(4444, loaded.Config.Relay.Port);

        var none = ConfigLoader.Load(null, [], new FakeConfigEnvironment());
        Assert.Null(none.Path);
        Assert.Equal("built-in defaults", none.Source);
        Assert.Equal(7777, none.Config.Relay.Port);
    }

    [Fact]
    public void A_variable_naming_a_missing_file_is_an_error_not_a_fallback()
    {
        var env = new FakeConfigEnvironment();
        env.Variables["STRFRY_CONFIG"] = "/missing.conf";
        env.Files["./config.json"] = "{}";
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, [], env));
        Assert.Equal("/missing.conf: no such config file", e.Message);
    }

    // --- db errors found later

    [Fact]
    public void Db_errors_name_the_db_key_and_where_it_was_set()
    {
        var loaded = Load("# x\ndb = \"/root/forbidden/\"");
        Assert.Equal("f.conf:2:1: key 'db' = \"/root/forbidden/\": cannot open the database: permission denied",
            loaded.DbError(new UnauthorizedAccessException("Access to the path '/root/forbidden/' is denied.")).Message);

        var defaults = ConfigLoader.FromDefaults([]);
        Assert.Equal("config: key 'db' = \"./data/\" (default): cannot open the database: disk full",
            defaults.DbError(new IOException("disk full")).Message);
    }

    [Fact]
    public void Db_path_check_refuses_a_file_where_the_directory_should_be()
    {
        string dir = Directory.CreateTempSubdirectory("relay-conf-").FullName;
        try
        {
            string file = Path.Combine(dir, "not-a-dir");
            File.WriteAllText(file, "x");
            var atFile = Load($"db = \"{file}\"");
            Assert.Equal($"f.conf:1:1: key 'db' = \"{file}\": is a file, not a directory",
                Assert.Throws<ConfigException>(atFile.CheckDbPath).Message);

            var below = Load($"db = \"{file}/sub/db\"");
            Assert.Equal($"f.conf:1:1: key 'db' = \"{file}/sub/db\": cannot be created: {file} is a file",
                Assert.Throws<ConfigException>(below.CheckDbPath).Message);

            Load($"db = \"{dir}/new/db\"").CheckDbPath();
            Assert.False(Directory.Exists(Path.Combine(dir, "new")));
        }
        finally { Directory.Delete(dir, true); }
    }
}
