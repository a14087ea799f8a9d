namespace Relay.Server.Config;

/// <summary>What config lookup and loading read from the machine; tests give their own.</summary>
public interface IConfigEnvironment
{
    string? GetEnvironmentVariable(string name);
    bool FileExists(string path);
    bool DirectoryExists(string path);
    /// <summary>The file's text; throws IOException or UnauthorizedAccessException like File.ReadAllText.</summary>
    string ReadAllText(string path);
}

public sealed class SystemConfigEnvironment : IConfigEnvironment
{
    public static SystemConfigEnvironment Instance { get; } = new();

    public string? GetEnvironmentVariable(string name) => Environment.GetEnvironmentVariable(name);
    public bool FileExists(string path) => File.Exists(path);
    public bool DirectoryExists(string path) => Directory.Exists(path);
    public string ReadAllText(string path) => File.ReadAllText(path);
}
