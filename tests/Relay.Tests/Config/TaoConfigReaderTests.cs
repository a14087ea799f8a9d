using System.Text.Json.Nodes;
using Relay.Server.Config;

namespace Relay.Tests.Config;

public class TaoConfigReaderTests
{
    private static JsonObject Read(string text) => TaoConfigReader.Parse(text, "t.conf").Root;

    private static string Error(string text) => Assert.Throws<ConfigException>(() => TaoConfigReader.Parse(text, "t.conf")).Message;

    [Fact]
    public void Equals_and_colon_both_assign_and_blocks_nest()
    {
        var root = Read("""
            db = "./x/"
            relay {
                port: 7000
                info { name = "n" }
            }
            """);
        Assert.Equal("./x/", (string?)root["db"]);
        Assert.Equal(7000L, (long?)root["relay"]!["port"]);
        Assert.Equal("n", (string?)root["relay"]!["info"]!["name"]);
    }

    [Fact]
    public void Dotted_keys_create_and_reach_nested_sections()
    {
        var root = Read("""
            relay.port = 1
            relay { bind = "0.0.0.0" }
            relay.info.name = 'dotted'
            "relay"."maxFilterLimit" = 5
            """);
        var relay = root["relay"]!.AsObject();
        Assert.Equal(1L, (long?)relay["port"]);
        Assert.Equal("0.0.0.0", (string?)relay["bind"]);
        Assert.Equal("dotted", (string?)relay["info"]!["name"]);
        Assert.Equal(5L, (long?)relay["maxFilterLimit"]);
    }

    [Fact]
    public void Repeated_block_merges_and_repeated_key_overwrites()
    {
        var root = Read("""
            relay { port = 1  bind = "a" }
            relay { port = 2 }
            relay.bind = "b"
            relay.bind = "c"
            """);
        Assert.Equal(2L, (long?)root["relay"]!["port"]);
        Assert.Equal("c", (string?)root["relay"]!["bind"]);
    }

    [Fact]
    public void Assigning_a_block_with_equals_replaces_the_earlier_one()
    {
        var root = Read("""
            relay { port = 1 }
            relay = { bind = "x" }
            """);
        Assert.Null(root["relay"]!["port"]);
        Assert.Equal("x", (string?)root["relay"]!["bind"]);
    }

    [Fact]
    public void All_three_comment_styles_are_skipped()
    {
        var root = Read("""
            # hash
            // slashes
            /* block
               over lines */ a = 1 /* inline */ b = 2 # trailing
            c = "# not a comment" // after
            d = "// nor this"
            """);
        Assert.Equal(1L, (long?)root["a"]);
        Assert.Equal(2L, (long?)root["b"]);
        Assert.Equal("# not a comment", (string?)root["c"]);
        Assert.Equal("// nor this", (string?)root["d"]);
    }

    [Fact]
    public void Commas_between_members_and_elements_are_optional_and_one_may_trail()
    {
        var root = Read("a = 1, b = 2 c = [1 2, 3,], d { x = 1, },");
        Assert.Equal(2L, (long?)root["b"]);
        Assert.Equal("[1,2,3]", root["c"]!.ToJsonString());
        Assert.Equal(1L, (long?)root["d"]!["x"]);
    }

    [Fact]
    public void Strings_take_both_quotes_escapes_and_triple_quotes()
    {
        var root = Read("""
            a = "tab\there \"q\" \u00e9 \u{1F600} \ud83d\ude00 back\\slash \/"
            b = 'single "double" inside \' too'
            c = '''
            line one
            line "two"'''
            d = "con" + 'cat'
            """);
        Assert.Equal("tab\there \"q\" \u00e9 \U0001F600 \U0001F600 back\\slash /", (string?)root["a"]);
        Assert.Equal("single \"double\" inside ' too", (string?)root["b"]);
        Assert.Equal("line one\nline \"two\"", (string?)root["c"]);
        Assert.Equal("concat", (string?)root["d"]);
    }

    [Fact]
    public void Numbers_are_integers_negative_hex_floats_and_literals()
    {
        var root = Read("""
            a = 10995116277760
            b = -5
            c = 0x1F
            d = 1.5
            e = -2e3
            f = true
            g = false
            h = null
            i = 18446744073709551615
            j = +7
            k = 40 + 2
            """);
        Assert.Equal(10995116277760L, (long?)root["a"]);
        Assert.Equal(-5L, (long?)root["b"]);
        Assert.Equal(31L, (long?)root["c"]);
        Assert.Equal(1.5, (double?)root["d"]);
        Assert.Equal(-2000.0, (double?)root["e"]);
        Assert.True((bool?)root["f"]);
        Assert.False((bool?)root["g"]);
        Assert.True(root.ContainsKey("h"));
        Assert.Null(root["h"]);
        Assert.Equal(ulong.MaxValue, (ulong?)root["i"]);
        Assert.Equal(7L, (long?)root["j"]);
        Assert.Equal(42L, (long?)root["k"]);
    }

    [Fact]
    public void Arrays_hold_objects_and_append_with_plus_equals_and_implicit_brackets()
    {
        var root = Read("""
            a = [ { kinds = [0, 3] } "x" ]
            b = [1]
            b += [2]
            b [3]
            """);
        Assert.Equal("""[{"kinds":[0,3]},"x"]""", root["a"]!.ToJsonString());
        Assert.Equal("[1,2,3]", root["b"]!.ToJsonString());
    }

    [Fact]
    public void Delete_removes_an_earlier_value()
    {
        var root = Read("a = 1\nb = 2\na = delete");
        Assert.False(root.ContainsKey("a"));
        Assert.Equal(2L, (long?)root["b"]);
    }

    [Fact]
    public void Identifiers_may_hold_dashes_and_underscores()
    {
        var root = Read("some-key_1 = 1");
        Assert.Equal(1L, (long?)root["some-key_1"]);
    }

    [Fact]
    public void A_whole_file_in_braces_with_unquoted_keys_is_read()
    {
        var root = Read("{ relay: { port = 1 }, db = 'd' }");
        Assert.Equal(1L, (long?)root["relay"]!["port"]);
        Assert.Equal("d", (string?)root["db"]);
    }

    [Fact]
    public void Positions_of_keys_are_recorded_as_line_and_column()
    {
        var doc = TaoConfigReader.Parse("db = 1\nrelay {\n    port = 2\n}\nrelay.info.name = 'x'\n", "f.conf");
        Assert.Equal(new ConfigLocation("f.conf", 1, 1), doc.Locations["db"]);
        Assert.Equal(new ConfigLocation("f.conf", 2, 1), doc.Locations["relay"]);
        Assert.Equal(new ConfigLocation("f.conf", 3, 5), doc.Locations["relay.port"]);
        Assert.Equal(new ConfigLocation("f.conf", 5, 7), doc.Locations["relay.info"]);
        Assert.Equal(new ConfigLocation("f.conf", 5, 1), doc.Locations["relay.info.name"]);
    }

    [Theory]
    [InlineData("relay {\n  port = \n}", "t.conf:3:1: expected a value, found '}'")]
    [InlineData("relay {\n  port = 1\n", "t.conf:3:1: expected '}' to close the '{' opened at 1:7, found the end of the file")]
    [InlineData("a = \"open\nb = 1", "t.conf:1:5: unterminated string")]
    [InlineData("bind = 0.0.0.0", "t.conf:1:11: unexpected '.' after 0.0; text values need quotes: \"0.0.0.0\"")]
    [InlineData("name = hello", "t.conf:1:8: expected a value, found 'hello' (text values need quotes: \"hello\")")]
    [InlineData("port 7777", "t.conf:1:6: expected '=' or ':' after 'port', found '7'")]
    [InlineData("a = 1;\nb = 2", "t.conf:1:6: ';' is not a separator")]
    [InlineData("a = 1\n}", "t.conf:2:1: unexpected '}' (no block is open here)")]
    [InlineData("a = 'x\\q'", "t.conf:1:7: invalid escape '\\q'")]
    [InlineData("a = 01", "t.conf:1:5: invalid leading zero")]
    [InlineData("a = (env \"HOME\")", "t.conf:1:5: references and functions")]
    [InlineData("(include \"other.conf\")", "t.conf:1:1: '(...)' extensions")]
    [InlineData("a.*.b = 1", "t.conf:1:3: '*' patterns")]
    [InlineData("/* never closed\na = 1", "t.conf:1:1: unterminated /* comment")]
    [InlineData("a = [1, 2", "t.conf:1:10: expected ']' to close the '[' opened at 1:5")]
    [InlineData("a = 1\na.b = 2", "t.conf:2:1: 'a' holds 1, so nothing can be set inside it")]
    [InlineData("a = 'x' + 1", "t.conf:1:11: cannot add 1 to \"x\"")]
    [InlineData("a = 99999999999999999999", "t.conf:1:5: number out of range")]
    public void Syntax_errors_name_the_line_and_column_and_what_was_expected(string text, string expected)
    {
        Assert.StartsWith(expected, Error(text));
    }

    [Theory]
    [InlineData("\"quoted text\"", "quoted text")]
    [InlineData("42", 42L)]
    [InlineData("true", true)]
    public void A_lone_value_is_read_for_set_overrides(string text, object expected)
    {
        Assert.True(TaoConfigReader.TryParseValue(text, out JsonNode? value));
        Assert.Equal(expected.ToString(), value!.ToString(), ignoreCase: true);
    }

    [Theory]
    [InlineData("hello world")]
    [InlineData("0.0.0.0")]
    [InlineData("")]
    [InlineData("1 2")]
    public void Text_that_is_not_one_value_is_reported_as_such(string text)
    {
        Assert.False(TaoConfigReader.TryParseValue(text, out _));
    }
}
