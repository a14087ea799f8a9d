namespace Relay.Tests.Policy;

/// <summary>The plugin scripts in tests/plugins, by absolute path, and small helpers around them.</summary>
internal static class Plugins
{
    public static string Dir { get; } = FindDir();

    /// <summary>The script's absolute path: a command without spaces, the way strfry operators configure plugins.</summary>
    public static string Path(string name)
    {
        string path = System.IO.Path.Combine(Dir, name);
        Assert.True(File.Exists(path), $"missing plugin script {path}");
        return path;
    }

    /// <summary>A command line with arguments (each quoted for /bin/sh).</summary>
    public static string Command(string name, params string[] args)
    {
        var parts = new List<string> { Quote(Path(name)) };
        foreach (var a in args) parts.Add(Quote(a));
        return string.Join(' ', parts);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>Waits until <paramref name="condition"/> holds (checked every 20 ms), failing after 10 s.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException("timed out waiting for " + what);
            await Task.Delay(20);
        }
    }

    public static string[] ReadLines(string path) => File.Exists(path) ? File.ReadAllLines(path) : [];

    private static string FindDir()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Relay.sln"))) dir = dir.Parent;
        if (dir is null) throw new DirectoryNotFoundException("repository root (Relay.sln) not found above " + AppContext.BaseDirectory);
        return System.IO.Path.Combine(dir.FullName, "tests", "plugins");
    }
}
