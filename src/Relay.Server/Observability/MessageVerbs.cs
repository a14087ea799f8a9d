using System.Text;
using Relay.Native.Protocol;

namespace Relay.Server.Observability;

/// <summary>Messages the relay sends, as counted in nostr_relay_messages_total{verb}.</summary>
internal enum RelayVerb : byte { Event, Ok, Eose, Closed, Notice, Count, Auth, NegMsg, NegErr }

/// <summary>The verb label values of the message counters, spelled as on the wire.</summary>
internal static class MessageVerbs
{
    public static readonly string[] Relay = LabelsOf<RelayVerb>();

    /// <summary>
    /// Indexed by <see cref="ClientVerb"/>, built from the enum itself so a verb added there (NIP-77's
    /// NegOpen, NegMsg, NegClose) is counted under its wire name (NEG-OPEN, ...) without a change here.
    /// Messages whose verb could not be read count as UNKNOWN.
    /// </summary>
    public static readonly string[] Client = LabelsOf<ClientVerb>();

    private static string[] LabelsOf<T>() where T : struct, Enum
    {
        var values = Enum.GetValues<T>();
        int max = 0;
        foreach (var v in values) max = Math.Max(max, Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture));
        var labels = new string[max + 1];
        for (int i = 0; i < labels.Length; i++) labels[i] = "UNKNOWN";
        foreach (var v in values)
            labels[Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture)] = WireName(v.ToString());
        return labels;
    }

    /// <summary>"NegOpen" -> "NEG-OPEN", "Eose" -> "EOSE".</summary>
    internal static string WireName(string pascal)
    {
        var sb = new StringBuilder(pascal.Length + 2);
        for (int i = 0; i < pascal.Length; i++)
        {
            if (i > 0 && char.IsUpper(pascal[i])) sb.Append('-');
            sb.Append(char.ToUpperInvariant(pascal[i]));
        }
        return sb.ToString();
    }
}
