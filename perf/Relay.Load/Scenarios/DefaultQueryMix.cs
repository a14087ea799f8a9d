using Relay.Load.Corpus;
using Relay.Load.Generation;

namespace Relay.Load.Scenarios;

/// <summary>
/// The original query mix (kept byte-for-byte, so older results stay comparable): popular and rare
/// authors, authors+kinds, kinds, #e/#p/#t, ids, time windows, combinations and a few broad
/// <c>{"kinds":[1],"limit":500}</c>. About 60 events per REQ on 100k events: most filters are narrow.
/// </summary>
public sealed class DefaultQueryMix(EventCorpus corpus)
    : QueryMix(corpus, ["authors-popular", "authors-rare", "authors+kinds", "kinds", "#e", "#p", "#t", "ids", "time-window", "combo", "broad"],
        [12, 10, 12, 8, 12, 10, 8, 10, 10, 6, 2])
{
    private static readonly int[][] s_kindSets = [[1], [7], [0], [3], [30023], [1, 7], [0, 3]];

    public override string Name => "default";

    protected override QueryFilter Build(int type, ref DeterministicRandom random)
    {
        string[] authors = Corpus.AuthorsByActivity;
        var filter = new QueryFilter();
        switch (Types[type])
        {
            case "authors-popular":
                filter.Authors = Draw(authors, random.Next(1, 11), 0, Math.Max(1, authors.Length / 100), ref random);
                filter.Limit = 100;
                break;
            case "authors-rare":
                filter.Authors = Draw(authors, random.Next(1, 11), authors.Length / 2, authors.Length, ref random);
                filter.Limit = 100;
                break;
            case "authors+kinds":
                filter.Authors = Draw(authors, random.Next(1, 6), 0, Math.Max(1, authors.Length / 5), ref random);
                filter.Kinds = s_kindSets[random.Next(s_kindSets.Length)];
                filter.Limit = 50;
                break;
            case "kinds":
                filter.Kinds = s_kindSets[random.Next(s_kindSets.Length)];
                filter.Limit = 100;
                break;
            case "#e":
                filter.TagLetter = (byte)'e';
                filter.TagValues = Draw(Corpus.ETagValues, random.Next(1, 4), 0, Math.Max(1, Corpus.ETagValues.Length / 20), ref random);
                filter.Limit = 200;
                break;
            case "#p":
                filter.TagLetter = (byte)'p';
                filter.TagValues = Draw(Corpus.PTagValues, 1, 0, Corpus.PTagValues.Length, ref random);
                filter.Limit = 100;
                break;
            case "#t":
                filter.TagLetter = (byte)'t';
                filter.TagValues = Draw(Corpus.TTagValues, random.Next(1, 3), 0, Corpus.TTagValues.Length, ref random);
                filter.Limit = 50;
                break;
            case "ids":
            {
                int n = random.Next(1, 21);
                filter.Ids = new List<string>(n);
                for (int i = 0; i < n; i++) filter.Ids.Add(Corpus.Ids[random.Next(Corpus.Count)].ToString());
                break;
            }
            case "time-window":
            {
                filter.Kinds = [1];
                long span = random.Chance(0.5) ? 3600 : 86_400;
                long since = Corpus.MinCreatedAt + (long)(random.NextDouble() * Math.Max(1, Corpus.MaxCreatedAt - Corpus.MinCreatedAt - span));
                filter.Since = since;
                filter.Until = since + span;
                filter.Limit = 200;
                break;
            }
            case "combo":
                filter.Authors = Draw(authors, random.Next(1, 11), 0, Math.Max(1, authors.Length / 10), ref random);
                filter.Kinds = [1, 7];
                filter.Since = Corpus.MaxCreatedAt - 7 * 86_400;
                filter.Limit = 100;
                break;
            default:
                filter.Kinds = [1];
                filter.Limit = 500;
                break;
        }
        return filter;
    }
}
