namespace Relay.Load.Generation;

/// <summary>An unsigned event as the generator plans it.</summary>
public sealed class EventDraft
{
    public int Kind { get; init; }
    public long CreatedAt { get; set; }
    public int Author { get; init; }
    public List<string[]> Tags { get; } = [];
    public string Content { get; set; } = "";

    public void AddTag(params string[] tag) => Tags.Add(tag);
}
