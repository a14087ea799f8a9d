using System.Buffers.Binary;
using System.Text.Json;
using Relay.Load.Generation;
using Relay.Native.Events;

namespace Relay.Load.Corpus;

/// <summary>
/// A generated event file loaded for replay: the raw event JSON of each event (sent verbatim) and
/// its id, plus the authors, tag values and time range the query scenario draws its filters from.
/// </summary>
public sealed class EventCorpus
{
    private readonly byte[] _data;
    private readonly int[] _offsets;
    private readonly int[] _lengths;

    private EventCorpus(EventFile.Header header, byte[] data, int[] offsets, int[] lengths)
    {
        Header = header;
        _data = data;
        _offsets = offsets;
        _lengths = lengths;
        Ids = new Bytes32[offsets.Length];
        Kinds = new int[offsets.Length];
        CreatedAt = new long[offsets.Length];
    }

    public EventFile.Header Header { get; }
    public int Count => _offsets.Length;
    public Bytes32[] Ids { get; }
    public int[] Kinds { get; }
    public long[] CreatedAt { get; }
    public long MinCreatedAt { get; private set; } = long.MaxValue;
    public long MaxCreatedAt { get; private set; } = long.MinValue;

    /// <summary>Authors by number of events, most active first.</summary>
    public string[] AuthorsByActivity { get; private set; } = [];
    /// <summary>Values of e, p and t tags, most referenced first.</summary>
    public string[] ETagValues { get; private set; } = [];
    public string[] PTagValues { get; private set; } = [];
    public string[] TTagValues { get; private set; } = [];

    public ReadOnlySpan<byte> EventJson(int index) => _data.AsSpan(_offsets[index], _lengths[index]);
    public ReadOnlyMemory<byte> EventJsonMemory(int index) => _data.AsMemory(_offsets[index], _lengths[index]);

    public static EventCorpus Load(string path)
    {
        byte[] data = File.ReadAllBytes(path);
        EventFile.Header header = EventFile.ReadHeader(data);
        var offsets = new int[header.Count];
        var lengths = new int[header.Count];
        int position = EventFile.HeaderSize;
        for (long i = 0; i < header.Count; i++)
        {
            if (position + 4 > data.Length) throw new InvalidDataException($"events file truncated at event {i}");
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(position));
            position += 4;
            if (length < 0 || position + length > data.Length) throw new InvalidDataException($"events file truncated at event {i}");
            offsets[i] = position;
            lengths[i] = length;
            position += length;
        }
        var corpus = new EventCorpus(header, data, offsets, lengths);
        corpus.Index();
        return corpus;
    }

    private void Index()
    {
        var authors = new Dictionary<string, int>(StringComparer.Ordinal);
        var eValues = new Dictionary<string, int>(StringComparer.Ordinal);
        var pValues = new Dictionary<string, int>(StringComparer.Ordinal);
        var tValues = new Dictionary<string, int>(StringComparer.Ordinal);
        Span<byte> id = stackalloc byte[32];
        for (int i = 0; i < Count; i++)
        {
            var reader = new Utf8JsonReader(EventJson(i));
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    if (!Hex.TryDecodeLower(reader.ValueSpan, id)) throw new InvalidDataException($"event {i}: bad id");
                    Ids[i] = Bytes32.From(id);
                }
                else if (reader.ValueTextEquals("pubkey"u8)) { reader.Read(); Tally(authors, reader.GetString()!); }
                else if (reader.ValueTextEquals("created_at"u8)) { reader.Read(); CreatedAt[i] = reader.GetInt64(); }
                else if (reader.ValueTextEquals("kind"u8)) { reader.Read(); Kinds[i] = reader.GetInt32(); }
                else if (reader.ValueTextEquals("tags"u8)) { reader.Read(); ReadTags(ref reader, eValues, pValues, tValues); }
                else { reader.Read(); reader.Skip(); }
            }
            MinCreatedAt = Math.Min(MinCreatedAt, CreatedAt[i]);
            MaxCreatedAt = Math.Max(MaxCreatedAt, CreatedAt[i]);
        }
        AuthorsByActivity = ByCount(authors);
        ETagValues = ByCount(eValues);
        PTagValues = ByCount(pValues);
        TTagValues = ByCount(tValues);
    }

    private static void ReadTags(ref Utf8JsonReader reader, Dictionary<string, int> e, Dictionary<string, int> p, Dictionary<string, int> t)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.StartArray)
        {
            reader.Read();
            Dictionary<string, int>? target = null;
            if (reader.TokenType == JsonTokenType.String)
            {
                if (reader.ValueTextEquals("e"u8)) target = e;
                else if (reader.ValueTextEquals("p"u8)) target = p;
                else if (reader.ValueTextEquals("t"u8)) target = t;
            }
            if (target is not null && reader.Read() && reader.TokenType == JsonTokenType.String) Tally(target, reader.GetString()!);
            while (reader.TokenType != JsonTokenType.EndArray) reader.Read();
        }
    }

    private static void Tally(Dictionary<string, int> counts, string key) =>
        counts[key] = counts.GetValueOrDefault(key) + 1;

    private static string[] ByCount(Dictionary<string, int> counts)
    {
        var entries = counts.ToArray();
        Array.Sort(entries, (a, b) => b.Value != a.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.Key, b.Key));
        var keys = new string[entries.Length];
        for (int i = 0; i < entries.Length; i++) keys[i] = entries[i].Key;
        return keys;
    }
}
