using System.Globalization;

namespace Relay.Load.Generation;

public enum EventClass : byte { Metadata, Contacts, Article, Note, Reply, Reaction }

/// <summary>
/// Decides what event number i is: its kind, author, time, tags and text, purely from (seed, i).
/// Replies and reactions point at notes/articles, whose ids the generator computes in a first pass.
/// </summary>
public sealed class EventPlanner
{
    public const int Days = 30;
    private const ulong ClassStream = 1, DraftStream = 2;

    private readonly ulong _seed;
    private readonly long _now;
    private readonly AuthorKeys _keys;
    private readonly ZipfSampler _authors;
    private readonly HashtagSet _hashtags = new(500);

    public EventPlanner(ulong seed, long now, AuthorKeys keys)
    {
        _seed = seed;
        _now = now;
        _keys = keys;
        _authors = new ZipfSampler(keys.Count, 1.0);
    }

    public EventClass Classify(int index)
    {
        var random = DeterministicRandom.For(_seed, ClassStream, (ulong)index);
        double u = random.NextDouble();
        return u switch
        {
            < 0.04 => EventClass.Metadata,
            < 0.08 => EventClass.Contacts,
            < 0.10 => EventClass.Article,
            < 0.43 => EventClass.Note,
            < 0.65 => EventClass.Reply,
            _ => EventClass.Reaction,
        };
    }

    public static bool IsTarget(EventClass c) => c is EventClass.Note or EventClass.Article;

    /// <summary>The draft of event <paramref name="index"/>; replies and reactions need <paramref name="targets"/>.</summary>
    public EventDraft Draft(int index, EventClass eventClass, TargetTable? targets)
    {
        var random = DeterministicRandom.For(_seed, DraftStream, (ulong)index);
        int author = _authors.Sample(ref random);
        long createdAt = _now - random.Next(Days * 86_400);
        switch (eventClass)
        {
            case EventClass.Metadata:
                return new EventDraft { Kind = 0, Author = author, CreatedAt = createdAt, Content = ContentWriter.Metadata(ref random, author, _hashtags) };

            case EventClass.Contacts:
            {
                var draft = new EventDraft { Kind = 3, Author = author, CreatedAt = createdAt };
                int follows = Math.Min(random.NextSkewed(10, 400), _keys.Count - 1);
                var seen = new HashSet<int> { author };
                for (int attempt = 0; attempt < follows * 4 && seen.Count <= follows; attempt++)
                {
                    int followed = _authors.Sample(ref random);
                    if (seen.Add(followed)) draft.AddTag("p", _keys.PubKeyHex(followed));
                }
                return draft;
            }

            case EventClass.Article:
            {
                var draft = new EventDraft { Kind = 30023, Author = author, CreatedAt = createdAt };
                // Few slugs per author, so later versions replace earlier ones (addressable supersession).
                draft.AddTag("d", "article-" + random.Next(4).ToString(CultureInfo.InvariantCulture));
                draft.AddTag("title", ContentWriter.Title(ref random));
                draft.AddTag("published_at", createdAt.ToString(CultureInfo.InvariantCulture));
                int topics = random.Next(1, 5);
                for (int t = 0; t < topics; t++) draft.AddTag("t", _hashtags.Sample(ref random));
                draft.Content = ContentWriter.Words(ref random, random.NextSkewed(150, 600), _hashtags);
                return draft;
            }

            case EventClass.Note:
            {
                var draft = new EventDraft { Kind = 1, Author = author, CreatedAt = createdAt };
                int topics = random.Next(4);
                for (int t = 0; t < topics; t++) draft.AddTag("t", _hashtags.Sample(ref random));
                if (random.Chance(0.2)) draft.AddTag("p", _keys.PubKeyHex(_authors.Sample(ref random)));
                draft.Content = ContentWriter.Words(ref random, random.NextSkewed(20, 600), _hashtags);
                return draft;
            }

            case EventClass.Reply:
            {
                TargetTable table = targets ?? throw new InvalidOperationException("replies need the target table");
                int target = table.Pick(ref random);
                var draft = new EventDraft { Kind = 1, Author = author, CreatedAt = After(table.CreatedAt(target), createdAt, ref random) };
                draft.AddTag("e", table.IdHex(target), "", "root");
                draft.AddTag("p", _keys.PubKeyHex(table.Author(target)));
                if (random.Chance(0.3)) draft.AddTag("t", _hashtags.Sample(ref random));
                draft.Content = ContentWriter.Words(ref random, random.NextSkewed(20, 600), _hashtags);
                return draft;
            }

            default:
            {
                TargetTable table = targets ?? throw new InvalidOperationException("reactions need the target table");
                int target = table.Pick(ref random);
                var draft = new EventDraft { Kind = 7, Author = author, CreatedAt = After(table.CreatedAt(target), createdAt, ref random) };
                draft.AddTag("e", table.IdHex(target));
                draft.AddTag("p", _keys.PubKeyHex(table.Author(target)));
                draft.AddTag("k", table.Kind(target).ToString(CultureInfo.InvariantCulture));
                draft.Content = ContentWriter.Reactions[random.Next(ContentWriter.Reactions.Length)];
                return draft;
            }
        }
    }

    // A reply cannot predate what it answers; keep it within the generation window too.
    private long After(long targetCreatedAt, long own, ref DeterministicRandom random) =>
        Math.Min(_now, Math.Max(own, targetCreatedAt + 1 + random.Next(7200)));
}

/// <summary>Ids, times and authors of the events that replies and reactions may point at.</summary>
public sealed class TargetTable(int count)
{
    private readonly byte[] _ids = new byte[count * 32];
    private readonly string?[] _idHex = new string?[count];
    private readonly long[] _createdAt = new long[count];
    private readonly int[] _authors = new int[count];
    private readonly int[] _kinds = new int[count];
    private int[] _targets = [];
    private ZipfSampler? _popularity;

    public void Set(int index, ReadOnlySpan<byte> id, EventDraft draft)
    {
        id.CopyTo(_ids.AsSpan(index * 32, 32));
        _idHex[index] = Convert.ToHexStringLower(id);
        _createdAt[index] = draft.CreatedAt;
        _authors[index] = draft.Author;
        _kinds[index] = draft.Kind;
    }

    /// <summary>Fixes the candidate list; popularity is Zipf over it, so a few posts draw most reactions.</summary>
    public void Seal(int[] targets)
    {
        _targets = targets;
        if (targets.Length > 0) _popularity = new ZipfSampler(targets.Length, 0.8);
    }

    public int Pick(ref DeterministicRandom random) =>
        _popularity is null ? throw new InvalidOperationException("no notes to reply to") : _targets[_popularity.Sample(ref random)];

    public string IdHex(int index) => _idHex[index] ?? throw new InvalidOperationException("target id not computed");
    public long CreatedAt(int index) => _createdAt[index];
    public int Author(int index) => _authors[index];
    public int Kind(int index) => _kinds[index];
}
