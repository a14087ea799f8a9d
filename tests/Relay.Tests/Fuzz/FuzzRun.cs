namespace Relay.Tests.Fuzz;

/// <summary>
/// How long the fuzz tests run and with which seeds. Short by default so the folder stays a normal
/// part of the test run; <c>RELAY_FUZZ_ITERATIONS=1000000</c> turns every target into a soak, and
/// <c>RELAY_FUZZ_SEED</c> moves all of them to another (still reproducible) part of the input space.
/// </summary>
internal static class FuzzRun
{
    public const int DefaultIterations = 3000;

    public static int Iterations { get; } = ReadInt("RELAY_FUZZ_ITERATIONS", DefaultIterations);
    public static int BaseSeed { get; } = ReadInt("RELAY_FUZZ_SEED", 20260101);

    /// <summary>
    /// Runs <paramref name="body"/> <see cref="Iterations"/> times (scaled by <paramref name="weight"/>
    /// for slow targets), each with its own generator so any failing iteration replays on its own.
    /// A failure names the target, the seed and the iteration, and carries whatever input the body
    /// last described through <see cref="FuzzCase"/>.
    /// </summary>
    public static void Each(string target, Action<Random, FuzzCase> body, double weight = 1.0)
    {
        int iterations = Math.Max(1, (int)(Iterations * weight));
        for (int i = 0; i < iterations; i++)
        {
            int seed = unchecked(BaseSeed * 1_000_003 + StableHash(target) + i);
            var fuzzCase = new FuzzCase();
            try
            {
                body(new Random(seed), fuzzCase);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException(
                    $"{target}: iteration {i} (Random seed {seed}, RELAY_FUZZ_SEED={BaseSeed}) failed: {e.GetType().Name}: {e.Message}\n" +
                    $"input (base64): {fuzzCase.InputBase64}\n{e}");
            }
        }
    }

    // string.GetHashCode is randomized per process; seeds must not be.
    private static int StableHash(string text)
    {
        int hash = 17;
        foreach (char c in text) hash = unchecked(hash * 31 + c);
        return hash;
    }

    private static int ReadInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int value) && value > 0 ? value : fallback;
}

/// <summary>What one iteration was working on, for the failure message.</summary>
internal sealed class FuzzCase
{
    private byte[] _input = [];

    public string InputBase64 => Convert.ToBase64String(_input);

    public void Input(byte[] input) => _input = input;
}
