namespace Relay.Server.Policy;

/// <summary>
/// A set of event kinds as a 65536-bit map: one load and a mask per lookup, so the ingester and the
/// monitors can ask it per event. Built once per config version.
/// </summary>
internal sealed class KindSet
{
    private readonly ulong[] _bits = new ulong[65536 / 64];

    public KindSet(ReadOnlySpan<(int Min, int Max)> ranges)
    {
        foreach (var (min, max) in ranges)
            for (int k = min; k <= max; k++) _bits[k >> 6] |= 1UL << (k & 63);
        IsEmpty = ranges.IsEmpty;
    }

    public static KindSet Of(IReadOnlyList<int> kinds)
    {
        var ranges = new (int, int)[kinds.Count];
        for (int i = 0; i < ranges.Length; i++) ranges[i] = (kinds[i], kinds[i]);
        return new KindSet(ranges);
    }

    public bool IsEmpty { get; }

    public bool Contains(int kind) => (uint)kind < 65536 && (_bits[kind >> 6] & (1UL << (kind & 63))) != 0;
}
