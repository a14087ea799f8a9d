using System.Text.Json;
using YamlDotNet.RepresentationModel;

namespace Relay.Tests.Ops;

/// <summary>Reads deploy/'s files: YAML documents as node trees, text files as text.</summary>
internal static class DeployFiles
{
    public static string PathOf(string relative) => Shell.RepoPath(Path.Combine("deploy", relative));

    public static string Text(string relative) => File.ReadAllText(PathOf(relative));

    /// <summary>Every document of a YAML file; a syntax error throws with line and column.</summary>
    public static List<YamlMappingNode> Yaml(string relative)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(PathOf(relative))) stream.Load(reader);
        var docs = new List<YamlMappingNode>();
        foreach (YamlDocument doc in stream.Documents)
            docs.Add(Assert.IsType<YamlMappingNode>(doc.RootNode));
        return docs;
    }

    public static YamlMappingNode Kind(string relative, string kind, string? name = null)
    {
        foreach (YamlMappingNode doc in Yaml(relative))
            if (doc.Str("kind") == kind && (name is null || doc.Map("metadata").Str("name") == name)) return doc;
        throw new Xunit.Sdk.XunitException($"no {kind} {name} in {relative}");
    }

    public static JsonDocument Json(string relative) => JsonDocument.Parse(Text(relative));
}

internal static class YamlNodeExtensions
{
    public static YamlNode? Get(this YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? value) ? value : null;

    public static YamlMappingNode Map(this YamlMappingNode map, string key) =>
        Assert.IsType<YamlMappingNode>(map.Get(key) ?? throw new Xunit.Sdk.XunitException($"missing key '{key}'"));

    public static YamlSequenceNode Seq(this YamlMappingNode map, string key) =>
        Assert.IsType<YamlSequenceNode>(map.Get(key) ?? throw new Xunit.Sdk.XunitException($"missing key '{key}'"));

    public static string? Str(this YamlMappingNode map, string key) => (map.Get(key) as YamlScalarNode)?.Value;

    /// <summary>The path a.b.c through nested mappings.</summary>
    public static YamlMappingNode At(this YamlMappingNode map, string dottedPath)
    {
        foreach (string key in dottedPath.Split('.')) map = map.Map(key);
        return map;
    }

    public static IEnumerable<YamlMappingNode> Maps(this YamlSequenceNode seq) => seq.Children.Select(n => Assert.IsType<YamlMappingNode>(n));
}
