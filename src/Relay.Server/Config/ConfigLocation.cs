namespace Relay.Server.Config;

/// <summary>
/// Where a key was set: a line and column (1-based) of a file, or a whole --set argument
/// (Line 0), or nowhere (the built-in default).
/// </summary>
public readonly record struct ConfigLocation(string Source, int Line, int Column)
{
    public static ConfigLocation Default => new("default", 0, 0);

    public bool IsDefault => Source == "default" && Line == 0;

    public override string ToString() => Line > 0 ? $"{Source}:{Line}:{Column}" : Source;
}
