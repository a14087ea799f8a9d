using System.Buffers;
using Sha256 = System.Security.Cryptography.SHA256;

namespace Relay.Load.Generation;

/// <summary>
/// Turns a draft into the signed event JSON. The tags and content are escaped once, into the id
/// preimage, and the very same bytes are reused in the event, so id and payload always agree.
/// Not thread-safe: one per worker thread (it keeps scratch buffers).
/// </summary>
public sealed class EventSigner(AuthorKeys keys)
{
    private readonly ArrayBufferWriter<byte> _preimage = new(4096);
    private readonly ArrayBufferWriter<byte> _event = new(4096);
    private readonly byte[] _auxiliary = new byte[32];

    /// <summary>The NIP-01 id of the draft: sha256 of <c>[0,pubkey,created_at,kind,tags,content]</c>.</summary>
    public void ComputeId(EventDraft draft, Span<byte> id)
    {
        WritePreimage(draft, out _, out _, out _);
        Sha256.HashData(_preimage.WrittenSpan, id);
    }

    /// <summary>Signs the draft; returns the event JSON (a fresh array) and its id.</summary>
    public byte[] Sign(EventDraft draft, Span<byte> id)
    {
        WritePreimage(draft, out int tagsStart, out int tagsEnd, out int contentEnd);
        Sha256.HashData(_preimage.WrittenSpan, id);
        // BIP-340's auxiliary randomness taken from the id keeps signatures (and the file) reproducible.
        id.CopyTo(_auxiliary);
        Span<byte> sig = stackalloc byte[64];
        keys.Sign(draft.Author, id, _auxiliary, sig);

        ReadOnlySpan<byte> preimage = _preimage.WrittenSpan;
        _event.ResetWrittenCount();
        CanonicalJson.WriteAscii(_event, "{\"id\":"u8);
        CanonicalJson.WriteHexString(_event, id);
        CanonicalJson.WriteAscii(_event, ",\"pubkey\":"u8);
        CanonicalJson.WriteHexString(_event, keys.PubKey(draft.Author));
        CanonicalJson.WriteAscii(_event, ",\"created_at\":"u8);
        CanonicalJson.WriteNumber(_event, draft.CreatedAt);
        CanonicalJson.WriteAscii(_event, ",\"kind\":"u8);
        CanonicalJson.WriteNumber(_event, draft.Kind);
        CanonicalJson.WriteAscii(_event, ",\"tags\":"u8);
        _event.Write(preimage[tagsStart..tagsEnd]);
        CanonicalJson.WriteAscii(_event, ",\"content\":"u8);
        _event.Write(preimage[(tagsEnd + 1)..contentEnd]);
        CanonicalJson.WriteAscii(_event, ",\"sig\":"u8);
        CanonicalJson.WriteHexString(_event, sig);
        CanonicalJson.WriteAscii(_event, "}"u8);
        return _event.WrittenSpan.ToArray();
    }

    private void WritePreimage(EventDraft draft, out int tagsStart, out int tagsEnd, out int contentEnd)
    {
        _preimage.ResetWrittenCount();
        CanonicalJson.WriteAscii(_preimage, "[0,"u8);
        CanonicalJson.WriteHexString(_preimage, keys.PubKey(draft.Author));
        CanonicalJson.WriteAscii(_preimage, ","u8);
        CanonicalJson.WriteNumber(_preimage, draft.CreatedAt);
        CanonicalJson.WriteAscii(_preimage, ","u8);
        CanonicalJson.WriteNumber(_preimage, draft.Kind);
        CanonicalJson.WriteAscii(_preimage, ","u8);
        tagsStart = _preimage.WrittenCount;
        CanonicalJson.WriteAscii(_preimage, "["u8);
        for (int t = 0; t < draft.Tags.Count; t++)
        {
            if (t > 0) CanonicalJson.WriteAscii(_preimage, ","u8);
            CanonicalJson.WriteAscii(_preimage, "["u8);
            string[] tag = draft.Tags[t];
            for (int v = 0; v < tag.Length; v++)
            {
                if (v > 0) CanonicalJson.WriteAscii(_preimage, ","u8);
                CanonicalJson.WriteString(_preimage, tag[v]);
            }
            CanonicalJson.WriteAscii(_preimage, "]"u8);
        }
        CanonicalJson.WriteAscii(_preimage, "]"u8);
        tagsEnd = _preimage.WrittenCount;
        CanonicalJson.WriteAscii(_preimage, ","u8);
        CanonicalJson.WriteString(_preimage, draft.Content);
        contentEnd = _preimage.WrittenCount;
        CanonicalJson.WriteAscii(_preimage, "]"u8);
    }
}
