using Relay.Native.Crypto;
using Relay.Native.Events;
using Relay.Native.Storage;

namespace Relay.Server.Relay;

/// <summary>
/// An ingester thread: strict parse, canonical id check, BIP-340 signature check and an early
/// duplicate probe, for the EVENTs of the connections sharded to it. Survivors go to the writer.
/// </summary>
internal sealed class Ingester
{
    private const int BatchSize = 256;

    private readonly WorkQueue<IngestJob> _inbox = new(4096);
    private readonly EventStore _store;
    private readonly Writer _writer;
    private readonly EventLimits _limits;
    private readonly ISchnorrVerifier _verifier;
    private readonly long _rejectEphemeralOlderThan;
    private readonly Thread _thread;

    public Ingester(int index, EventStore store, Writer writer, EventLimits limits, ISchnorrVerifier verifier, long rejectEphemeralOlderThan)
    {
        _store = store;
        _writer = writer;
        _limits = limits;
        _verifier = verifier;
        _rejectEphemeralOlderThan = rejectEphemeralOlderThan;
        _thread = new Thread(Run) { Name = $"Ingester {index}", IsBackground = true };
    }

    public void Start() => _thread.Start();
    public void Post(in IngestJob job)
    {
        _writer.NoteIngestStarted();
        if (!_inbox.Enqueue(job))
        {
            _writer.NoteIngestFinished();
            EventBuffers.Pool.Return(job.Buffer);
        }
    }
    public void Stop() { _inbox.Complete(); _thread.Join(); }

    private void Run()
    {
        var batch = new IngestJob[BatchSize];
        // One read transaction for the thread's life, renewed per batch (mdb_txn_reset/renew): a fresh
        // snapshot for the duplicate probe without allocating a transaction per batch.
        using var view = _store.BeginRead();
        view.Reset();
        int n;
        while ((n = _inbox.DrainTo(batch)) >= 0)
        {
            if (n == 0) continue;
            bool viewOpen = false;
            try
            {
                long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                for (int i = 0; i < n; i++)
                {
                    ref var job = ref batch[i];
                    try
                    {
                        if (!job.Session.Closed) Ingest(ref job, now, view, ref viewOpen);
                    }
                    catch (Exception e)
                    {
                        RelayLog.Error($"ingester: {e}");
                        job.Session.SendNotice("error: internal error while processing EVENT");
                    }
                    finally
                    {
                        // After the hand-off to the writer, so the writer never sees 0 while it is in between.
                        _writer.NoteIngestFinished();
                        EventBuffers.Pool.Return(job.Buffer);
                        job = default;
                    }
                }
            }
            finally
            {
                if (viewOpen) view.Reset();
            }
        }
    }

    private void Ingest(ref IngestJob job, long now, ReadView view, ref bool viewOpen)
    {
        var input = job.Buffer.AsSpan(0, job.Length);
        int maxPacked = EventParser.MaxPackedSize(job.Length);
        byte[] buffer = EventBuffers.Pool.Rent(maxPacked + EventParser.MaxJsonSize(job.Length));
        bool handedOff = false;
        try
        {
            var status = EventParser.Parse(input, _limits, now, buffer.AsSpan(0, maxPacked), out int packedLength,
                buffer.AsSpan(maxPacked), out int jsonLength, out ParsedEventHeader header, out string? error);
            if (status != EventParseStatus.Ok)
            {
                Reject(job.Session, header, error ?? "invalid: malformed event");
                return;
            }
            if (EventKinds.IsEphemeral(header.Kind) && header.CreatedAt < now - _rejectEphemeralOlderThan)
            {
                Reject(job.Session, header, "invalid: ephemeral event is too old");
                return;
            }
            if (!_verifier.Verify(header.Sig.Span, header.Id.Span, header.PubKey.Span))
            {
                Reject(job.Session, header, "invalid: bad signature");
                Metrics.EventsRejected.Add(1);
                return;
            }
            if (!viewOpen) { view.Renew(); viewOpen = true; }
            if (view.ContainsId(header.Id.Span))
            {
                Metrics.EventsDuplicate.Add(1);
                job.Session.SendOk(header.Id.Span, true, "duplicate: already have this event");
                return;
            }
            _writer.Post(new WriteJob
            {
                Session = job.Session,
                Buffer = buffer,
                PackedLength = packedLength,
                JsonStart = maxPacked,
                JsonLength = jsonLength,
                Id = header.Id,
            });
            handedOff = true;
        }
        finally
        {
            if (!handedOff) EventBuffers.Pool.Return(buffer);
        }
    }

    private static void Reject(ClientSession session, in ParsedEventHeader header, string message)
    {
        Metrics.EventsRejected.Add(1);
        if (header.IdValid) session.SendOk(header.Id.Span, false, message);
        else session.SendNotice(message);
    }
}
