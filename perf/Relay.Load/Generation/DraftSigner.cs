using System.Buffers;
using Sha256 = System.Security.Cryptography.SHA256;

namespace Relay.Load.Generation;

/// <summary>
/// Turns a draft into the signed event JSON. The tags and content are escaped once, into the id
/// preimage, and the very same bytes are reused in the event, so id and payload always agree.
/// Not thread-safe: one per worker thread (it keeps scratch buffers).
/// </summary>
public sealed class DraftSigner(AuthorKeys keys)
{
    private readonly ArrayBufferWriter<byte> _preimage = new(4096);
    private readonly ArrayBufferWriter<byte> _event = new(4096);

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
        // The id doubles as BIP-340's auxiliary randomness, which keeps signatures (and the file) reproducible.
        Span<byte> sig = stackalloc byte[64];
        keys.Sign(draft.Author, id, id, sig);

        ReadOnlySpan<byte> preimage = _preimage.WrittenSpan;
        _event.ResetWrittenCount();
        JsonBuffer.WriteAscii(_event, "{\"id\":"u8);
        JsonBuffer.WriteHexString(_event, id);
        JsonBuffer.WriteAscii(_event, ",\"pubkey\":"u8);
        JsonBuffer.WriteHexString(_event, keys.PubKey(draft.Author));
        JsonBuffer.WriteAscii(_event, ",\"created_at\":"u8);
        JsonBuffer.WriteNumber(_event, draft.CreatedAt);
        JsonBuffer.WriteAscii(_event, ",\"kind\":"u8);
        JsonBuffer.WriteNumber(_event, draft.Kind);
        JsonBuffer.WriteAscii(_event, ",\"tags\":"u8);
        _event.Write(preimage[tagsStart..tagsEnd]);
        JsonBuffer.WriteAscii(_event, ",\"content\":"u8);
        _event.Write(preimage[(tagsEnd + 1)..contentEnd]);
        JsonBuffer.WriteAscii(_event, ",\"sig\":"u8);
        JsonBuffer.WriteHexString(_event, sig);
        JsonBuffer.WriteAscii(_event, "}"u8);
        return _event.WrittenSpan.ToArray();
    }

    private void WritePreimage(EventDraft draft, out int tagsStart, out int tagsEnd, out int contentEnd)
    {
        _preimage.ResetWrittenCount();
        JsonBuffer.WriteAscii(_preimage, "[0,"u8);
        JsonBuffer.WriteHexString(_preimage, keys.PubKey(draft.Author));
        JsonBuffer.WriteAscii(_preimage, ","u8);
        JsonBuffer.WriteNumber(_preimage, draft.CreatedAt);
        JsonBuffer.WriteAscii(_preimage, ","u8);
        JsonBuffer.WriteNumber(_preimage, draft.Kind);
        JsonBuffer.WriteAscii(_preimage, ","u8);
        tagsStart = _preimage.WrittenCount;
        JsonBuffer.WriteAscii(_preimage, "["u8);
        for (int t = 0; t < draft.Tags.Count; t++)
        {
            if (t > 0) JsonBuffer.WriteAscii(_preimage, ","u8);
            JsonBuffer.WriteAscii(_preimage, "["u8);
            string[] tag = draft.Tags[t];
            for (int v = 0; v < tag.Length; v++)
            {
                if (v > 0) JsonBuffer.WriteAscii(_preimage, ","u8);
                JsonBuffer.WriteString(_preimage, tag[v]);
            }
            JsonBuffer.WriteAscii(_preimage, "]"u8);
        }
        JsonBuffer.WriteAscii(_preimage, "]"u8);
        tagsEnd = _preimage.WrittenCount;
        JsonBuffer.WriteAscii(_preimage, ","u8);
        JsonBuffer.WriteString(_preimage, draft.Content);
        contentEnd = _preimage.WrittenCount;
        JsonBuffer.WriteAscii(_preimage, "]"u8);
    }
}
