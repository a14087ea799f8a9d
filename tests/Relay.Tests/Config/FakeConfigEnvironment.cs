using Relay.Server.Config;

namespace Relay.Tests.Config;

/// <summary>A machine for config lookup: files, directories and variables the test chooses.</summary>
internal sealed class FakeConfigEnvironment : IConfigEnvironment
{
    public Dictionary<string, string> Files { get; } = new();
    public HashSet<string> Directories { get; } = new();
    public Dictionary<string, string> Variables { get; } = new();
    public HashSet<string> Unreadable { get; } = new();

    public string? GetEnvironmentVariable(string name) => Variables.GetValueOrDefault(name);
    public bool FileExists(string path) => Files.ContainsKey(path) || Unreadable.Contains(path);
    public bool DirectoryExists(string path) => Directories.Contains(path);

    public string ReadAllText(string path)
    {
        if (Unreadable.Contains(path)) throw new UnauthorizedAccessException($"Access to the path '{path}' is denied.");
        return Files.TryGetValue(path, out string? text) ? text : throw new FileNotFoundException(path);
    }
}
