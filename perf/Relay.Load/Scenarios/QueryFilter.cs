using System.Text.Json;

namespace Relay.Load.Scenarios;

/// <summary>
/// One NIP-01 filter as a query mix draws it: written to the wire by <see cref="Write"/>, and
/// evaluated offline against the corpus by <see cref="Corpus.CorpusMatcher"/> (at most one tag
/// condition, which is all the mixes use).
/// </summary>
public sealed class QueryFilter
{
    public List<string>? Ids { get; set; }
    public List<string>? Authors { get; set; }
    public int[]? Kinds { get; set; }
    /// <summary>'e', 'p' or 't' when <see cref="TagValues"/> is set.</summary>
    public byte TagLetter { get; set; }
    public List<string>? TagValues { get; set; }
    public long? Since { get; set; }
    public long? Until { get; set; }
    public int? Limit { get; set; }

    /// <summary>Fields in a fixed order (ids, authors, kinds, tag, since, until, limit), so a mix's REQs are byte-for-byte reproducible.</summary>
    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        if (Ids is not null) Strings(json, "ids", Ids);
        if (Authors is not null) Strings(json, "authors", Authors);
        if (Kinds is not null)
        {
            json.WriteStartArray("kinds");
            foreach (int kind in Kinds) json.WriteNumberValue(kind);
            json.WriteEndArray();
        }
        if (TagValues is not null) Strings(json, TagLetter switch { (byte)'e' => "#e", (byte)'p' => "#p", _ => "#t" }, TagValues);
        if (Since is long since) json.WriteNumber("since", since);
        if (Until is long until) json.WriteNumber("until", until);
        if (Limit is int limit) json.WriteNumber("limit", limit);
        json.WriteEndObject();
    }

    private static void Strings(Utf8JsonWriter json, string name, List<string> values)
    {
        json.WriteStartArray(name);
        foreach (string value in values) json.WriteStringValue(value);
        json.WriteEndArray();
    }
}
