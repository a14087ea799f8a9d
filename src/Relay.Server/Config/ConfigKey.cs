using System.Globalization;
using System.Text.Json.Nodes;

namespace Relay.Server.Config;

public enum ConfigValueKind { String, Integer, Boolean }

/// <summary>
/// One leaf key of the config: its dotted path, what values it takes, how it reads and writes the
/// typed <see cref="RelayConfig"/>, and whether a change needs a restart (strfry's noReload).
/// </summary>
public abstract class ConfigKey
{
    private protected ConfigKey(string path, bool restartRequired)
    {
        Path = path;
        RestartRequired = restartRequired;
    }

    public string Path { get; }
    public bool RestartRequired { get; }
    public abstract ConfigValueKind Kind { get; }

    /// <summary>Completes "key 'x' must be ...", e.g. "an integer from 0 to 65535".</summary>
    public abstract string Expectation { get; }

    /// <summary>The key's value in <paramref name="config"/>, as it would be written in a file.</summary>
    public abstract string Show(RelayConfig config);

    internal abstract void Bind(RelayConfig config, JsonNode? node, KeyCheck check);
    internal abstract void CopyValue(RelayConfig from, RelayConfig to);
}

/// <summary>Reports on one key while it is bound: errors carry its location and found value.</summary>
internal readonly struct KeyCheck(string path, ConfigLocation where, JsonNode? found, List<string> warnings)
{
    public string Path => path;
    public ConfigLocation Where => where;

    /// <summary>Throws "WHERE: key 'PATH' PHRASE (found VALUE)"; the phrase reads "must be ..." or "is ...".</summary>
    public ConfigException Fail(string phrase) =>
        new($"{where}: key '{path}' {phrase} (found {ConfigValues.Describe(found)})");

    /// <summary>Like <see cref="Fail"/> but without echoing the value (it may be a secret key).</summary>
    public ConfigException FailHidingValue(string phrase) => new($"{where}: key '{path}' {phrase}");

    public void Warn(string message) => warnings.Add($"{where}: {message}");
}

internal sealed class IntegerKey(string path, Func<RelayConfig, long> get, Action<RelayConfig, long> set, long min, long max, bool restart)
    : ConfigKey(path, restart)
{
    public override ConfigValueKind Kind => ConfigValueKind.Integer;

    public override string Expectation => max == long.MaxValue || max == int.MaxValue
        ? min == 0 ? "an integer of 0 or more" : $"an integer of at least {min.ToString(CultureInfo.InvariantCulture)}"
        : $"an integer from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}";

    public override string Show(RelayConfig config) => get(config).ToString(CultureInfo.InvariantCulture);

    internal override void Bind(RelayConfig config, JsonNode? node, KeyCheck check)
    {
        if (node is not JsonValue v || !v.TryGetValue(out long value) || value < min || value > max)
            throw check.Fail("must be " + Expectation);
        set(config, value);
    }

    internal override void CopyValue(RelayConfig from, RelayConfig to) => set(to, get(from));
}

internal sealed class BooleanKey(string path, Func<RelayConfig, bool> get, Action<RelayConfig, bool> set, bool restart)
    : ConfigKey(path, restart)
{
    public override ConfigValueKind Kind => ConfigValueKind.Boolean;
    public override string Expectation => "true or false";
    public override string Show(RelayConfig config) => get(config) ? "true" : "false";

    internal override void Bind(RelayConfig config, JsonNode? node, KeyCheck check)
    {
        if (node is not JsonValue v || !v.TryGetValue(out bool value)) throw check.Fail("must be " + Expectation);
        set(config, value);
    }

    internal override void CopyValue(RelayConfig from, RelayConfig to) => set(to, get(from));
}

/// <summary>
/// A text key. <paramref name="normalize"/> checks and rewrites the text (npub to hex, lower-casing)
/// and may warn; <paramref name="fromArray"/> lets a list-valued key also take an array, which
/// taocpp files can write naturally, turning it into strfry's text form.
/// </summary>
internal sealed class StringKey(
    string path, Func<RelayConfig, string> get, Action<RelayConfig, string> set, bool restart,
    Func<string, KeyCheck, string>? normalize = null, Func<JsonArray, string?>? fromArray = null,
    string expectation = "a string")
    : ConfigKey(path, restart)
{
    public override ConfigValueKind Kind => ConfigValueKind.String;
    public override string Expectation => expectation;
    public override string Show(RelayConfig config) => ConfigValues.Quote(get(config));

    internal override void Bind(RelayConfig config, JsonNode? node, KeyCheck check)
    {
        string? text = null;
        if (node is JsonValue v) v.TryGetValue(out text);
        else if (node is JsonArray a && fromArray is not null) text = fromArray(a);
        if (text is null) throw check.Fail("must be " + Expectation);
        set(config, normalize is null ? text : normalize(text, check));
    }

    internal override void CopyValue(RelayConfig from, RelayConfig to) => set(to, get(from));
}
