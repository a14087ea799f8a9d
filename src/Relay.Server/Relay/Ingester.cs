using System.Diagnostics;
using Relay.Native.Crypto;
using Relay.Native.Events;
using Relay.Native.Storage;
using Relay.Server.Policy;

namespace Relay.Server.Relay;

/// <summary>
/// An ingester thread: strict parse, canonical id check, the write rules (Policy), an early duplicate
/// probe, then BIP-340 signature checks for the whole drained batch in one VerifyBatch call.
/// Survivors go to the writer, through the write-policy plugin when one is configured.
/// </summary>
internal sealed class Ingester
{
    private const int BatchSize = 256;

    private readonly WorkQueue<IngestJob> _inbox;
    private readonly EventStore _store;
    private readonly Writer _writer;
    private readonly WritePolicyPlugin _policy;
    private readonly LiveSettings _settings;
    private readonly ISchnorrVerifier _verifier;
    private readonly FaultInjection? _faults;
    private readonly Thread _thread;

    public Ingester(int index, EventStore store, Writer writer, WritePolicyPlugin policy, LiveSettings settings, ISchnorrVerifier verifier,
        FaultInjection? faults = null)
    {
        _policy = policy;
        _faults = faults;
        _inbox = new WorkQueue<IngestJob>(faults?.IngesterInboxCapacity ?? 4096);
        _store = store;
        _writer = writer;
        _settings = settings;
        _verifier = verifier;
        _thread = new Thread(Run) { Name = $"Ingester {index}", IsBackground = true };
    }

    public void Start() => _thread.Start();
    public bool IsRunning => _thread.IsAlive;

    /// <summary>Queues an EVENT; the result completes later only when the inbox is full (see <see cref="WorkQueue{T}"/>).</summary>
    public ValueTask Post(in IngestJob job)
    {
        _writer.NoteIngestStarted();
        switch (_inbox.TryEnqueue(job))
        {
            case EnqueueResult.Queued: return default;
            case EnqueueResult.Completed: Drop(job); return default;
            default: return PostWhenRoomAsync(job);
        }
    }

    private async ValueTask PostWhenRoomAsync(IngestJob job)
    {
        Metrics.InboxFullWaits.Add(1);
        if (!await _inbox.EnqueueAsync(job)) Drop(job);
    }

    private void Drop(in IngestJob job)
    {
        _writer.NoteIngestFinished();
        EventBuffers.Pool.Return(job.Buffer);
    }
    public void Stop() { _inbox.Complete(); _thread.Join(); }

    // Per-batch scratch: events that passed parsing and the duplicate probe wait here for one
    // VerifyBatch call over contiguous sig/id/pubkey arrays.
    private struct Survivor
    {
        public int Job;
        public byte[] Buffer;
        public int PackedLength, JsonStart, JsonLength;
        public ParsedEventHeader Header;
    }

    private void Run()
    {
        var batch = new IngestJob[BatchSize];
        var survivors = new Survivor[BatchSize];
        var sigs = new byte[64 * BatchSize];
        var ids = new byte[32 * BatchSize];
        var pubKeys = new byte[32 * BatchSize];
        var valid = new bool[BatchSize];
        // One read transaction for the thread's life, renewed per batch (mdb_txn_reset/renew): a fresh
        // snapshot for the duplicate probe without allocating a transaction per batch.
        using var view = _store.BeginRead();
        view.Reset();
        int n;
        while ((n = _inbox.DrainTo(batch)) >= 0)
        {
            if (n == 0) continue;
            int count = 0;
            try
            {
                long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                var settings = _settings.Current;
                view.Renew();
                for (int i = 0; i < n; i++)
                {
                    ref var job = ref batch[i];
                    if (job.Session.Closed) continue;
                    try
                    {
                        if (Screen(ref job, now, settings, view, out var survivor))
                        {
                            survivor.Job = i;
                            survivor.Header.Sig.Span.CopyTo(sigs.AsSpan(64 * count));
                            survivor.Header.Id.Span.CopyTo(ids.AsSpan(32 * count));
                            survivor.Header.PubKey.Span.CopyTo(pubKeys.AsSpan(32 * count));
                            survivors[count++] = survivor;
                        }
                    }
                    catch (Exception e)
                    {
                        RelayLog.Error($"ingester: {e}");
                        job.Session.SendNotice("error: internal error while processing EVENT");
                    }
                }
                view.Reset();

                long verifyStart = Stopwatch.GetTimestamp();
                _verifier.VerifyBatch(sigs.AsSpan(0, 64 * count), ids.AsSpan(0, 32 * count), pubKeys.AsSpan(0, 32 * count), valid.AsSpan(0, count));
                Metrics.RecordVerify(Stopwatch.GetTimestamp() - verifyStart, count);
                for (int k = 0; k < count; k++)
                {
                    ref var s = ref survivors[k];
                    var session = batch[s.Job].Session;
                    // Taken out of the survivor before anything can throw: from here the buffer
                    // belongs to the writer (or the pool), never to the catch below.
                    byte[] buffer = s.Buffer;
                    s.Buffer = null!;
                    if (!valid[k])
                    {
                        EventBuffers.Pool.Return(buffer);
                        RejectParsed(session, s.Header, "invalid: bad signature");
                    }
                    else
                    {
                        _faults?.IngesterBeforeHandOff?.Invoke();
                        var verified = new WriteJob
                        {
                            Session = session,
                            Buffer = buffer,
                            PackedLength = s.PackedLength,
                            JsonStart = s.JsonStart,
                            JsonLength = s.JsonLength,
                            Id = s.Header.Id,
                        };
                        if (_policy.Enabled)
                            _policy.Submit(verified, session.PolicySource, session.SourceInfo, session.AuthedPubKey, now);
                        else
                            _writer.Post(verified);
                        _faults?.IngesterAfterHandOff?.Invoke();
                    }
                }
            }
            catch (Exception e)
            {
                RelayLog.Error($"ingester: {e}");
                // Only events not yet handed to the writer are answered here: a handed one gets its
                // answer from the writer, and its buffer is the writer's to return.
                for (int k = 0; k < count; k++)
                {
                    ref var s = ref survivors[k];
                    if (s.Buffer is null) continue;
                    EventBuffers.Pool.Return(s.Buffer);
                    s.Buffer = null!;
                    RejectParsed(batch[s.Job].Session, s.Header, "error: internal error while processing the event");
                }
            }
            finally
            {
                for (int k = 0; k < count; k++) survivors[k] = default;
                // After the hand-offs to the writer, so the writer never sees 0 while events are in between.
                for (int i = 0; i < n; i++)
                {
                    _writer.NoteIngestFinished();
                    EventBuffers.Pool.Return(batch[i].Buffer);
                    batch[i] = default;
                }
            }
        }
    }

    /// <summary>
    /// Parses and checks everything but the signature; answers the event itself when it is refused or
    /// already stored. True when it should go on to signature verification.
    /// </summary>
    private bool Screen(ref IngestJob job, long now, RelaySettings settings, ReadView view, out Survivor survivor)
    {
        survivor = default;
        var input = job.Buffer.AsSpan(0, job.Length);
        int maxPacked = EventParser.MaxPackedSize(job.Length);
        byte[] buffer = EventBuffers.Pool.Rent(maxPacked + EventParser.MaxJsonSize(job.Length));
        bool kept = false;
        try
        {
            var status = EventParser.Parse(input, settings.EventLimits, now, buffer.AsSpan(0, maxPacked), out int packedLength,
                buffer.AsSpan(maxPacked), out int jsonLength, out ParsedEventHeader header, out string? error);
            if (status != EventParseStatus.Ok)
            {
                Reject(job.Session, header, input, error ?? "invalid: malformed event");
                return false;
            }
            if (settings.Policy.Writes.Check(job.Session, header, out bool challenge) is { } refusal)
            {
                if (challenge) AuthChallenges.SendTo(job.Session);
                RejectParsed(job.Session, header, refusal);
                return false;
            }
            if (EventKinds.IsEphemeral(header.Kind) && header.CreatedAt < now - settings.Config.Events.RejectEphemeralEventsOlderThanSeconds)
            {
                RejectParsed(job.Session, header, "invalid: ephemeral event is too old");
                return false;
            }
            // Before the signature check, which costs 20x more: the id is the hash of the content, so a
            // stored event with this id is this event (whatever its sig field says).
            if (view.TryGetLevId(header.Id.Span, out ulong storedLevId))
            {
                Metrics.EventsDuplicate.Add(1);
                // The original may be committed but not yet fsynced (its own OK still waits for the
                // syncer): then this OK waits for the same fsync.
                _writer.Syncer.AnswerDuplicate(job.Session, header.Id, storedLevId);
                return false;
            }
            survivor = new Survivor { Buffer = buffer, PackedLength = packedLength, JsonStart = maxPacked, JsonLength = jsonLength, Header = header };
            kept = true;
            return true;
        }
        finally
        {
            if (!kept) EventBuffers.Pool.Return(buffer);
        }
    }

    /// <summary>Refuses an event that failed to parse: OK false with its id, or with the id text as sent when that is not valid hex.</summary>
    private static void Reject(ClientSession session, in ParsedEventHeader header, ReadOnlySpan<byte> eventJson, string message)
    {
        if (header.IdValid)
        {
            RejectParsed(session, header, message);
            return;
        }
        session.Log.InvalidEvent(session, header, message);
        Metrics.EventsRejected.Add(1);
        Span<byte> idText = stackalloc byte[MaxEchoedIdLength];
        if (EventParser.TryFindIdText(eventJson, idText, out int idLength))
            session.SendOkWithIdText(idText[..idLength], false, message);
        else
            session.SendNotice(message);
    }

    private static void RejectParsed(ClientSession session, in ParsedEventHeader header, string message)
    {
        session.Log.InvalidEvent(session, header, message);
        Metrics.EventsRejected.Add(1);
        if (header.IdValid) session.SendOk(header.Id.Span, false, message);
        else session.SendNotice(message);
    }

    // An id field longer than this is not echoed (a NOTICE says what was wrong instead).
    private const int MaxEchoedIdLength = 256;
}
