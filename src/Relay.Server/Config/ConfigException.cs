namespace Relay.Server.Config;

/// <summary>
/// A configuration problem, as the one line an operator reads: where (FILE:LINE:COLUMN, or the
/// --set argument), which key, and what is wrong. Never a .NET type name.
/// </summary>
public sealed class ConfigException(string message) : Exception(message)
{
    /// <summary>Where the problem is, when it is at a place in a file.</summary>
    public ConfigLocation? Where { get; private init; }

    internal static ConfigException At(ConfigLocation where, string problem) => new($"{where}: {problem}") { Where = where };
}
