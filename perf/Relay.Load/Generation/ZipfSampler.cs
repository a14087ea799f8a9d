namespace Relay.Load.Generation;

/// <summary>Ranks 0..n-1 with P(rank k) proportional to 1/(k+1)^s: a few very active authors, a long tail.</summary>
public sealed class ZipfSampler
{
    private readonly double[] _cumulative;

    public ZipfSampler(int count, double exponent)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count));
        _cumulative = new double[count];
        double total = 0;
        for (int k = 0; k < count; k++)
        {
            total += 1.0 / Math.Pow(k + 1, exponent);
            _cumulative[k] = total;
        }
        for (int k = 0; k < count; k++) _cumulative[k] /= total;
    }

    public int Count => _cumulative.Length;

    public int Sample(ref DeterministicRandom random)
    {
        int index = Array.BinarySearch(_cumulative, random.NextDouble());
        if (index < 0) index = ~index;
        return Math.Min(index, _cumulative.Length - 1);
    }
}
