using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Relay.Native.Events;

namespace Relay.Native.Protocol;

/// <summary>
/// Relay-to-client messages, written straight into the connection's output buffer. Subscription
/// ids are echoed as the client sent them (raw bytes between the quotes, already valid JSON);
/// message strings are escaped here.
/// </summary>
public static class RelayMessageWriter
{
    private const int StackEncodeLimit = 256;

    /// <summary><c>["OK","&lt;id hex&gt;",true|false,"&lt;message&gt;"]</c></summary>
    public static void Ok(IBufferWriter<byte> w, ReadOnlySpan<byte> id32, bool accepted, string message)
    {
        if (id32.Length != 32) throw new ArgumentException("expected 32 bytes", nameof(id32));
        Span<byte> head = w.GetSpan(8 + 64 + 8);
        "[\"OK\",\""u8.CopyTo(head);
        Hex.EncodeLower(id32, head.Slice(7, 64));
        ReadOnlySpan<byte> verdict = accepted ? "\",true,"u8 : "\",false,"u8;
        verdict.CopyTo(head.Slice(71));
        w.Advance(71 + verdict.Length);
        WriteString(w, message);
        w.Write("]"u8);
    }

    /// <summary>
    /// <c>["OK","&lt;id&gt;",false,"&lt;message&gt;"]</c> for an event whose id is not valid hex: the id is
    /// echoed as the client sent it (UTF-8, re-escaped canonically).
    /// </summary>
    public static void OkWithIdText(IBufferWriter<byte> w, ReadOnlySpan<byte> idUtf8, bool accepted, string message)
    {
        w.Write("[\"OK\","u8);
        Span<byte> id = w.GetSpan(CanonicalJson.MaxQuotedLength(idUtf8.Length));
        w.Advance(CanonicalJson.WriteString(idUtf8, id));
        w.Write(accepted ? ",true,"u8 : ",false,"u8);
        WriteString(w, message);
        w.Write("]"u8);
    }

    /// <summary><c>["EVENT","&lt;sub&gt;",</c>; the caller appends the event JSON and <c>]</c>.</summary>
    public static void EventPrefix(IBufferWriter<byte> w, ReadOnlySpan<byte> subIdRaw)
    {
        w.Write("[\"EVENT\",\""u8);
        w.Write(subIdRaw);
        w.Write("\","u8);
    }

    /// <summary><c>["EVENT","&lt;sub&gt;",&lt;event json&gt;]</c></summary>
    public static void Event(IBufferWriter<byte> w, ReadOnlySpan<byte> subIdRaw, ReadOnlySpan<byte> eventJson)
    {
        EventPrefix(w, subIdRaw);
        w.Write(eventJson);
        w.Write("]"u8);
    }

    /// <summary><c>["EOSE","&lt;sub&gt;"]</c></summary>
    public static void Eose(IBufferWriter<byte> w, ReadOnlySpan<byte> subIdRaw)
    {
        w.Write("[\"EOSE\",\""u8);
        w.Write(subIdRaw);
        w.Write("\"]"u8);
    }

    /// <summary><c>["CLOSED","&lt;sub&gt;","&lt;message&gt;"]</c></summary>
    public static void Closed(IBufferWriter<byte> w, ReadOnlySpan<byte> subIdRaw, string message)
    {
        w.Write("[\"CLOSED\",\""u8);
        w.Write(subIdRaw);
        w.Write("\","u8);
        WriteString(w, message);
        w.Write("]"u8);
    }

    /// <summary><c>["NOTICE","&lt;message&gt;"]</c></summary>
    public static void Notice(IBufferWriter<byte> w, string message)
    {
        w.Write("[\"NOTICE\","u8);
        WriteString(w, message);
        w.Write("]"u8);
    }

    /// <summary><c>["COUNT","&lt;sub&gt;",{"count":N}]</c> (NIP-45)</summary>
    public static void Count(IBufferWriter<byte> w, ReadOnlySpan<byte> subIdRaw, long count)
    {
        w.Write("[\"COUNT\",\""u8);
        w.Write(subIdRaw);
        w.Write("\",{\"count\":"u8);
        Span<byte> digits = w.GetSpan(20);
        Utf8Formatter.TryFormat(count, digits, out int written);
        w.Advance(written);
        w.Write("}]"u8);
    }

    /// <summary><c>["AUTH","&lt;challenge&gt;"]</c> (NIP-42)</summary>
    public static void Auth(IBufferWriter<byte> w, string challenge)
    {
        w.Write("[\"AUTH\","u8);
        WriteString(w, challenge);
        w.Write("]"u8);
    }

    /// <summary>Writes <paramref name="text"/> as a quoted JSON string (UTF-8, canonical escaping).</summary>
    public static void WriteString(IBufferWriter<byte> w, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int maxUtf8 = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        Span<byte> utf8 = maxUtf8 <= StackEncodeLimit
            ? stackalloc byte[StackEncodeLimit]
            : (rented = ArrayPool<byte>.Shared.Rent(maxUtf8));
        // Lone surrogates become U+FFFD here: the output stays valid UTF-8 whatever the string holds.
        int length = Encoding.UTF8.GetBytes(text, utf8);
        Span<byte> destination = w.GetSpan(CanonicalJson.MaxQuotedLength(length));
        w.Advance(CanonicalJson.WriteString(utf8.Slice(0, length), destination));
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
    }
}
