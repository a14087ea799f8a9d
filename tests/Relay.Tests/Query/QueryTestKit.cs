using System.Text;
using Relay.Native.Events;
using Relay.Native.Query;

namespace Relay.Tests.Query;

/// <summary>Collects what a query sends: the JSON (the hex id in these tests) in order.</summary>
internal sealed class CollectingSink : IQuerySink
{
    private readonly int _stopAfter;

    public CollectingSink(int stopAfter = int.MaxValue) => _stopAfter = stopAfter;

    public List<string> Ids { get; } = new();
    public List<ulong> LevIds { get; } = new();

    public bool OnEvent(ulong levId, ReadOnlySpan<byte> json)
    {
        Ids.Add(Encoding.ASCII.GetString(json));
        LevIds.Add(levId);
        return Ids.Count < _stopAfter;
    }
}

internal static class Filters
{
    public static Filter Build(
        IEnumerable<byte[]>? ids = null, IEnumerable<byte[]>? authors = null, IEnumerable<int>? kinds = null,
        IEnumerable<(char Letter, string[] Values)>? tags = null, long since = 0, long until = long.MaxValue, int limit = -1) =>
        new Filter
        {
            Ids = ids?.Select(b => Bytes32.From(b)).ToArray(),
            Authors = authors?.Select(b => Bytes32.From(b)).ToArray(),
            Kinds = kinds?.ToArray(),
            Tags = tags?.Select(t => new TagCondition((byte)t.Letter, t.Values.Select(Encoding.UTF8.GetBytes).ToArray())).ToArray(),
            Since = since,
            Until = until,
            Limit = limit,
        }.Normalize();
}
