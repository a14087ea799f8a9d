using System.Text;
using Relay.Native.Events;
using Relay.Server.Config;
using Relay.Server.Policy;
using Relay.Tests.Events;
using Relay.Tests.Integration;

namespace Relay.Tests.Policy;

/// <summary>The pieces under the policy: URL comparison, list parsing, the pubkeys file, PoW, the parser's policy flags, config keys.</summary>
public class PolicyRulesTests
{
    [Theory]
    [InlineData("wss://relay.example.com", "relay.example.com", 443)]
    [InlineData("wss://Relay.Example.COM./", "relay.example.com", 443)]
    [InlineData("relay.example.com", "relay.example.com", 443)]
    [InlineData("ws://127.0.0.1:7777", "127.0.0.1", 7777)]
    [InlineData("https://relay.example.com:8443/x?y#z", "relay.example.com", 8443)]
    [InlineData("http://relay.example.com", "relay.example.com", 80)]
    [InlineData("wss://bücher.example", "xn--bcher-kva.example", 443)]
    public void Relay_urls_reduce_to_host_and_port(string text, string host, int port)
    {
        Assert.True(RelayUrl.TryParse(text, out var url));
        Assert.Equal(new RelayUrl(host, port), url);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("ftp://relay.example.com")]
    [InlineData("wss://")]
    public void Not_relay_urls_are_refused(string text) => Assert.False(RelayUrl.TryParse(text, out _));

    [Fact]
    public void Kind_ranges_parse_single_kinds_and_ranges_and_name_bad_parts()
    {
        Assert.Equal([(0, 3), (7, 7), (30000, 39999)], KindRanges.Parse("0-3, 7,30000 - 39999", out _)!);
        Assert.Empty(KindRanges.Parse(" ", out _)!);
        Assert.Null(KindRanges.Parse("1, x", out string? error));
        Assert.Contains("'x'", error);
        Assert.Null(KindRanges.Parse("9-3", out error));
        Assert.Contains("empty range", error);
        Assert.Null(KindRanges.Parse("70000", out _));
        Assert.Null(KindRanges.Parse("-1", out _));
        var set = new KindSet(KindRanges.Parse("0-3, 7, 30000-39999", out _)!);
        Assert.True(set.Contains(2) && set.Contains(7) && set.Contains(39999));
        Assert.False(set.Contains(4) || set.Contains(40000) || set.Contains(-1) || set.Contains(70000));
    }

    [Fact]
    public void Pubkey_lists_take_npub_and_hex_and_never_echo_a_secret_key()
    {
        var keys = new TestKeys();
        string npub = Bech32.EncodePublicKey(Convert.FromHexString(keys.PubKey));
        var other = new TestKeys().PubKey;
        Assert.Equal([keys.PubKey, other], PubkeyList.Parse($"{npub}, {other.ToUpperInvariant()}\n{keys.PubKey}", out _)!);
        string nsec = Bech32.EncodeSecretKey(keys.Secret);
        Assert.Null(PubkeyList.Parse($"{other} {nsec}", out string? error));
        Assert.DoesNotContain(nsec, error);
        Assert.Contains("entry 2", error);
        Assert.Null(PubkeyList.Parse("abc", out error));
        Assert.Contains("'abc'", error);
    }

    [Fact]
    public void Pubkeys_file_lines_allow_comments_and_report_bad_lines_by_number()
    {
        var a = new TestKeys().PubKey;
        var b = new TestKeys();
        string text = $"# team\n{a}\n\n  {Bech32.EncodePublicKey(Convert.FromHexString(b.PubKey))}  # bob\r\nbogus\n{a}\n";
        var problems = new List<string>();
        Assert.Equal([a, b.PubKey], PubkeysFile.Parse(text, "members.txt", problems));
        Assert.Equal(["members.txt:5: entry 'bogus' must be an npub or 64 hex characters; line skipped"], problems);
    }

    [Theory]
    [InlineData("000006d8c378af1779d2feebc7603a125d99eca0ccf1085959b307f64e5dd358", 21)]
    [InlineData("ff00000000000000000000000000000000000000000000000000000000000000", 0)]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000", 7)]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000", 256)]
    public void Pow_difficulty_is_leading_zero_bits(string id, int bits) =>
        Assert.Equal(bits, WriteRules.LeadingZeroBits(Convert.FromHexString(id)));

    [Fact]
    public void Parser_marks_protected_events_committed_pow_and_reposts_embedding_protected_events()
    {
        var keys = new TestKeys();
        var plain = Parse(keys.Sign(1, "x", [["t", "-"]]));
        Assert.False(plain.Protected);
        Assert.Equal(0, plain.PowCommitment);
        Assert.True(Parse(keys.Sign(1, "x", [["-"]])).Protected);
        Assert.Equal(21, Parse(keys.Sign(1, "x", [["nonce", "776797", "21"]])).PowCommitment);
        Assert.Equal(0, Parse(keys.Sign(1, "x", [["nonce", "776797"]])).PowCommitment);
        Assert.Equal(256, Parse(keys.Sign(1, "x", [["nonce", "1", "99999"]])).PowCommitment);
        Assert.Equal(5, Parse(keys.Sign(1, "x", [["nonce", "1", "5"], ["nonce", "2", "30"]])).PowCommitment);
        string inner = keys.Sign(1, "secret", [["-"]]).Json;
        Assert.True(Parse(keys.Sign(6, inner)).EmbedsProtected);
        Assert.True(Parse(keys.Sign(16, inner)).EmbedsProtected);
        Assert.False(Parse(keys.Sign(1, inner)).EmbedsProtected);
        Assert.False(Parse(keys.Sign(6, keys.Sign(1, "public").Json)).EmbedsProtected);
    }

    [Fact]
    public void Write_rules_and_read_checks_allocate_nothing_when_they_let_an_event_through()
    {
        var alice = new TestKeys();
        var bob = new TestKeys();
        var config = new RelayConfig();
        config.Relay.Auth.ServiceUrl = PolicyKit.ServiceUrl;
        config.Relay.Limits.AllowedKinds = "0-10000";
        config.Relay.Limits.DeniedKinds = "7";
        config.Relay.Access.WriteRestricted = true;
        config.Relay.Access.ReadRestricted = true;
        config.Relay.Access.WritePubkeys = $"{alice.PubKey}, {bob.PubKey}";
        config.Relay.Access.DeniedPubkeys = new TestKeys().PubKey;
        var policy = new PolicySettings(config, []);
        var dm = EventParserTests.Parse(Encoding.UTF8.GetBytes(alice.Sign(4, "dm", [["e", new string('0', 64)], ["p", bob.PubKey]], PolicyKit.Now - 1).Json), now: PolicyKit.Now);
        var protectedNote = EventParserTests.Parse(Encoding.UTF8.GetBytes(alice.Sign(1, "mine", [["-"]], PolicyKit.Now - 1).Json), now: PolicyKit.Now);
        Bytes32[] asBob = [Bytes32.From(Convert.FromHexString(bob.PubKey))];
        Bytes32[] asAlice = [Bytes32.From(Convert.FromHexString(alice.PubKey))];

        bool Run()
        {
            bool ok = policy.Writes.Check(asAlice, dm.Header, out _) is null
                && policy.Writes.Check(asAlice, protectedNote.Header, out _) is null;
            var packed = new PackedEvent(dm.Packed);
            return ok && policy.Reads.CanRead(asBob, packed) && policy.Reads.CanRead(asAlice, packed) && !policy.Reads.CanRead([], packed);
        }

        Assert.True(Run());
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static ParsedEventHeader Parse(TestEvent ev)
    {
        var r = EventParserTests.Parse(Encoding.UTF8.GetBytes(ev.Json), now: ev.CreatedAt);
        Assert.Null(r.Error);
        return r.Header;
    }

    [Fact]
    public void New_keys_bind_from_strfry_conf_with_npubs_and_arrays()
    {
        var keys = new TestKeys();
        string npub = Bech32.EncodePublicKey(Convert.FromHexString(keys.PubKey));
        var config = ConfigLoader.Parse($$"""
            relay {
                auth { serviceUrl = "wss://relay.example.com" }
                limits { minPowDifficulty = 12  allowedKinds = [0, 1, "30000-39999"]  maxContentLength = 5000 }
                access {
                    writeRestricted = true
                    writePubkeys = ["{{npub}}"]
                    deniedPubkeys = "{{keys.PubKey.ToUpperInvariant()}}"
                }
                filterValidation { enabled = true  allowedKinds = "1, 7" }
            }
            """, "strfry.conf");
        Assert.Equal(12, config.Relay.Limits.MinPowDifficulty);
        Assert.Equal("0, 1, 30000-39999", config.Relay.Limits.AllowedKinds);
        Assert.Equal(keys.PubKey, config.Relay.Access.WritePubkeys);
        Assert.Equal(keys.PubKey, config.Relay.Access.DeniedPubkeys);
        Assert.Equal([1, 7], config.Relay.FilterValidation.AllowedKindList);
    }

    [Fact]
    public void Auth_and_filter_validation_keys_are_honoured_so_setting_them_warns_of_nothing()
    {
        var loaded = ConfigLoader.FromText("""
            relay.auth.enabled = false
            relay.auth.serviceUrl = "wss://r.example"
            relay.auth.restrictedReadKinds = "4"
            relay.auth.restrictReadToInvolvedPubkey = false
            relay.filterValidation.enabled = true
            relay.filterValidation.maxKindsPerFilter = 9
            relay.filterValidation.requireAuthorOrTag = true
            """, "f.conf", []);
        Assert.Empty(loaded.Warnings);
    }

    [Theory]
    [InlineData("relay.access.writePubkeys = \"abc\"", "must be a list of npubs or 64-hex pubkeys")]
    [InlineData("relay.limits.allowedKinds = \"1, 7-\"", "kinds and ranges")]
    [InlineData("relay.limits.minPowDifficulty = 300", "from 0 to 256")]
    public void Bad_values_of_new_keys_are_named(string line, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(line, "f.conf"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Secret_key_in_a_pubkey_list_is_refused_without_showing_it()
    {
        string nsec = Bech32.EncodeSecretKey(new TestKeys().Secret);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse($"relay.access.readPubkeys = \"{nsec}\"", "f.conf"));
        Assert.DoesNotContain(nsec, e.Message);
        Assert.Contains("secret key", e.Message);
    }
}
