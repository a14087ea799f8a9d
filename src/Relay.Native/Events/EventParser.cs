using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using Sha256 = System.Security.Cryptography.SHA256;

namespace Relay.Native.Events;

/// <summary>
/// Turns one received event object into what the relay keeps: the <see cref="PackedEvent"/> record,
/// the normalized JSON and the header the signature check needs, checking the id on the way.
/// </summary>
/// <remarks>
/// Two passes over the bytes. The first reads the fields in whatever order the client sent them and
/// only remembers where <c>tags</c> and <c>content</c> are; the second writes the normalized JSON in
/// NIP-01 field order, then builds the id serialization from pieces of it (pubkey, created_at, kind,
/// tags and content are canonical there already). Strings are re-escaped from their unescaped value,
/// never copied from the input, so the id is computed exactly as clients compute it whatever escapes
/// the sender chose (<c>\/</c>, <c>\u00e9</c>, surrogate pairs).
/// Nothing is allocated when the event is accepted: the scratch buffer comes from the shared pool.
/// </remarks>
public static class EventParser
{
    private const int FieldId = 1, FieldPubKey = 2, FieldCreatedAt = 4, FieldKind = 8, FieldTags = 16, FieldContent = 32, FieldSig = 64;
    private const int AllFields = 127;

    /// <summary>Size of the <c>packed</c> buffer that <see cref="Parse"/> needs for an input of this length.</summary>
    public static int MaxPackedSize(int eventJsonLength) => PackedEvent.HeaderSize + eventJsonLength;

    /// <summary>Size of the <c>json</c> buffer that <see cref="Parse"/> needs for an input of this length.</summary>
    /// <remarks>
    /// The normalized JSON is never longer than the input: it keeps each required field once, drops
    /// whitespace and unknown fields, and a canonical escape is never longer than any escape JSON
    /// allows for the same character. The slack covers nothing known; it is there for safety.
    /// </remarks>
    public static int MaxJsonSize(int eventJsonLength) => eventJsonLength + 16;

    public static EventParseStatus Parse(ReadOnlySpan<byte> eventJson, EventLimits limits, long now,
        Span<byte> packed, out int packedLength, Span<byte> json, out int jsonLength,
        out ParsedEventHeader header, out string? error)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (packed.Length < MaxPackedSize(eventJson.Length)) throw new ArgumentException("packed buffer too small", nameof(packed));
        if (json.Length < MaxJsonSize(eventJson.Length)) throw new ArgumentException("json buffer too small", nameof(json));

        header = default;
        packedLength = 0;
        jsonLength = 0;
        // One rental: the id serialization (as long as the normalized JSON at most), then room to
        // unescape the content, then room to unescape one tag element at a time.
        int serializationSize = MaxJsonSize(eventJson.Length);
        byte[] scratch = ArrayPool<byte>.Shared.Rent(serializationSize + 2 * eventJson.Length);
        try
        {
            error = ParseCore(eventJson, limits, now, packed, ref packedLength, json, ref jsonLength, ref header,
                scratch.AsSpan(0, serializationSize),
                scratch.AsSpan(serializationSize, eventJson.Length),
                scratch.AsSpan(serializationSize + eventJson.Length, eventJson.Length));
        }
        catch (JsonException)
        {
            error = EventErrors.Malformed;
        }
        catch (InvalidOperationException)
        {
            // Utf8JsonReader refuses to unescape a lone surrogate (\ud800) into UTF-8.
            error = EventErrors.BadString;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }

        if (error is null) return EventParseStatus.Ok;
        packedLength = 0;
        jsonLength = 0;
        if (!header.IdValid) header.IdValid = TryFindId(eventJson, ref header.Id);
        return EventParseStatus.Invalid;
    }

    private static string? ParseCore(ReadOnlySpan<byte> eventJson, EventLimits limits, long now,
        Span<byte> packed, ref int packedLength, Span<byte> json, ref int jsonLength, ref ParsedEventHeader header,
        Span<byte> serialization, Span<byte> contentScratch, Span<byte> tagScratch)
    {
        var reader = new Utf8JsonReader(eventJson);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return EventErrors.NotAnObject;

        int seen = 0;
        int tagsStart = 0, tagsEnd = 0;
        ReadOnlySpan<byte> content = default;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            int field = IdentifyField(ref reader);
            reader.Read();
            if (field != 0)
            {
                if ((seen & field) != 0) return EventErrors.DuplicateField;
                seen |= field;
            }
            switch (field)
            {
                case FieldId:
                    if (!TryReadHex(ref reader, header.Id)) return EventErrors.BadIdField;
                    header.IdValid = true;
                    break;
                case FieldPubKey:
                    if (!TryReadHex(ref reader, header.PubKey)) return EventErrors.BadPubKey;
                    break;
                case FieldSig:
                    if (!TryReadHex(ref reader, header.Sig)) return EventErrors.BadSigField;
                    break;
                case FieldKind:
                    if (!TryReadInteger(ref reader, out long kind) || kind > ushort.MaxValue) return EventErrors.BadKind;
                    header.Kind = (int)kind;
                    break;
                case FieldCreatedAt:
                    if (!TryReadInteger(ref reader, out header.CreatedAt)) return EventErrors.BadCreatedAt;
                    break;
                case FieldTags:
                    if (reader.TokenType != JsonTokenType.StartArray) return EventErrors.BadTags;
                    tagsStart = (int)reader.TokenStartIndex;
                    reader.Skip();
                    tagsEnd = (int)reader.BytesConsumed;
                    break;
                case FieldContent:
                    if (reader.TokenType != JsonTokenType.String) return EventErrors.BadContent;
                    content = Unescape(ref reader, contentScratch);
                    if (!Utf8.IsValid(content)) return EventErrors.BadString;
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        // Anything after the closing brace (other than whitespace) makes Read throw.
        if (reader.TokenType != JsonTokenType.EndObject || reader.Read()) return EventErrors.Malformed;

        if (seen != AllFields) return MissingField(seen);
        if (header.CreatedAt > now + limits.RejectEventsNewerThanSeconds) return EventErrors.TooNew;
        if (header.CreatedAt < now - limits.RejectEventsOlderThanSeconds) return EventErrors.TooOld;

        var w = new SpanWriter(json);
        w.Write("{\"id\":\""u8);
        w.WriteHex(header.Id.Span);
        w.Write("\",\"pubkey\":\""u8);
        w.WriteHex(header.PubKey.Span);
        w.Write("\",\"created_at\":"u8);
        w.WriteInteger(header.CreatedAt);
        w.Write(",\"kind\":"u8);
        w.WriteInteger(header.Kind);
        w.Write(",\"tags\":"u8);
        int tagsOut = w.Position;
        var packer = new PackedEventWriter(packed, header.Id.Span, header.PubKey.Span, header.CreatedAt, header.Kind, 0);
        string? tagError = WriteTags(eventJson.Slice(tagsStart, tagsEnd - tagsStart), limits, ref w, ref packer, tagScratch, out header.Expiration);
        if (tagError is not null) return tagError;
        if (header.Expiration != 0 && header.Expiration <= now) return EventErrors.Expired;
        int tagsOutEnd = w.Position;
        w.Write(",\"content\":"u8);
        int contentOut = w.Position;
        w.WriteCanonicalString(content);
        int contentOutEnd = w.Position;
        w.Write(",\"sig\":\""u8);
        w.WriteHex(header.Sig.Span);
        w.Write("\"}"u8);
        if (w.Position > limits.MaxEventSize) return EventErrors.TooLarge;

        var s = new SpanWriter(serialization);
        s.Write("[0,\""u8);
        s.WriteHex(header.PubKey.Span);
        s.Write("\","u8);
        s.WriteInteger(header.CreatedAt);
        s.Write((byte)',');
        s.WriteInteger(header.Kind);
        s.Write((byte)',');
        s.Write(json.Slice(tagsOut, tagsOutEnd - tagsOut));
        s.Write((byte)',');
        s.Write(json.Slice(contentOut, contentOutEnd - contentOut));
        s.Write((byte)']');
        Span<byte> hash = stackalloc byte[32];
        Sha256.HashData(s.Written, hash);
        if (!hash.SequenceEqual(header.Id.Span)) return EventErrors.BadEventId;

        packer.SetExpiration(header.Expiration);
        packedLength = packer.Length;
        jsonLength = w.Position;
        return null;
    }

    /// <summary>
    /// Writes the tags canonically, packs the single-letter ones and finds the NIP-40 expiration
    /// (the first <c>expiration</c> tag; 0 when its value is not an integer).
    /// </summary>
    private static string? WriteTags(ReadOnlySpan<byte> tagsJson, EventLimits limits, ref SpanWriter w,
        ref PackedEventWriter packer, Span<byte> scratch, out long expiration)
    {
        expiration = 0;
        bool expirationSeen = false;
        var reader = new Utf8JsonReader(tagsJson);
        reader.Read();
        w.Write((byte)'[');
        int tagCount = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartArray) return EventErrors.BadTags;
            if (++tagCount > limits.MaxNumTags) return EventErrors.TooManyTags;
            if (tagCount > 1) w.Write((byte)',');
            w.Write((byte)'[');
            int element = 0;
            byte letter = 0;
            bool isExpiration = false;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.String) return EventErrors.BadTags;
                ReadOnlySpan<byte> value = Unescape(ref reader, scratch);
                if (value.Length > limits.MaxTagValSize) return EventErrors.TagValueTooLong;
                if (!Utf8.IsValid(value)) return EventErrors.BadString;
                if (element > 0) w.Write((byte)',');
                w.WriteCanonicalString(value);
                if (element == 0)
                {
                    letter = value.Length == 1 && char.IsAsciiLetter((char)value[0]) ? value[0] : (byte)0;
                    isExpiration = value.SequenceEqual("expiration"u8);
                }
                else if (element == 1)
                {
                    // Sized from the input, so a full buffer cannot happen for input that got this far.
                    if (letter != 0 && !packer.TryAddTag(letter, value)) return EventErrors.TooLarge;
                    if (isExpiration && !expirationSeen)
                    {
                        expirationSeen = true;
                        if (!TryParseDigits(value, out expiration)) expiration = 0;
                    }
                }
                element++;
            }
            if (element == 0) return EventErrors.BadTags;
            w.Write((byte)']');
        }
        w.Write((byte)']');
        return null;
    }

    private static int IdentifyField(ref Utf8JsonReader reader)
    {
        // ValueTextEquals compares the unescaped name, so "\u0069d" is "id" as JSON says it is.
        if (reader.ValueTextEquals("id"u8)) return FieldId;
        if (reader.ValueTextEquals("pubkey"u8)) return FieldPubKey;
        if (reader.ValueTextEquals("created_at"u8)) return FieldCreatedAt;
        if (reader.ValueTextEquals("kind"u8)) return FieldKind;
        if (reader.ValueTextEquals("tags"u8)) return FieldTags;
        if (reader.ValueTextEquals("content"u8)) return FieldContent;
        if (reader.ValueTextEquals("sig"u8)) return FieldSig;
        return 0;
    }

    private static string MissingField(int seen)
    {
        if ((seen & FieldId) == 0) return EventErrors.MissingId;
        if ((seen & FieldPubKey) == 0) return EventErrors.MissingPubKey;
        if ((seen & FieldCreatedAt) == 0) return EventErrors.MissingCreatedAt;
        if ((seen & FieldKind) == 0) return EventErrors.MissingKind;
        if ((seen & FieldTags) == 0) return EventErrors.MissingTags;
        if ((seen & FieldContent) == 0) return EventErrors.MissingContent;
        return EventErrors.MissingSig;
    }

    /// <summary>The string's unescaped UTF-8: the input itself when it has no escapes, else a copy in <paramref name="scratch"/>.</summary>
    internal static ReadOnlySpan<byte> Unescape(scoped ref Utf8JsonReader reader, Span<byte> scratch)
    {
        if (!reader.ValueIsEscaped) return reader.ValueSpan;
        int length = reader.CopyString(scratch);
        return scratch.Slice(0, length);
    }

    /// <summary>Reads a JSON string of exactly <c>2 * destination.Length</c> lowercase hex digits.</summary>
    internal static bool TryReadHex(scoped ref Utf8JsonReader reader, scoped Span<byte> destination)
    {
        if (reader.TokenType != JsonTokenType.String) return false;
        if (!reader.ValueIsEscaped) return Hex.TryDecodeLower(reader.ValueSpan, destination);
        // Escaped hex is legal JSON; each digit takes at most 6 bytes as \u00XX.
        if (reader.ValueSpan.Length > 12 * destination.Length) return false;
        Span<byte> unescaped = stackalloc byte[12 * 64];
        int length = reader.CopyString(unescaped);
        return Hex.TryDecodeLower(unescaped.Slice(0, length), destination);
    }

    /// <summary>A JSON number written as plain digits (no sign, fraction or exponent) that fits in a long.</summary>
    internal static bool TryReadInteger(scoped ref Utf8JsonReader reader, out long value)
    {
        value = 0;
        return reader.TokenType == JsonTokenType.Number && TryParseDigits(reader.ValueSpan, out value);
    }

    internal static bool TryParseDigits(ReadOnlySpan<byte> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty) return false;
        foreach (byte b in digits)
        {
            uint d = (uint)(b - '0');
            if (d > 9) return false;
            if (value > (long.MaxValue - d) / 10) return false;
            value = value * 10 + d;
        }
        return true;
    }

    /// <summary>
    /// Error path only: the <c>id</c> field's text as the client sent it (JSON-unescaped UTF-8), when
    /// it is a string that fits <paramref name="destination"/>. An event whose id is not 64 lowercase
    /// hex is still answered with an OK naming that id: clients wait for the OK of the id they sent.
    /// </summary>
    public static bool TryFindIdText(ReadOnlySpan<byte> eventJson, Span<byte> destination, out int length)
    {
        length = 0;
        try
        {
            var reader = new Utf8JsonReader(eventJson);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isId = reader.ValueTextEquals("id"u8);
                reader.Read();
                if (!isId)
                {
                    reader.Skip();
                    continue;
                }
                if (reader.TokenType != JsonTokenType.String) return false;
                // An unescaped value never gets longer; an escaped one may shrink, so size by the raw bytes.
                if (reader.ValueSpan.Length > destination.Length) return false;
                length = reader.CopyString(destination);
                return true;
            }
        }
        catch (JsonException)
        {
        }
        catch (InvalidOperationException)
        {
        }
        return false;
    }

    /// <summary>Error path only: finds a readable id so the OK false can still name the event.</summary>
    private static bool TryFindId(ReadOnlySpan<byte> eventJson, ref Bytes32 id)
    {
        try
        {
            var reader = new Utf8JsonReader(eventJson);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isId = reader.ValueTextEquals("id"u8);
                reader.Read();
                if (isId) return TryReadHex(ref reader, id);
                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        catch (InvalidOperationException)
        {
        }
        return false;
    }
}
