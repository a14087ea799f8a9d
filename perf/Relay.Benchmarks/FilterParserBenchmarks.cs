using System.Text;
using BenchmarkDotNet.Attributes;
using Relay.Native.Protocol;
using Relay.Native.Query;

namespace Relay.Benchmarks;

/// <summary>
/// FilterParser.TryParse: runs once per REQ/COUNT and allocates by design (the compiled Filter objects
/// and their sorted arrays are what the hot paths then use without allocating).
/// </summary>
[MemoryDiagnoser]
public class FilterParserBenchmarks
{
    private byte[] _threeFilters = [];
    private byte[] _threeFiltersLargeFollowList = [];

    [GlobalSetup]
    public void Setup()
    {
        _threeFilters = Encoding.UTF8.GetBytes(SampleMessages.ThreeFilters(authors: 20));
        _threeFiltersLargeFollowList = Encoding.UTF8.GetBytes(SampleMessages.ThreeFilters(authors: 500));
        if (Parse(_threeFilters) != 3 || Parse(_threeFiltersLargeFollowList) != 3) throw new InvalidOperationException("sample filters refused");
    }

    [Benchmark]
    public int Three_filters_20_authors() => Parse(_threeFilters);

    [Benchmark]
    public int Three_filters_500_authors() => Parse(_threeFiltersLargeFollowList);

    private static int Parse(byte[] filtersJson)
    {
        if (!FilterParser.TryParse(filtersJson, FilterLimits.Default, out Filter[] filters, out _)) return -1;
        return filters.Length;
    }
}
