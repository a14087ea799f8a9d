using LightningDB;
using Relay.Native.Storage;

namespace Relay.Native.Query;

internal enum QueryIndex : byte { Ids, Tag, AuthorKind, Author, Kind, CreatedAt }

/// <summary>
/// Picks the one index a filter is scanned on, and the values (key prefixes) to scan in it.
/// The order, most selective first, is the one strfry settled on: ids are direct lookups; a tag
/// value names few events, so the tag condition with the fewest values wins; authors x kinds
/// pairs are precise but their count multiplies, so above <see cref="MaxAuthorKindPairs"/>
/// cursors the author index (fewer cursors, more filtering) is cheaper; kinds are coarse; a
/// filter with none of these walks created_at. Whatever the index does not decide is checked on
/// the packed record with <see cref="Filter.Matches"/>.
/// </summary>
internal static class QueryPlanner
{
    public const int MaxAuthorKindPairs = 1000;

    public static QueryIndex Choose(Filter filter, out TagCondition? tag)
    {
        tag = null;
        if (filter.Ids is not null) return QueryIndex.Ids;
        if (filter.Tags is { Length: > 0 } tags)
        {
            tag = tags[0];
            foreach (var condition in tags)
            {
                if (condition.Values.Length < tag.Values.Length) tag = condition;
            }
            return QueryIndex.Tag;
        }
        if (filter.Authors is not null && filter.Kinds is not null
            && (long)filter.Authors.Length * filter.Kinds.Length <= MaxAuthorKindPairs)
            return QueryIndex.AuthorKind;
        if (filter.Authors is not null) return QueryIndex.Author;
        if (filter.Kinds is not null) return QueryIndex.Kind;
        return QueryIndex.CreatedAt;
    }

    public static LightningDatabase Database(QueryIndex index, StoreDatabases dbs) => index switch
    {
        QueryIndex.Tag => dbs.Tag,
        QueryIndex.AuthorKind => dbs.AuthorKind,
        QueryIndex.Author => dbs.Author,
        QueryIndex.Kind => dbs.Kind,
        QueryIndex.CreatedAt => dbs.CreatedAt,
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    /// <summary>Adds one scan value per index prefix; kinds outside u16 can match nothing and are skipped.</summary>
    public static void AddValues(Filter filter, QueryIndex index, TagCondition? tag, IndexScan scan)
    {
        switch (index)
        {
            case QueryIndex.Tag:
                foreach (var value in tag!.Values)
                {
                    var prefix = scan.BeginValue(IndexKeys.MaxTagPrefixSize);
                    scan.EndValue(IndexKeys.WriteTagPrefix(prefix, tag.Letter, value));
                }
                break;
            case QueryIndex.AuthorKind:
                foreach (var author in filter.Authors!)
                {
                    foreach (int kind in filter.Kinds!)
                    {
                        if ((uint)kind > ushort.MaxValue) continue;
                        var prefix = scan.BeginValue(34);
                        scan.EndValue(IndexKeys.WriteAuthorKindPrefix(prefix, author.Span, kind));
                    }
                }
                break;
            case QueryIndex.Author:
                foreach (var author in filter.Authors!)
                {
                    var prefix = scan.BeginValue(32);
                    author.Span.CopyTo(prefix);
                    scan.EndValue(32);
                }
                break;
            case QueryIndex.Kind:
                foreach (int kind in filter.Kinds!)
                {
                    if ((uint)kind > ushort.MaxValue) continue;
                    var prefix = scan.BeginValue(IndexKeys.KindSize);
                    IndexKeys.WriteKind(prefix, kind);
                    scan.EndValue(IndexKeys.KindSize);
                }
                break;
            case QueryIndex.CreatedAt:
                scan.BeginValue(0);
                scan.EndValue(0);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(index));
        }
    }
}
