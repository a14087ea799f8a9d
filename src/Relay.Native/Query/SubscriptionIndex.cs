using System.Runtime.InteropServices;
using Relay.Native.Events;

namespace Relay.Native.Query;

/// <summary>
/// The live subscriptions of one monitor thread, indexed by what their filters ask for, so that a new
/// event is checked only against filters that could possibly match it instead of against all of them.
/// <para>
/// Each filter is filed under ONE of its conditions, the most selective one it has: its ids, else its
/// authors, else one tag condition (the one with the fewest values), else its kinds; a filter with none of
/// these (only since/until) goes on the "all others" list. A filter that must match any of N values is
/// filed under each of them. An event is looked up by its id, its pubkey, each of its packed tags and its
/// kind, plus the "all others" list; every filter found that way is then decided by
/// <see cref="Filter.Matches"/>, so the index only narrows, it never answers by itself.
/// </para>
/// <para>
/// Threading: not thread-safe, by design. One monitor thread owns an index and calls <see cref="Add"/>,
/// <see cref="Remove"/> and <see cref="Match"/> on it; other threads talk to that thread through its inbox.
/// That is what lets <see cref="Match"/> keep its scratch state in the index and run without locks.
/// </para>
/// </summary>
/// <typeparam name="TSub">What the caller wants back for a match (typically connection + subscription id).
/// Identified by the comparer given to the constructor (default equality otherwise).</typeparam>
public sealed class SubscriptionIndex<TSub> where TSub : class
{
    private readonly Dictionary<TSub, LiveSubscription> _subscriptions;
    private readonly Dictionary<Bytes32, Bucket> _byId = new(LiveBytes32Comparer.Instance);
    private readonly Dictionary<Bytes32, Bucket> _byAuthor = new(LiveBytes32Comparer.Instance);
    private readonly Dictionary<int, Bucket> _byKind = new();
    // Indexed by tag letter; packed tags only ever carry ASCII letters, so 128 slots cover every event.
    private readonly TagValueMap?[] _byTag = new TagValueMap?[128];
    private readonly Bucket _allOthers = new(BucketField.AllOthers);
    private int _tagMapCount;

    // Bumped once per Match call. A subscription or filter whose stamp equals it has already been
    // reported or evaluated for the current event: de-duplication without a per-event set.
    private long _matchSequence;
    private long _candidatesExamined;

    public SubscriptionIndex() : this(null) { }

    public SubscriptionIndex(IEqualityComparer<TSub>? comparer)
    {
        _subscriptions = new Dictionary<TSub, LiveSubscription>(comparer);
    }

    /// <summary>Number of subscriptions in the index.</summary>
    public int Count => _subscriptions.Count;

    /// <summary>Filters evaluated by <see cref="Match"/> since the index was made (for metrics and tests:
    /// it shows how much the index narrowed the search).</summary>
    public long CandidatesExamined => _candidatesExamined;

    /// <summary>Values the index currently files filters under; tests use it to see that removal leaves nothing behind.</summary>
    internal int BucketCount
    {
        get
        {
            int count = _byId.Count + _byAuthor.Count + _byKind.Count;
            foreach (var map in _byTag) count += map?.Buckets.Count ?? 0;
            return count;
        }
    }

    public bool Contains(TSub subscription) => _subscriptions.ContainsKey(subscription);

    /// <summary>
    /// Adds a subscription: the filters of one REQ, ORed. An existing subscription equal to
    /// <paramref name="subscription"/> is replaced, as NIP-01 asks of a REQ that reuses a subscription id.
    /// The filters must be normalized (<see cref="Filter.Normalize"/>) and must not change afterwards:
    /// the index keeps references to their value arrays.
    /// </summary>
    public void Add(TSub subscription, Filter[] filters)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(filters);
        // Checked up front so a bad argument cannot leave half a subscription filed.
        if (Array.IndexOf(filters, null) >= 0) throw new ArgumentException("null filter", nameof(filters));
        Remove(subscription);

        var live = new LiveSubscription(subscription);
        foreach (var filter in filters) File(new LiveFilter(live, filter));
        _subscriptions.Add(subscription, live);
    }

    /// <summary>Removes a subscription (CLOSE, or its connection went away). False if it was not there.</summary>
    public bool Remove(TSub subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        if (!_subscriptions.Remove(subscription, out var live)) return false;
        foreach (var posting in live.Postings) Unpost(posting);
        return true;
    }

    /// <summary>
    /// Appends to <paramref name="matches"/> every subscription with at least one filter matching
    /// <paramref name="ev"/>, each once, in no particular order. The list is not cleared first.
    /// Allocates nothing once the index and the caller's list have grown to their working size.
    /// </summary>
    public void Match(in PackedEvent ev, List<TSub> matches)
    {
        long stamp = ++_matchSequence;
        Bucket? bucket;

        if (_byId.Count != 0 && _byId.TryGetValue(Bytes32.From(ev.Id), out bucket))
            Collect(bucket, ev, stamp, matches);
        if (_byAuthor.Count != 0 && _byAuthor.TryGetValue(Bytes32.From(ev.PubKey), out bucket))
            Collect(bucket, ev, stamp, matches);
        if (_tagMapCount != 0)
        {
            foreach (var tag in ev.Tags)
            {
                if (tag.Letter < _byTag.Length && _byTag[tag.Letter] is { } map && map.Lookup.TryGetValue(tag.Value, out bucket))
                    Collect(bucket, ev, stamp, matches);
            }
        }
        if (_byKind.Count != 0 && _byKind.TryGetValue(ev.Kind, out bucket))
            Collect(bucket, ev, stamp, matches);
        if (_allOthers.Postings.Count != 0)
            Collect(_allOthers, ev, stamp, matches);
    }

    private void Collect(Bucket bucket, in PackedEvent ev, long stamp, List<TSub> matches)
    {
        foreach (var posting in CollectionsMarshal.AsSpan(bucket.Postings))
        {
            var filter = posting.Filter;
            var owner = filter.Owner;
            // A filter reached twice (an event with two tags it accepts) is evaluated once; a subscription
            // already reported through another of its filters is not evaluated again.
            if (owner.MatchedStamp == stamp || filter.CheckedStamp == stamp) continue;
            filter.CheckedStamp = stamp;
            _candidatesExamined++;
            if (filter.Filter.Matches(ev))
            {
                owner.MatchedStamp = stamp;
                matches.Add(owner.Subscription);
            }
        }
    }

    private void File(LiveFilter live)
    {
        var filter = live.Filter;
        // An empty value set can match nothing (Filter.Matches agrees), so such a filter gets no posting at all.
        if (filter.Ids is { } ids)
        {
            foreach (var id in ids) Post(live, GetOrAddBucket(_byId, id, BucketField.Id));
        }
        else if (filter.Authors is { } authors)
        {
            foreach (var author in authors) Post(live, GetOrAddBucket(_byAuthor, author, BucketField.Author));
        }
        else if (filter.Tags is { Length: > 0 } tags)
        {
            var condition = FewestValues(tags);
            // Packed tags are ASCII letters only: a condition on any other byte can never be met.
            if (condition.Letter >= _byTag.Length) return;
            var map = _byTag[condition.Letter];
            if (map is null)
            {
                map = _byTag[condition.Letter] = new TagValueMap(condition.Letter);
                _tagMapCount++;
            }
            foreach (var value in condition.Values) Post(live, map.GetOrAddBucket(value));
        }
        else if (filter.Kinds is { } kinds)
        {
            foreach (int kind in kinds)
            {
                if (!_byKind.TryGetValue(kind, out var bucket))
                {
                    bucket = new Bucket(BucketField.Kind) { Kind = kind };
                    _byKind.Add(kind, bucket);
                }
                Post(live, bucket);
            }
        }
        else
        {
            Post(live, _allOthers);
        }
    }

    private static TagCondition FewestValues(TagCondition[] conditions)
    {
        var best = conditions[0];
        for (int i = 1; i < conditions.Length; i++)
        {
            if (conditions[i].Values.Length < best.Values.Length) best = conditions[i];
        }
        return best;
    }

    private static Bucket GetOrAddBucket(Dictionary<Bytes32, Bucket> map, Bytes32 key, BucketField field)
    {
        if (!map.TryGetValue(key, out var bucket))
        {
            bucket = new Bucket(field) { Key32 = key };
            map.Add(key, bucket);
        }
        return bucket;
    }

    private static void Post(LiveFilter filter, Bucket bucket)
    {
        var postings = bucket.Postings;
        // Sorted value sets keep repeats adjacent, so a repeated value lands on the bucket's last posting.
        if (postings.Count != 0 && postings[^1].Filter == filter) return;
        var posting = new Posting(filter, bucket, postings.Count);
        postings.Add(posting);
        filter.Owner.Postings.Add(posting);
    }

    private void Unpost(Posting posting)
    {
        var bucket = posting.Bucket;
        var postings = bucket.Postings;
        int last = postings.Count - 1;
        // Swap-remove keeps removal O(1) in buckets shared by thousands of filters (a popular kind or author).
        if (posting.Position != last)
        {
            var moved = postings[last];
            postings[posting.Position] = moved;
            moved.Position = posting.Position;
        }
        postings.RemoveAt(last);
        if (last == 0) DropEmptyBucket(bucket);
    }

    // Empty buckets are dropped, or a stream of REQs for random ids would grow the maps forever.
    private void DropEmptyBucket(Bucket bucket)
    {
        switch (bucket.Field)
        {
            case BucketField.Id: _byId.Remove(bucket.Key32); break;
            case BucketField.Author: _byAuthor.Remove(bucket.Key32); break;
            case BucketField.Kind: _byKind.Remove(bucket.Kind); break;
            case BucketField.Tag:
                var map = _byTag[bucket.TagLetter]!;
                map.Buckets.Remove(bucket.TagValue!);
                if (map.Buckets.Count == 0)
                {
                    _byTag[bucket.TagLetter] = null;
                    _tagMapCount--;
                }
                break;
            case BucketField.AllOthers: break;
        }
    }

    private sealed class LiveSubscription(TSub subscription)
    {
        public TSub Subscription { get; } = subscription;
        /// <summary>Every posting of every filter, so removal touches only this subscription's buckets.</summary>
        public List<Posting> Postings { get; } = new();
        public long MatchedStamp;
    }

    private sealed class LiveFilter(LiveSubscription owner, Filter filter)
    {
        public LiveSubscription Owner { get; } = owner;
        public Filter Filter { get; } = filter;
        public long CheckedStamp;
    }

    /// <summary>One filter filed in one bucket; knows its slot so it can be removed without a search.</summary>
    private sealed class Posting(LiveFilter filter, Bucket bucket, int position)
    {
        public LiveFilter Filter { get; } = filter;
        public Bucket Bucket { get; } = bucket;
        public int Position = position;
    }

    private enum BucketField : byte { Id, Author, Tag, Kind, AllOthers }

    /// <summary>The filters filed under one value; remembers that value so it can drop itself when empty.</summary>
    private sealed class Bucket(BucketField field)
    {
        public BucketField Field { get; } = field;
        public List<Posting> Postings { get; } = new();
        public Bytes32 Key32;
        public int Kind;
        public byte TagLetter;
        public byte[]? TagValue;
    }

    private sealed class TagValueMap
    {
        private readonly byte _letter;

        public TagValueMap(byte letter)
        {
            _letter = letter;
            Buckets = new Dictionary<byte[], Bucket>(LiveTagValueComparer.Instance);
            Lookup = Buckets.GetAlternateLookup<ReadOnlySpan<byte>>();
        }

        public Dictionary<byte[], Bucket> Buckets { get; }
        public Dictionary<byte[], Bucket>.AlternateLookup<ReadOnlySpan<byte>> Lookup { get; }

        public Bucket GetOrAddBucket(byte[] value)
        {
            if (!Buckets.TryGetValue(value, out var bucket))
            {
                bucket = new Bucket(BucketField.Tag) { TagLetter = _letter, TagValue = value };
                Buckets.Add(value, bucket);
            }
            return bucket;
        }
    }
}
