using System.Buffers.Binary;
using System.Text.Json;
using Relay.Load.Generation;
using Relay.Native.Events;

namespace Relay.Load.Corpus;

/// <summary>
/// A generated event file loaded for replay: the raw event JSON of each event (sent verbatim) and
/// its id, plus what the query mixes draw their filters from and what <see cref="CorpusMatcher"/>
/// needs to say how many events a filter matches: authors, e/p/t tag values, kinds, times, and
/// which replaceable events a relay no longer holds because a newer version superseded them.
/// </summary>
public sealed class EventCorpus
{
    // Several arrays instead of one: a 1M-event file is ~1.2 GB and one byte[] stops at 2 GB.
    private const int SegmentBytes = 256 << 20;
    private static readonly byte[] s_tagLetters = "ept"u8.ToArray();

    private readonly List<byte[]> _segments = [];
    private readonly int[] _segmentOf;
    private readonly int[] _offsets;
    private readonly int[] _lengths;
    private readonly bool _hasJson;

    // Per event: author number, and its e/p/t tag values as (letter, value number) pairs, CSR style.
    private readonly int[] _authorOf;
    private readonly int[] _tagStart;
    private byte[] _tagLetter = new byte[1024];
    private int[] _tagValue = new int[1024];
    private int _tagCount;

    private readonly ValueTable _authors = new();
    private readonly ValueTable[] _tagValues = [new(), new(), new()];

    private EventCorpus(EventFile.Header header, int count, bool keepJson)
    {
        Header = header;
        _hasJson = keepJson;
        _segmentOf = new int[keepJson ? count : 0];
        _offsets = new int[keepJson ? count : 0];
        _lengths = new int[keepJson ? count : 0];
        _authorOf = new int[count];
        _tagStart = new int[count + 1];
        Ids = new Bytes32[count];
        Kinds = new int[count];
        CreatedAt = new long[count];
        Superseded = new bool[count];
    }

    public EventFile.Header Header { get; }
    /// <summary>Events loaded: the whole file, or its first N when a limit was given (what a relay was filled with).</summary>
    public int Count => Ids.Length;
    public Bytes32[] Ids { get; }
    public int[] Kinds { get; }
    public long[] CreatedAt { get; }
    /// <summary>Replaceable/addressable events that a later (newer, or same time and lower id) version replaces.</summary>
    public bool[] Superseded { get; }
    /// <summary>How many events a relay holds after storing all <see cref="Count"/> events.</summary>
    public int StoredCount { get; private set; }
    public long MinCreatedAt { get; private set; } = long.MaxValue;
    public long MaxCreatedAt { get; private set; } = long.MinValue;

    /// <summary>Authors by number of events, most active first.</summary>
    public string[] AuthorsByActivity { get; private set; } = [];
    /// <summary>Values of e, p and t tags, most referenced first.</summary>
    public string[] ETagValues { get; private set; } = [];
    public string[] PTagValues { get; private set; } = [];
    public string[] TTagValues { get; private set; } = [];
    /// <summary>Indexes of the contact lists (kind 3) a relay keeps: one per author, the newest.</summary>
    public int[] ContactLists { get; private set; } = [];

    public ReadOnlySpan<byte> EventJson(int index) => _hasJson
        ? _segments[_segmentOf[index]].AsSpan(_offsets[index], _lengths[index])
        : throw new InvalidOperationException("this corpus was loaded without the event JSON");

    internal int SegmentCount => _segments.Count;

    public int AuthorOf(int index) => _authorOf[index];
    public int AuthorCount => _authors.Count;
    public string AuthorHex(int author) => _authors.Value(author);
    public bool TryGetAuthor(string hex, out int author) => _authors.TryGet(hex, out author);

    /// <summary>Value numbers of tag <paramref name="letter"/> ('e', 'p' or 't') in one event.</summary>
    public int TagValueCount(int index) => _tagStart[index + 1] - _tagStart[index];
    public byte TagLetterAt(int index, int n) => _tagLetter[_tagStart[index] + n];
    public int TagValueAt(int index, int n) => _tagValue[_tagStart[index] + n];
    public int TagValueCountOf(byte letter) => Table(letter).Count;
    public string TagValue(byte letter, int value) => Table(letter).Value(value);
    public bool TryGetTagValue(byte letter, string value, out int number) => Table(letter).TryGet(value, out number);

    /// <summary>Adds the values of tag <paramref name="letter"/> of event <paramref name="index"/>, in tag order.</summary>
    public void CopyTagValues(int index, byte letter, List<string> into)
    {
        for (int t = _tagStart[index]; t < _tagStart[index + 1]; t++)
            if (_tagLetter[t] == letter) into.Add(Table(letter).Value(_tagValue[t]));
    }

    /// <summary>
    /// Reads the file (the first <paramref name="limit"/> events when it is positive), streaming, so a
    /// file larger than any one array loads. Without <paramref name="keepJson"/> only the index stays in
    /// memory: enough to draw and evaluate queries, not to replay.
    /// </summary>
    public static EventCorpus Load(string path, int limit = 0, bool keepJson = true) => Load(path, limit, keepJson, SegmentBytes);

    /// <summary>As <see cref="Load(string, int, bool)"/>, with a chosen segment size (the self-test uses tiny ones).</summary>
    internal static EventCorpus Load(string path, int limit, bool keepJson, int segmentBytes)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        Span<byte> head = stackalloc byte[EventFile.HeaderSize];
        file.ReadExactly(head);
        EventFile.Header header = EventFile.ReadHeader(head);
        if (header.Count > int.MaxValue) throw new InvalidDataException($"events file claims {header.Count} events");
        int count = limit > 0 ? (int)Math.Min(limit, header.Count) : (int)header.Count;
        var corpus = new EventCorpus(header, count, keepJson);
        var indexer = new Indexer(corpus);

        byte[] segment = [];
        int used = 0;
        Span<byte> lengthBytes = stackalloc byte[4];
        for (int i = 0; i < count; i++)
        {
            if (!TryFill(file, lengthBytes)) throw new InvalidDataException($"events file truncated at event {i}");
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
            if (length < 0 || length > file.Length - file.Position) throw new InvalidDataException($"events file truncated at event {i}");
            if (used + length > segment.Length)
            {
                // The last segment is only as large as what is left to read.
                long left = keepJson ? file.Length - file.Position : 0;
                segment = new byte[Math.Max(length, (int)Math.Min(segmentBytes, left))];
                if (keepJson) corpus._segments.Add(segment);
                used = 0;
            }
            Span<byte> json = segment.AsSpan(used, length);
            file.ReadExactly(json);
            if (keepJson)
            {
                corpus._segmentOf[i] = corpus._segments.Count - 1;
                corpus._offsets[i] = used;
                corpus._lengths[i] = length;
                used += length;
            }
            indexer.Add(i, json);
        }
        indexer.Finish();
        return corpus;
    }

    private static bool TryFill(Stream stream, Span<byte> buffer)
    {
        try { stream.ReadExactly(buffer); return true; }
        catch (EndOfStreamException) { return false; }
    }

    private ValueTable Table(byte letter) => letter switch
    {
        (byte)'e' => _tagValues[0],
        (byte)'p' => _tagValues[1],
        (byte)'t' => _tagValues[2],
        _ => throw new ArgumentOutOfRangeException(nameof(letter), "only e, p and t tags are indexed"),
    };

    private void AddTag(byte letter, int value)
    {
        if (_tagCount == _tagLetter.Length)
        {
            Array.Resize(ref _tagLetter, _tagCount * 2);
            Array.Resize(ref _tagValue, _tagCount * 2);
        }
        _tagLetter[_tagCount] = letter;
        _tagValue[_tagCount] = value;
        _tagCount++;
    }

    /// <summary>Strings numbered in first-seen order, with how often each was seen.</summary>
    private sealed class ValueTable
    {
        private readonly Dictionary<string, int> _numbers = new(StringComparer.Ordinal);
        private readonly List<string> _values = [];
        private readonly List<int> _counts = [];

        public int Count => _values.Count;
        public string Value(int number) => _values[number];
        public bool TryGet(string value, out int number) => _numbers.TryGetValue(value, out number);

        public int Add(string value)
        {
            if (!_numbers.TryGetValue(value, out int number))
            {
                number = _values.Count;
                _numbers.Add(value, number);
                _values.Add(value);
                _counts.Add(0);
            }
            _counts[number]++;
            return number;
        }

        /// <summary>Most frequent first; ties in ordinal order, so the ranking does not depend on file order.</summary>
        public string[] ByCount()
        {
            var order = new int[_values.Count];
            for (int i = 0; i < order.Length; i++) order[i] = i;
            Array.Sort(order, (a, b) => _counts[b] != _counts[a] ? _counts[b].CompareTo(_counts[a]) : string.CompareOrdinal(_values[a], _values[b]));
            var keys = new string[order.Length];
            for (int i = 0; i < order.Length; i++) keys[i] = _values[order[i]];
            return keys;
        }
    }

    /// <summary>Fills the per-event index as events stream in, then works out which replaceables survive.</summary>
    private sealed class Indexer(EventCorpus corpus)
    {
        // Replaceable (kind 0, 3, 41, 10000-19999) by author+kind; addressable (30000-39999) by author+kind+d.
        private readonly Dictionary<(int Author, int Kind, string D), int> _current = [];

        public void Add(int i, ReadOnlySpan<byte> eventJson)
        {
            var reader = new Utf8JsonReader(eventJson);
            Span<byte> id = stackalloc byte[32];
            string? d = null;
            corpus._tagStart[i] = corpus._tagCount;
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    if (!Hex.TryDecodeLower(reader.ValueSpan, id)) throw new InvalidDataException($"event {i}: bad id");
                    corpus.Ids[i] = Bytes32.From(id);
                }
                else if (reader.ValueTextEquals("pubkey"u8)) { reader.Read(); corpus._authorOf[i] = corpus._authors.Add(reader.GetString()!); }
                else if (reader.ValueTextEquals("created_at"u8)) { reader.Read(); corpus.CreatedAt[i] = reader.GetInt64(); }
                else if (reader.ValueTextEquals("kind"u8)) { reader.Read(); corpus.Kinds[i] = reader.GetInt32(); }
                else if (reader.ValueTextEquals("tags"u8)) { reader.Read(); d = ReadTags(ref reader); }
                else { reader.Read(); reader.Skip(); }
            }
            corpus._tagStart[i + 1] = corpus._tagCount;
            corpus.MinCreatedAt = Math.Min(corpus.MinCreatedAt, corpus.CreatedAt[i]);
            corpus.MaxCreatedAt = Math.Max(corpus.MaxCreatedAt, corpus.CreatedAt[i]);
            Supersede(i, d);
        }

        private string? ReadTags(ref Utf8JsonReader reader)
        {
            string? d = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.StartArray)
            {
                reader.Read();
                int letter = -1;
                bool isD = false;
                if (reader.TokenType == JsonTokenType.String)
                {
                    for (int l = 0; l < s_tagLetters.Length; l++)
                        if (reader.ValueSpan.Length == 1 && reader.ValueSpan[0] == s_tagLetters[l]) letter = l;
                    isD = reader.ValueTextEquals("d"u8);
                }
                if ((letter >= 0 || isD) && reader.Read() && reader.TokenType == JsonTokenType.String)
                {
                    if (letter >= 0) corpus.AddTag(s_tagLetters[letter], corpus._tagValues[letter].Add(reader.GetString()!));
                    else d ??= reader.GetString();
                }
                while (reader.TokenType != JsonTokenType.EndArray) reader.Read();
            }
            return d;
        }

        private void Supersede(int i, string? d)
        {
            int kind = corpus.Kinds[i];
            bool replaceable = kind is 0 or 3 or 41 or >= 10_000 and < 20_000;
            bool addressable = kind is >= 30_000 and < 40_000;
            if (!replaceable && !addressable) return;
            var key = (corpus._authorOf[i], kind, addressable ? d ?? "" : "");
            if (!_current.TryGetValue(key, out int other)) { _current[key] = i; return; }
            bool newer = corpus.CreatedAt[i] > corpus.CreatedAt[other]
                         || (corpus.CreatedAt[i] == corpus.CreatedAt[other] && corpus.Ids[i].CompareTo(corpus.Ids[other]) < 0);
            if (newer) { corpus.Superseded[other] = true; _current[key] = i; }
            else corpus.Superseded[i] = true;
        }

        public void Finish()
        {
            corpus.AuthorsByActivity = corpus._authors.ByCount();
            corpus.ETagValues = corpus._tagValues[0].ByCount();
            corpus.PTagValues = corpus._tagValues[1].ByCount();
            corpus.TTagValues = corpus._tagValues[2].ByCount();
            int stored = 0;
            var contacts = new List<int>();
            for (int i = 0; i < corpus.Count; i++)
            {
                if (corpus.Superseded[i]) continue;
                stored++;
                if (corpus.Kinds[i] == 3 && corpus.TagValueCount(i) > 0) contacts.Add(i);
            }
            corpus.StoredCount = stored;
            corpus.ContactLists = contacts.ToArray();
        }
    }
}
