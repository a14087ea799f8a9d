using Relay.Load.Scenarios;
using Relay.Native.Events;

namespace Relay.Load.Corpus;

/// <summary>
/// Counts, without a relay, how many events a filter returns from a relay that stored the corpus:
/// min(limit, matching events that were not superseded). Lets a query mix be tuned to a target
/// events-per-REQ profile offline (<c>query --estimate N</c>). Slow and simple on purpose: postings
/// lists per author, kind and tag value, then every condition checked on each candidate.
/// </summary>
public sealed class CorpusMatcher
{
    // NIP-01 relays cap limit; strfry and Relay both default to 500.
    public const int MaxLimit = 500;

    private readonly EventCorpus _corpus;
    private readonly List<int>[] _byAuthor;
    private readonly Dictionary<int, List<int>> _byKind = [];
    private readonly Dictionary<(byte, int), List<int>> _byTag = [];
    private readonly Dictionary<Bytes32, int> _byId;
    private readonly int[] _all;

    public CorpusMatcher(EventCorpus corpus)
    {
        _corpus = corpus;
        _byAuthor = new List<int>[corpus.AuthorCount];
        for (int a = 0; a < _byAuthor.Length; a++) _byAuthor[a] = [];
        _byId = new Dictionary<Bytes32, int>(corpus.Count);
        var all = new List<int>(corpus.StoredCount);
        for (int i = 0; i < corpus.Count; i++)
        {
            _byId.TryAdd(corpus.Ids[i], i);
            if (corpus.Superseded[i]) continue;
            all.Add(i);
            _byAuthor[corpus.AuthorOf(i)].Add(i);
            if (!_byKind.TryGetValue(corpus.Kinds[i], out List<int>? kindList)) _byKind[corpus.Kinds[i]] = kindList = [];
            kindList.Add(i);
            for (int t = 0; t < corpus.TagValueCount(i); t++)
            {
                var key = (corpus.TagLetterAt(i, t), corpus.TagValueAt(i, t));
                if (!_byTag.TryGetValue(key, out List<int>? tagList)) _byTag[key] = tagList = [];
                if (tagList.Count == 0 || tagList[^1] != i) tagList.Add(i);
            }
        }
        _all = all.ToArray();
    }

    /// <summary>Events the filter returns (at most its limit, capped at <see cref="MaxLimit"/>).</summary>
    public int Count(QueryFilter filter)
    {
        int limit = Math.Min(filter.Limit ?? MaxLimit, MaxLimit);
        if (limit <= 0) return 0;

        HashSet<int>? authors = null;
        if (filter.Authors is not null)
        {
            authors = [];
            foreach (string hex in filter.Authors)
                if (_corpus.TryGetAuthor(hex, out int a)) authors.Add(a);
        }
        HashSet<int>? tagValues = null;
        if (filter.TagValues is not null)
        {
            tagValues = [];
            foreach (string value in filter.TagValues)
                if (_corpus.TryGetTagValue(filter.TagLetter, value, out int v)) tagValues.Add(v);
        }

        // Candidates from the most selective field, as a relay's planner would pick it; duplicates
        // across postings lists (an event tagging two of the values) are counted once.
        IEnumerable<int> candidates;
        if (filter.Ids is not null)
        {
            var found = new List<int>();
            Span<byte> id = stackalloc byte[32];
            foreach (string hex in filter.Ids)
            {
                if (Hex.TryDecodeLower(System.Text.Encoding.ASCII.GetBytes(hex), id) && _byId.TryGetValue(Bytes32.From(id), out int i)
                    && !_corpus.Superseded[i]) found.Add(i);
            }
            candidates = found;
        }
        else if (tagValues is not null) candidates = Union(tagValues, v => _byTag.GetValueOrDefault((filter.TagLetter, v)));
        else if (authors is not null) candidates = Union(authors, a => _byAuthor[a]);
        else if (filter.Kinds is not null) candidates = Union(filter.Kinds, k => _byKind.GetValueOrDefault(k));
        else candidates = _all;

        int count = 0;
        var seen = new HashSet<int>();
        foreach (int i in candidates)
        {
            if (!seen.Add(i)) continue;
            if (authors is not null && !authors.Contains(_corpus.AuthorOf(i))) continue;
            if (filter.Kinds is not null && Array.IndexOf(filter.Kinds, _corpus.Kinds[i]) < 0) continue;
            if (filter.Since is long since && _corpus.CreatedAt[i] < since) continue;
            if (filter.Until is long until && _corpus.CreatedAt[i] > until) continue;
            if (tagValues is not null && !HasTag(i, filter.TagLetter, tagValues)) continue;
            if (++count >= limit) break;
        }
        return count;
    }

    private bool HasTag(int i, byte letter, HashSet<int> values)
    {
        for (int t = 0; t < _corpus.TagValueCount(i); t++)
            if (_corpus.TagLetterAt(i, t) == letter && values.Contains(_corpus.TagValueAt(i, t))) return true;
        return false;
    }

    private static IEnumerable<int> Union<T>(IEnumerable<T> keys, Func<T, List<int>?> postings)
    {
        foreach (T key in keys)
            if (postings(key) is { } list)
                foreach (int i in list) yield return i;
    }
}
