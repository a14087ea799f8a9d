namespace Relay.Load.Generation;

/// <summary>
/// xoshiro256** seeded through SplitMix64 from (seed, stream, index). Each event draws from its own
/// stream, so the generated file is the same whatever the thread count or chunking.
/// </summary>
public struct DeterministicRandom
{
    private ulong _s0, _s1, _s2, _s3;

    public static DeterministicRandom For(ulong seed, ulong stream, ulong index)
    {
        ulong x = seed ^ (stream * 0xD1B54A32D192ED03UL) ^ (index * 0x9E3779B97F4A7C15UL);
        DeterministicRandom r = default;
        r._s0 = SplitMix(ref x);
        r._s1 = SplitMix(ref x);
        r._s2 = SplitMix(ref x);
        r._s3 = SplitMix(ref x);
        return r;
    }

    public ulong NextULong()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, maxExclusive).</summary>
    public int Next(int maxExclusive) => (int)((NextULong() >> 32) * (ulong)maxExclusive >> 32);

    /// <summary>Uniform in [minInclusive, maxExclusive).</summary>
    public int Next(int minInclusive, int maxExclusive) => minInclusive + Next(maxExclusive - minInclusive);

    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    public bool Chance(double probability) => NextDouble() < probability;

    /// <summary>Skewed towards <paramref name="min"/>: min * (max/min)^(u^2); most values small, a long tail.</summary>
    public int NextSkewed(int min, int max)
    {
        double u = NextDouble();
        return Math.Min(max, (int)(min * Math.Pow((double)max / min, u * u)));
    }

    public void NextBytes(Span<byte> destination)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = (byte)NextULong();
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
