namespace Relay.Server.Config;

/// <summary>One key whose value differs between two configs, values shown as in a file.</summary>
public sealed record ConfigChange(string Key, string OldValue, string NewValue, bool RestartRequired)
{
    public override string ToString() => $"{Key}: {OldValue} -> {NewValue}";

    /// <summary>Every key whose value differs, in schema order.</summary>
    public static List<ConfigChange> Between(RelayConfig old, RelayConfig @new)
    {
        var changes = new List<ConfigChange>();
        foreach (var key in ConfigSchema.Keys)
        {
            string a = key.Show(old), b = key.Show(@new);
            if (a != b) changes.Add(new ConfigChange(key.Path, a, b, key.RestartRequired));
        }
        return changes;
    }
}
