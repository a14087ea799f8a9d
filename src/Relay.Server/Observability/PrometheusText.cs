using System.Globalization;
using System.Text;

namespace Relay.Server.Observability;

/// <summary>
/// Writes the Prometheus text exposition format (version 0.0.4). Names, help texts and label values
/// are the relay's own constants or numbers, so nothing needs escaping.
/// </summary>
internal sealed class PrometheusText
{
    private readonly StringBuilder _sb = new(16 * 1024);

    public PrometheusText(ServerStatus? server = null) => Server = server;

    /// <summary>The relay whose own gauges (connections, map size) this text reports.</summary>
    public ServerStatus? Server { get; }

    public void Family(string name, string help, string type) =>
        _sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
           .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    public void Sample(string name, long value) =>
        _sb.Append(name).Append(' ').Append(value).Append('\n');

    public void Sample(string name, double value) =>
        _sb.Append(name).Append(' ').Append(Format(value)).Append('\n');

    public void Sample(string name, string label, string labelValue, long value) =>
        _sb.Append(name).Append('{').Append(label).Append("=\"").Append(labelValue).Append("\"} ").Append(value).Append('\n');

    public void Sample(string name, string label, string labelValue, double value) =>
        _sb.Append(name).Append('{').Append(label).Append("=\"").Append(labelValue).Append("\"} ").Append(Format(value)).Append('\n');

    public void Sample(string name, string label1, string value1, string label2, string value2, long value) =>
        _sb.Append(name).Append('{').Append(label1).Append("=\"").Append(value1).Append("\",")
           .Append(label2).Append("=\"").Append(value2).Append("\"} ").Append(value).Append('\n');

    public override string ToString() => _sb.ToString();

    public static string Format(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : value.ToString("0.#########", CultureInfo.InvariantCulture);
}
