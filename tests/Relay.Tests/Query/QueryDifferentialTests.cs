using Relay.Native.Query;
using Relay.Native.Storage;
using Relay.Tests.Storage;

namespace Relay.Tests.Query;

/// <summary>
/// Random events through the real store, random filters through the real query engine, and the
/// same through a slow, obviously-correct in-memory model written from the NIP rules.
/// </summary>
public sealed class QueryDifferentialTests : IDisposable
{
    private const long WriteNow = 500;
    private const long PurgeNow = 1500;
    private const long QueryNow = 2000;
    private const int MaxLimit = 60;

    private readonly TempStore _db = new();

    public void Dispose() => _db.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Query_engine_agrees_with_the_reference_model(int seed)
    {
        var random = new Random(seed);
        var world = new World(random);
        var model = new ModelStore();

        // Write in random batch sizes; purge once part-way through.
        var events = world.GenerateEvents(3000);
        int written = 0, purgeAt = 2000;
        while (written < events.Count)
        {
            int size = Math.Min(random.Next(1, 60), events.Count - written);
            if (written < purgeAt && written + size > purgeAt) size = purgeAt - written;
            var batch = events.GetRange(written, size);
            var results = _db.WriteBatch(batch, WriteNow, durable: false);
            for (int i = 0; i < batch.Count; i++)
            {
                var expected = model.Apply(batch[i], WriteNow);
                Assert.True(expected == results[i].Status, $"event {written + i} ({batch[i].Kind}): model {expected}, store {results[i].Status}");
            }
            written += size;
            if (written == purgeAt) Assert.Equal(model.Purge(PurgeNow), _db.Store.PurgeExpired(PurgeNow));
        }
        Assert.Equal(model.Stored.Count, _db.Store.Count);
        AssertIndexesHoldExactlyTheStoredEvents(model);

        using var view = _db.Store.BeginRead();
        for (int q = 0; q < 2500; q++)
        {
            var filters = Enumerable.Range(0, random.Next(1, 4)).Select(_ => world.RandomFilter()).ToArray();
            var sink = new CollectingSink();
            QueryEngine.Run(view, filters.Select(f => f.Compiled).ToArray(), MaxLimit, QueryNow, sink);
            var expected = model.Query(filters, MaxLimit, QueryNow);
            if (!expected.SequenceEqual(sink.Ids))
                Assert.Fail($"query {q} differs: {string.Join(" | ", filters.Select(f => f.Description))}\nexpected {expected.Count}: {string.Join(",", expected.Select(Short))}\nactual   {sink.Ids.Count}: {string.Join(",", sink.Ids.Select(Short))}");

            long maxCount = random.Next(2) == 0 ? long.MaxValue : random.Next(1, 30);
            long expectedCount = Math.Min(model.Count(filters, QueryNow), maxCount);
            Assert.True(expectedCount == QueryEngine.Count(view, filters.Select(f => f.Compiled).ToArray(), QueryNow, maxCount),
                $"count {q} differs: {string.Join(" | ", filters.Select(f => f.Description))}");
        }
    }

    private static string Short(string idHex) => idHex[..6];

    private void AssertIndexesHoldExactlyTheStoredEvents(ModelStore model)
    {
        var dbs = _db.Store.Databases;
        using var view = _db.Store.BeginRead();
        var txn = view.Transaction;
        long n = model.Stored.Count;
        Assert.Equal(n, txn.GetEntriesCount(dbs.Payloads));
        Assert.Equal(n, txn.GetEntriesCount(dbs.Id));
        Assert.Equal(n, txn.GetEntriesCount(dbs.CreatedAt));
        Assert.Equal(n, txn.GetEntriesCount(dbs.Author));
        Assert.Equal(n, txn.GetEntriesCount(dbs.Kind));
        Assert.Equal(n, txn.GetEntriesCount(dbs.AuthorKind));
        Assert.Equal(model.Stored.Values.Sum(e => e.Tags.Distinct().Count()), txn.GetEntriesCount(dbs.Tag));
        Assert.Equal(model.Stored.Values.Count(e => e.Expiration != 0), txn.GetEntriesCount(dbs.Expiration));
        Assert.Equal(model.Current.Count, txn.GetEntriesCount(dbs.Replaceable));
    }

    /// <summary>Small value pools so that filters hit, timestamps tie and rules interact.</summary>
    internal sealed class World
    {
        private static readonly int[] KindPool = { 1, 1, 1, 1, 7, 7, 1984, 0, 3, 10002, 30023, 30023, 30000, 5, 5, 20001 };
        private static readonly string[] Topics = { "a", "b", "c", "nostr" };
        private static readonly string[] DValues = { "", "x", "y", new string('z', 200), new string('z', 199) + "q" };
        private readonly Random _random;
        private readonly byte[][] _authors;
        private readonly string[] _refs;
        private readonly List<TestEvent> _events = new();

        public World(Random random)
        {
            _random = random;
            _authors = Enumerable.Range(0, 4).Select(_ => TestEvent.Key(random)).ToArray();
            string hex = Convert.ToHexStringLower(TestEvent.Key(random));
            _refs = new[] { "https://x.test/" + new string('r', 150), "https://x.test/" + new string('r', 149) + "s", hex.ToUpperInvariant(), "ab", "abc", "" };
        }

        public List<TestEvent> GenerateEvents(int count)
        {
            for (int i = 0; i < count; i++)
            {
                // Some re-sends: duplicates, and re-publications of deleted or replaced events.
                if (_events.Count > 10 && _random.Next(20) == 0)
                {
                    _events.Add(_events[_random.Next(_events.Count)]);
                    continue;
                }
                _events.Add(NewEvent());
            }
            return _events;
        }

        /// <summary>Like <see cref="GenerateEvents"/>, but returns only the new ones.</summary>
        public List<TestEvent> MoreEvents(int count)
        {
            int start = _events.Count;
            GenerateEvents(count);
            return _events.GetRange(start, count);
        }

        private TestEvent NewEvent()
        {
            var author = Pick(_authors);
            int kind = Pick(KindPool);
            long createdAt = 1000 + _random.Next(60);
            long expiration = _random.Next(10) switch
            {
                0 => 1000 + _random.Next(2000),
                1 when _random.Next(4) == 0 => 400, // already expired at write time
                _ => 0,
            };
            var tags = new List<(char, string)>();
            if (kind == 5)
            {
                for (int n = _random.Next(1, 4); n > 0; n--)
                {
                    if (_random.Next(3) > 0 && _events.Count > 0)
                    {
                        tags.Add(('e', Pick(_events).IdHex));
                    }
                    else
                    {
                        int targetKind = Pick(new[] { 0, 3, 10002, 30023, 30000, 1 });
                        var target = _random.Next(4) == 0 ? Pick(_authors) : author;
                        string d = _random.Next(5) == 0 ? "x" : (targetKind >= 30000 ? Pick(DValues) : "");
                        tags.Add(('a', $"{targetKind}:{Convert.ToHexStringLower(target)}:{d}"));
                    }
                }
            }
            else
            {
                if (kind >= 30000 && _random.Next(5) > 0) tags.Add(('d', Pick(DValues)));
                for (int n = _random.Next(4); n > 0; n--)
                {
                    tags.Add(_random.Next(5) switch
                    {
                        0 => ('t', Pick(Topics)),
                        1 => ('p', Convert.ToHexStringLower(Pick(_authors))),
                        2 when _events.Count > 0 => ('e', Pick(_events).IdHex),
                        3 => ('r', Pick(_refs)),
                        _ => ('t', Pick(Topics)),
                    });
                }
            }
            return TestEvent.Create(_random, author, createdAt, kind, expiration, tags.ToArray());
        }

        public RandomFilter RandomFilter()
        {
            byte[][]? ids = null, authors = null;
            int[]? kinds = null;
            var tags = new List<(char, string[])>();
            var parts = new List<string>();
            if (_random.Next(6) == 0)
            {
                ids = Enumerable.Range(0, _random.Next(1, 6)).Select(_ => _random.Next(8) == 0 ? TestEvent.Key(_random) : Pick(_events).Id).ToArray();
                parts.Add($"ids:{ids.Length}");
            }
            if (_random.Next(3) == 0)
            {
                authors = Enumerable.Range(0, _random.Next(1, 4)).Select(_ => _random.Next(10) == 0 ? TestEvent.Key(_random) : Pick(_authors)).ToArray();
                parts.Add($"authors:{authors.Length}");
            }
            if (_random.Next(5) < 2)
            {
                kinds = Enumerable.Range(0, _random.Next(1, 4)).Select(_ => _random.Next(10) == 0 ? 70000 : Pick(KindPool)).ToArray();
                parts.Add($"kinds:{string.Join(',', kinds)}");
            }
            for (int n = _random.Next(4) == 0 ? _random.Next(1, 3) : 0; n > 0; n--)
            {
                char letter = Pick(new[] { 't', 'e', 'p', 'd', 'r' });
                string[] values = Enumerable.Range(0, _random.Next(1, 4)).Select(_ => letter switch
                {
                    't' => Pick(Topics),
                    'e' => Pick(_events).IdHex,
                    'p' => Convert.ToHexStringLower(Pick(_authors)),
                    'd' => Pick(DValues),
                    _ => Pick(_refs),
                }).ToArray();
                tags.Add((letter, values));
                parts.Add($"#{letter}:{values.Length}");
            }
            long since = _random.Next(3) == 0 ? 1000 + _random.Next(60) : 0;
            long until = _random.Next(3) == 0 ? 1000 + _random.Next(60) : long.MaxValue;
            int limit = _random.Next(2) == 0 ? _random.Next(0, 40) : -1;
            parts.Add($"since:{since} until:{until} limit:{limit}");
            return new RandomFilter(ids, authors, kinds, tags.Count > 0 ? tags.ToArray() : null, since, until, limit, string.Join(' ', parts));
        }

        private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];
    }

    internal sealed class RandomFilter
    {
        public RandomFilter(byte[][]? ids, byte[][]? authors, int[]? kinds, (char Letter, string[] Values)[]? tags, long since, long until, int limit, string description)
        {
            Ids = ids?.Select(Convert.ToHexStringLower).ToHashSet();
            Authors = authors?.Select(Convert.ToHexStringLower).ToHashSet();
            Kinds = kinds?.ToHashSet();
            Tags = tags;
            Since = since;
            Until = until;
            Limit = limit;
            Description = description;
            Compiled = Filters.Build(ids, authors, kinds, tags, since, until, limit);
        }

        public HashSet<string>? Ids { get; }
        public HashSet<string>? Authors { get; }
        public HashSet<int>? Kinds { get; }
        public (char Letter, string[] Values)[]? Tags { get; }
        public long Since { get; }
        public long Until { get; }
        public int Limit { get; }
        public string Description { get; }
        public Filter Compiled { get; }

        public bool Matches(TestEvent e) =>
            e.CreatedAt >= Since && e.CreatedAt <= Until
            && (Ids is null || Ids.Contains(e.IdHex))
            && (Authors is null || Authors.Contains(e.PubKeyHex))
            && (Kinds is null || Kinds.Contains(e.Kind))
            && (Tags is null || Tags.All(c => e.Tags.Any(t => t.Letter == c.Letter && c.Values.Contains(t.Value))));
    }

    /// <summary>The store's rules restated over plain collections.</summary>
    private sealed class ModelStore
    {
        public Dictionary<string, TestEvent> Stored { get; } = new();
        public Dictionary<(string PubKey, int Kind, string D), string> Current { get; } = new();
        private readonly HashSet<(string PubKey, string Id)> _deletedIds = new();
        private readonly Dictionary<(string PubKey, int Kind, string D), long> _deletedAddresses = new();

        private static bool IsReplaceable(int kind) => kind is 0 or 3 || kind is >= 10000 and < 20000;
        private static bool IsAddressable(int kind) => kind is >= 30000 and < 40000;
        private static bool IsExpired(TestEvent e, long now) => e.Expiration != 0 && e.Expiration <= now;

        private static (string, int, string) AddressOf(TestEvent e) =>
            (e.PubKeyHex, e.Kind, IsAddressable(e.Kind) ? e.Tags.FirstOrDefault(t => t.Letter == 'd').Value ?? "" : "");

        public WriteStatus Apply(TestEvent e, long now)
        {
            if (IsExpired(e, now)) return WriteStatus.Invalid;
            if (e.Kind is >= 20000 and < 30000) return WriteStatus.Ephemeral;
            if (Stored.ContainsKey(e.IdHex)) return WriteStatus.Duplicate;
            if (e.Kind != 5 && _deletedIds.Contains((e.PubKeyHex, e.IdHex))) return WriteStatus.Deleted;
            if (IsReplaceable(e.Kind) || IsAddressable(e.Kind))
            {
                var address = AddressOf(e);
                if (_deletedAddresses.TryGetValue(address, out long deletedAt) && e.CreatedAt <= deletedAt) return WriteStatus.Deleted;
                if (Current.TryGetValue(address, out string? currentId))
                {
                    var current = Stored[currentId];
                    bool currentWins = current.CreatedAt > e.CreatedAt
                        || (current.CreatedAt == e.CreatedAt && string.CompareOrdinal(current.IdHex, e.IdHex) < 0);
                    if (currentWins) return WriteStatus.Superseded;
                    Remove(current);
                }
                Current[address] = e.IdHex;
            }
            Stored[e.IdHex] = e;
            if (e.Kind == 5) ApplyDeletion(e);
            return WriteStatus.Stored;
        }

        private void ApplyDeletion(TestEvent deletion)
        {
            foreach (var (letter, value) in deletion.Tags)
            {
                if (letter == 'e')
                {
                    _deletedIds.Add((deletion.PubKeyHex, value));
                    if (Stored.TryGetValue(value, out var target) && target.PubKeyHex == deletion.PubKeyHex && target.Kind != 5)
                        Remove(target);
                }
                else if (letter == 'a')
                {
                    var parts = value.Split(':', 3);
                    int kind = int.Parse(parts[0]);
                    if (parts[1] != deletion.PubKeyHex) continue;
                    if (!IsAddressable(kind) && !(IsReplaceable(kind) && parts[2] == "")) continue;
                    var address = (parts[1], kind, parts[2]);
                    _deletedAddresses[address] = Math.Max(_deletedAddresses.GetValueOrDefault(address, long.MinValue), deletion.CreatedAt);
                    if (Current.TryGetValue(address, out string? currentId) && Stored[currentId].CreatedAt <= deletion.CreatedAt)
                        Remove(Stored[currentId]);
                }
            }
        }

        private void Remove(TestEvent e)
        {
            Stored.Remove(e.IdHex);
            var address = AddressOf(e);
            if (Current.TryGetValue(address, out string? id) && id == e.IdHex) Current.Remove(address);
        }

        public int Purge(long now)
        {
            var expired = Stored.Values.Where(e => IsExpired(e, now)).ToList();
            foreach (var e in expired) Remove(e);
            return expired.Count;
        }

        public List<string> Query(RandomFilter[] filters, int maxLimit, long now)
        {
            var sent = new List<string>();
            var seen = new HashSet<string>();
            foreach (var filter in filters)
            {
                int limit = filter.Limit < 0 ? maxLimit : Math.Min(filter.Limit, maxLimit);
                var selected = Stored.Values
                    .Where(e => !IsExpired(e, now) && filter.Matches(e))
                    .OrderByDescending(e => e.CreatedAt)
                    .ThenBy(e => e.IdHex, StringComparer.Ordinal)
                    .Take(limit);
                foreach (var e in selected)
                {
                    if (seen.Add(e.IdHex)) sent.Add(e.IdHex);
                }
            }
            return sent;
        }

        public long Count(RandomFilter[] filters, long now) =>
            Stored.Values.Count(e => !IsExpired(e, now) && filters.Any(f => f.Matches(e)));
    }
}
