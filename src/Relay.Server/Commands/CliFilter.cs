using System.Text;
using System.Text.Json;
using Relay.Native.Protocol;
using Relay.Native.Query;
using Relay.Server.Config;

namespace Relay.Server.Commands;

/// <summary>
/// A NIP-01 filter given on the command line (<c>scan</c>, <c>delete --filter</c>): one filter object
/// or, as strfry also takes, an array of them. Compiled by the relay's own <see cref="FilterParser"/>.
/// </summary>
internal static class CliFilter
{
    public static bool TryParse(string text, RelayConfig config, out Filter[] filters, out string? error)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        ReadOnlySpan<byte> json = utf8.AsSpan().Trim(" \t\r\n"u8);
        // FilterParser reads a REQ's comma-separated filters; an array's brackets are peeled off.
        if (json.Length >= 2 && json[0] == (byte)'[' && json[^1] == (byte)']') json = json[1..^1];
        var limits = new FilterLimits
        {
            MaxFilters = config.Relay.MaxReqFilterSize,
            MaxTagConditions = config.Relay.MaxTagsPerFilter,
            // An operator may name many ids or authors at once; no client is on the other end.
            MaxValuesPerField = int.MaxValue,
        };
        if (json.Trim(" \t\r\n"u8).IsEmpty)
        {
            filters = [];
            error = "invalid: no filter";
            return false;
        }
        return FilterParser.TryParse(json, limits, out filters, out error);
    }

    /// <summary>True when any of the filters (an object or an array of objects) names <paramref name="key"/> at its top level.</summary>
    public static bool HasKey(string text, string key)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object) return root.TryGetProperty(key, out _);
            if (root.ValueKind != JsonValueKind.Array) return false;
            foreach (var f in root.EnumerateArray())
            {
                if (f.ValueKind == JsonValueKind.Object && f.TryGetProperty(key, out _)) return true;
            }
        }
        catch (JsonException)
        {
        }
        return false;
    }
}
