using System.Diagnostics.Metrics;
using Relay.Native.Storage;

namespace Relay.Server.Observability;

/// <summary>
/// What one running relay reports about itself (its connections, its database's map). A process
/// normally runs one relay; tests run several, so /metrics shows the relay that serves it and the
/// Meter sums over all of them.
/// </summary>
internal sealed class ServerStatus(Func<int> connections, EventStore store)
{
    public int Connections => connections();

    /// <summary>The store's size now; null once it is closed.</summary>
    public StoreInfo? Store
    {
        get
        {
            try { return store.Describe(); }
            catch (ObjectDisposedException) { return null; }
        }
    }
}

/// <summary>A gauge whose value belongs to one relay (see <see cref="ServerStatus"/>).</summary>
internal sealed class ServerGauge(string name, string help, Func<ServerStatus, long> read, string? unit = null) : Metric(name, help, unit)
{
    internal override void WritePrometheus(PrometheusText text)
    {
        if (text.Server is not { } server) return;
        text.Family(Name, Help, "gauge");
        text.Sample(Name, read(server));
    }

    internal override void Publish(Meter meter) => meter.CreateObservableGauge(Name, () =>
    {
        long total = 0;
        foreach (var server in Metrics.Servers) total += read(server);
        return total;
    }, Unit, Help);
}
