using System.Diagnostics.Metrics;

namespace Relay.Server.Observability;

/// <summary>
/// One metric family. Values live in lock-free fields of the subclass (the hot paths only ever do an
/// interlocked add); the two exporters read them: <see cref="WritePrometheus"/> for /metrics and
/// <see cref="Publish"/>, which creates the matching System.Diagnostics.Metrics instrument on the
/// relay's <see cref="Meter"/> so dotnet-counters, dotnet-monitor or OpenTelemetry see the same names.
/// </summary>
internal abstract class Metric(string name, string help, string? unit)
{
    public string Name { get; } = name;
    public string Help { get; } = help;
    /// <summary>UCUM-style unit for the Meter instrument ("s", "By", "{event}"); Prometheus carries it in the name.</summary>
    public string? Unit { get; } = unit;

    internal abstract void WritePrometheus(PrometheusText text);

    internal abstract void Publish(Meter meter);
}
