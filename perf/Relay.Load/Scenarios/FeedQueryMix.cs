using Relay.Load.Corpus;
using Relay.Load.Generation;

namespace Relay.Load.Scenarios;

/// <summary>
/// <c>feed150</c>: what a client asks a busy relay, tuned to ~150 events per REQ on the 100k-event
/// corpus (issue 10). Home feeds over a real contact list from the corpus (tens to hundreds of
/// authors), the global feed and kind lists with <c>limit</c> 100-500, profile fetches for a
/// contact list, notifications (#p), threads (#e), hashtag feeds (#t), one author's notes, and id
/// lookups. <c>query --estimate N</c> shows what each type returns on a given corpus without a relay.
/// </summary>
public sealed class FeedQueryMix(EventCorpus corpus)
    : QueryMix(corpus, ["home-feed", "global-feed", "kind-list", "profiles", "notifications", "thread", "hashtag", "author-notes", "ids"],
        [23, 6, 8, 10, 12, 10, 10, 12, 9])
{
    private static readonly int[][] s_kindLists = [[0], [3], [7], [30023], [0, 3], [1, 7]];

    public override string Name => "feed150";

    protected override QueryFilter Build(int type, ref DeterministicRandom random)
    {
        string[] authors = Corpus.AuthorsByActivity;
        var filter = new QueryFilter();
        switch (Types[type])
        {
            case "home-feed":
                filter.Authors = ContactList(ref random);
                filter.Kinds = [1];
                filter.Limit = random.Next(100, 501);
                break;
            case "global-feed":
                filter.Kinds = [1];
                filter.Limit = random.Next(100, 501);
                break;
            case "kind-list":
                filter.Kinds = s_kindLists[random.Next(s_kindLists.Length)];
                filter.Limit = random.Next(100, 501);
                break;
            case "profiles":
                filter.Authors = ContactList(ref random);
                filter.Kinds = [0];
                filter.Limit = filter.Authors.Count;
                break;
            case "notifications":
                filter.TagLetter = (byte)'p';
                filter.TagValues = Draw(Corpus.PTagValues, 1, 0, Math.Max(1, Corpus.PTagValues.Length / 20), ref random);
                filter.Kinds = [1, 7];
                filter.Limit = random.Next(100, 501);
                break;
            case "thread":
                filter.TagLetter = (byte)'e';
                filter.TagValues = Draw(Corpus.ETagValues, 1, 0, Math.Max(1, Corpus.ETagValues.Length / 20), ref random);
                filter.Kinds = [1, 7];
                filter.Limit = 500;
                break;
            case "hashtag":
                filter.TagLetter = (byte)'t';
                filter.TagValues = Draw(Corpus.TTagValues, 1, 0, Corpus.TTagValues.Length, ref random);
                filter.Kinds = [1];
                filter.Limit = random.Next(100, 501);
                break;
            case "author-notes":
                filter.Authors = random.Chance(0.5)
                    ? Draw(authors, 1, 0, Math.Max(1, authors.Length / 100), ref random)
                    : Draw(authors, 1, 0, authors.Length, ref random);
                filter.Kinds = [1];
                filter.Limit = random.Next(100, 501);
                break;
            default:
            {
                int n = random.Next(1, 51);
                filter.Ids = new List<string>(n);
                for (int i = 0; i < n; i++) filter.Ids.Add(Corpus.Ids[random.Next(Corpus.Count)].ToString());
                break;
            }
        }
        return filter;
    }

    /// <summary>The p tags of one stored contact list (10-400 authors, most followed first by Zipf); a sample of authors if the corpus has none.</summary>
    private List<string> ContactList(ref DeterministicRandom random)
    {
        int[] lists = Corpus.ContactLists;
        if (lists.Length == 0)
            return Draw(Corpus.AuthorsByActivity, random.Next(10, 201), 0, Corpus.AuthorsByActivity.Length, ref random);
        var follows = new List<string>();
        Corpus.CopyTagValues(lists[random.Next(lists.Length)], (byte)'p', follows);
        return follows;
    }
}
