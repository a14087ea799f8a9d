using System.Globalization;

namespace Relay.Load.Cli;

/// <summary>
/// <c>--name value</c> and <c>--flag</c> options. Every option a command reads is marked used, so a
/// typo (<c>--conections</c>) fails loudly instead of silently running with the default.
/// </summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public CliArgs(ReadOnlySpan<string> args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length < 3)
                throw new CliException($"unexpected argument '{arg}'");
            string name = arg[2..];
            string? value = null;
            int eq = name.IndexOf('=');
            if (eq > 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) value = args[++i];
            _options[name] = value;
        }
    }

    public bool Has(string name) { _used.Add(name); return _options.ContainsKey(name); }

    public string? GetString(string name)
    {
        _used.Add(name);
        if (!_options.TryGetValue(name, out string? value)) return null;
        return value ?? throw new CliException($"--{name} needs a value");
    }

    public string GetString(string name, string defaultValue) => GetString(name) ?? defaultValue;

    public string Require(string name) => GetString(name) ?? throw new CliException($"--{name} is required");

    public long GetLong(string name, long defaultValue)
    {
        string? text = GetString(name);
        if (text is null) return defaultValue;
        return ParseCount(name, text);
    }

    public int GetInt(string name, int defaultValue) => checked((int)GetLong(name, defaultValue));

    /// <summary>A duration: <c>500ms</c>, <c>30s</c>, <c>2m</c>, <c>1h</c>; a bare number is seconds.</summary>
    public TimeSpan GetDuration(string name, TimeSpan defaultValue)
    {
        string? text = GetString(name);
        return text is null ? defaultValue : ParseDuration(name, text);
    }

    /// <summary>A rate per second: <c>5000</c> or <c>5000/s</c>; 0 means unlimited.</summary>
    public double GetRate(string name, double defaultValue)
    {
        string? text = GetString(name);
        if (text is null) return defaultValue;
        string number = text.EndsWith("/s", StringComparison.Ordinal) ? text[..^2] : text;
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) || rate < 0)
            throw new CliException($"--{name}: '{text}' is not a rate (e.g. 5000/s)");
        return rate;
    }

    /// <summary>Throws when an option was given that the command never asked for.</summary>
    public void RejectUnknown()
    {
        foreach (string name in _options.Keys)
        {
            if (!_used.Contains(name)) throw new CliException($"unknown option --{name}");
        }
    }

    internal static long ParseCount(string name, string text)
    {
        // 200k / 1m style suffixes are handy for event counts.
        long multiplier = 1;
        string digits = text;
        if (text.EndsWith('k')) { multiplier = 1_000; digits = text[..^1]; }
        else if (text.EndsWith('M')) { multiplier = 1_000_000; digits = text[..^1]; }
        if (!long.TryParse(digits, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) || value < 0)
            throw new CliException($"--{name}: '{text}' is not a non-negative number");
        return checked(value * multiplier);
    }

    internal static TimeSpan ParseDuration(string name, string text)
    {
        (string number, double unitSeconds) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ when text.EndsWith('h') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value < 0)
            throw new CliException($"--{name}: '{text}' is not a duration (e.g. 30s, 2m)");
        return TimeSpan.FromSeconds(value * unitSeconds);
    }
}

public sealed class CliException(string message) : Exception(message);
