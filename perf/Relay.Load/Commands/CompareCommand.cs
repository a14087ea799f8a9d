using Relay.Load.Cli;
using Relay.Load.Reporting;

namespace Relay.Load.Commands;

/// <summary>
/// <c>compare --dir perf/results --other strfry --scenarios ingest16,query150 --out compare.md
/// [--this-label Relay] [--other-label strfry] [--description TEXT]</c>: pairs each scenario's
/// <c>&lt;s&gt;.json</c> (this relay) with <c>&lt;s&gt;.&lt;other&gt;.json</c> (the other binary, run right
/// after it) and writes the ratio table.
/// </summary>
public static class CompareCommand
{
    public static int Run(CliArgs args)
    {
        string dir = args.GetString("dir", Path.Combine("perf", "results"));
        string other = args.Require("other");
        string[] scenarios = args.Require("scenarios").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string output = args.Require("out");
        string thisLabel = args.GetString("this-label", "Relay");
        string otherLabel = args.GetString("other-label", other);
        string description = args.GetString("description", "");
        args.RejectUnknown();

        var pairs = new List<ComparedScenario>();
        var missing = new List<string>();
        foreach (string scenario in scenarios)
        {
            string a = Path.Combine(dir, scenario + ".json"), b = Path.Combine(dir, scenario + "." + other + ".json");
            if (File.Exists(a) && File.Exists(b)) pairs.Add(ComparedScenario.Load(scenario, a, b));
            else missing.Add($"{scenario} (no {(File.Exists(a) ? b : a)})");
        }
        string markdown = CompareWriter.ToMarkdown(thisLabel, otherLabel, description, pairs, missing);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        File.WriteAllText(output, markdown);
        Console.Write(markdown);
        Console.WriteLine($"comparison: {output}");
        return pairs.Count > 0 ? 0 : 1;
    }
}
