using Relay.Server.Config;

namespace Relay.Tests.Config;

public class ConfigOverridesTests
{
    private static LoadedConfig Load(string text, params string[] sets) => ConfigLoader.FromText(text, "f.conf", sets);

    private static string Error(params string[] sets) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.FromDefaults(sets)).Message;

    [Fact]
    public void Set_overrides_the_file_and_defaults()
    {
        var loaded = Load("relay { port = 1000 }", "relay.port=2000", "relay.maxFilterLimit=42");
        Assert.Equal(2000, loaded.Config.Relay.Port);
        Assert.Equal(42, loaded.Config.Relay.MaxFilterLimit);
        Assert.Equal(new ConfigLocation("--set relay.port=2000", 0, 0), loaded.LocationOf("relay.port"));
    }

    [Fact]
    public void Later_set_of_the_same_key_wins()
    {
        Assert.Equal(3, ConfigLoader.FromDefaults(["relay.port=2", "relay.port=3"]).Config.Relay.Port);
    }

    [Theory]
    [InlineData("relay.info.name=My relay", "My relay")]
    [InlineData("relay.info.name=\"quoted # text\"", "quoted # text")]
    [InlineData("relay.info.name=1984", "1984")]
    [InlineData("relay.info.name=true", "true")]
    [InlineData("relay.info.name=", "")]
    [InlineData("relay.info.name=a=b", "a=b")]
    public void Text_keys_take_bare_words_as_text(string set, string expected)
    {
        Assert.Equal(expected, ConfigLoader.FromDefaults([set]).Config.Relay.Info.Name);
    }

    [Theory]
    [InlineData("relay.auth.enabled=false", false)]
    [InlineData("relay.auth.enabled=no", false)]
    [InlineData("relay.auth.enabled=OFF", false)]
    [InlineData("relay.auth.enabled=0", false)]
    [InlineData("relay.auth.enabled=yes", true)]
    public void Boolean_keys_take_golpes_words(string set, bool expected)
    {
        var loaded = ConfigLoader.FromDefaults(["relay.auth.enabled=true", set]);
        Assert.Equal(expected, loaded.Config.Relay.Auth.Enabled);
    }

    [Fact]
    public void Golpe_double_underscore_keys_and_taocpp_values_work()
    {
        var relay = ConfigLoader.FromDefaults(["relay__bind=0.0.0.0", "relay.info.nips=[1, 11]", "relay.nofiles=0x1000"]).Config.Relay;
        Assert.Equal("0.0.0.0", relay.Bind);
        Assert.Equal("[1,11]", relay.Info.Nips);
        Assert.Equal(4096, relay.Nofiles);
    }

    [Fact]
    public void Set_applies_pubkey_normalisation_too()
    {
        var info = ConfigLoader.FromDefaults(["relay.info.pubkey=npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"]).Config.Relay.Info;
        Assert.Equal("7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e", info.Pubkey);
    }

    [Theory]
    [InlineData("relay.foo=1", "--set relay.foo=1: unknown key 'relay.foo'")]
    [InlineData("relay.prot=1", "--set relay.prot=1: unknown key 'relay.prot' (did you mean 'relay.port'?)")]
    [InlineData("relay.port=abc", "--set relay.port=abc: key 'relay.port' must be an integer from 0 to 65535 (found \"abc\")")]
    [InlineData("relay.port=-1", "--set relay.port=-1: key 'relay.port' must be an integer from 0 to 65535 (found -1)")]
    [InlineData("relay.auth.enabled=maybe", "--set relay.auth.enabled=maybe: key 'relay.auth.enabled' must be true or false (found \"maybe\")")]
    [InlineData("relay.port", "--set relay.port: expected key=value")]
    [InlineData("=1", "--set =1: expected key=value")]
    [InlineData("relay.info=x", "--set relay.info=x: 'relay.info' is a section; set one of its keys, e.g. --set relay.info.name=...")]
    public void Bad_set_arguments_are_errors_naming_the_set(string set, string expected)
    {
        Assert.Equal(expected, Error(set));
    }

    [Fact]
    public void Set_of_a_key_relay_ignores_is_warned_not_refused()
    {
        var loaded = ConfigLoader.FromDefaults(["relay.numThreads.yesstr=2"]);
        Assert.Contains("config: keys ignored by Relay: relay.numThreads.yesstr", loaded.Warnings);
    }

    [Fact]
    public void Set_onto_a_file_whose_section_holds_a_scalar_replaces_it()
    {
        Assert.Equal(5, Load("relay = 1", "relay.port=5").Config.Relay.Port);
    }
}
