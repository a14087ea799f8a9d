using Relay.Server.Relay;

namespace Relay.Server.Policy;

/// <summary>
/// Where the plugin's verdicts on client EVENTs land: accepted events go on to the writer (whose own
/// rules still apply), the others are answered here, the way strfry's writer answers them.
/// </summary>
internal sealed class WritePolicyGate(Writer writer) : IPolicyVerdictSink
{
    private readonly LogLimiter _log = new(20, TimeSpan.FromSeconds(10));

    public void OnVerdict(in WriteJob job, in PolicyVerdict verdict)
    {
        if (verdict.Action == PolicyAction.Accept)
        {
            writer.Post(job);
            return;
        }
        try
        {
            Metrics.EventsRejected.Add(1);
            bool accepted = verdict.Action == PolicyAction.ShadowReject;
            string message = verdict.Action == PolicyAction.Reject ? WithPrefix(verdict.Message) : verdict.Message;
            // An empty message is the plugin's way of asking for no log line (strfry's convention).
            if (verdict.Message.Length > 0)
                _log.Info($"[{job.Session?.Id}] write policy blocked event {job.Id}: {verdict.Message}");
            // strfry sends the plugin's msg with a shadowReject's OK true too; the plugin chooses what it says.
            job.Session?.SendOk(job.Id.Span, accepted, message);
        }
        finally
        {
            EventBuffers.Pool.Return(job.Buffer);
        }
    }

    /// <summary>NIP-01 wants a machine-readable prefix on a refusal; a plugin's own (<c>word:</c>) is kept.</summary>
    internal static string WithPrefix(string message)
    {
        if (message.Length == 0) return "blocked: rejected by write policy";
        int colon = message.IndexOf(':');
        if (colon > 0)
        {
            bool word = true;
            for (int i = 0; i < colon && word; i++)
                word = message[i] is (>= 'a' and <= 'z') or '-';
            if (word) return message;
        }
        return "blocked: " + message;
    }
}
