using System.Text;
using Relay.Native.Events;
using Relay.Native.Storage;

namespace Relay.Tests.Storage;

/// <summary>A real LMDB environment in a fresh temp directory, removed on dispose.</summary>
internal sealed class TempStore : IDisposable
{
    public TempStore()
    {
        Directory = Path.Combine(Path.GetTempPath(), "relay-tests", Guid.NewGuid().ToString("N"));
        Store = Open(Directory);
    }

    public string Directory { get; }
    public EventStore Store { get; private set; }

    public static EventStore Open(string directory) =>
        EventStore.Open(new StoreOptions { Path = directory, MapSize = 1L << 30 });

    public void Reopen()
    {
        Store.Dispose();
        Store = Open(Directory);
    }

    public WriteResult Write(TestEvent ev, long now = TestEvent.Now) => WriteBatch(new[] { ev }, now)[0];

    public WriteResult[] WriteBatch(IReadOnlyList<TestEvent> events, long now = TestEvent.Now, bool durable = false)
    {
        var items = events.Select(e => new WriteItem(e.Pack(), e.Json)).ToArray();
        var results = new WriteResult[items.Length];
        Store.WriteBatch(items, results, durable, now);
        return results;
    }

    public bool IsStored(TestEvent ev)
    {
        using var view = Store.BeginRead();
        return view.ContainsId(ev.Id);
    }

    public void Dispose()
    {
        Store.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>An event as the storage layer sees it; no signature, JSON is the hex id.</summary>
internal sealed record TestEvent(byte[] Id, byte[] PubKey, long CreatedAt, int Kind, long Expiration, IReadOnlyList<(char Letter, string Value)> Tags)
{
    /// <summary>Default "now" for writes: before every created_at the tests use.</summary>
    public const long Now = 100;

    public string IdHex => Convert.ToHexStringLower(Id);
    public string PubKeyHex => Convert.ToHexStringLower(PubKey);
    public byte[] Json => Encoding.ASCII.GetBytes(IdHex);

    public static TestEvent Create(Random random, byte[] pubKey, long createdAt, int kind, long expiration = 0, params (char, string)[] tags)
    {
        var id = new byte[32];
        random.NextBytes(id);
        return new TestEvent(id, pubKey, createdAt, kind, expiration, tags);
    }

    public static byte[] Key(Random random)
    {
        var key = new byte[32];
        random.NextBytes(key);
        return key;
    }

    public TestEvent WithId(byte firstByte)
    {
        var id = (byte[])Id.Clone();
        id[0] = firstByte;
        return this with { Id = id };
    }

    public byte[] Pack()
    {
        var buffer = new byte[PackedEvent.HeaderSize + Tags.Sum(t => 3 + Encoding.UTF8.GetByteCount(t.Value))];
        var writer = new PackedEventWriter(buffer, Id, PubKey, CreatedAt, Kind, Expiration);
        foreach (var (letter, value) in Tags)
        {
            if (!writer.TryAddTag((byte)letter, Encoding.UTF8.GetBytes(value))) throw new InvalidOperationException("packing failed");
        }
        return writer.Written.ToArray();
    }
}
