using System.IO.Compression;

namespace Relay.Tests.Strfry;

/// <summary>Committed fixture files, unpacked into a temp directory that is removed on dispose.</summary>
internal sealed class FixtureFiles : IDisposable
{
    public FixtureFiles()
    {
        Directory = Path.Combine(Path.GetTempPath(), "relay-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Relay.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new DirectoryNotFoundException("repository root (Relay.sln) not found above " + AppContext.BaseDirectory);
        }
    }

    public static string PathOf(string relative) => Path.Combine(RepoRoot, relative);

    /// <summary>Gunzips a committed file into the temp directory under <paramref name="name"/>.</summary>
    public string Unpack(string relativeGz, string name)
    {
        string target = Path.Combine(Directory, name);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        using var source = new GZipStream(File.OpenRead(PathOf(relativeGz)), CompressionMode.Decompress);
        using var output = File.Create(target);
        source.CopyTo(output);
        return target;
    }

    public static IEnumerable<string> ReadGzipLines(string relativeGz)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(PathOf(relativeGz)), CompressionMode.Decompress));
        while (reader.ReadLine() is { } line) yield return line;
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
