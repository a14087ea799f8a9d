using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Relay.Native.Events;
using static Relay.Tests.Events.NostrToolsVectors;

namespace Relay.Tests.Events;

public class EventParserTests
{
    internal sealed record Result(EventParseStatus Status, string Json, byte[] Packed, ParsedEventHeader Header, string? Error);

    internal static Result Parse(byte[] input, EventLimits? limits = null, long now = Now)
    {
        var packed = new byte[EventParser.MaxPackedSize(input.Length)];
        var json = new byte[EventParser.MaxJsonSize(input.Length)];
        var status = EventParser.Parse(input, limits ?? EventLimits.Default, now, packed, out int packedLength,
            json, out int jsonLength, out var header, out string? error);
        return new Result(status, Encoding.UTF8.GetString(json, 0, jsonLength), packed[..packedLength], header, error);
    }

    internal static Result Parse(string input, EventLimits? limits = null, long now = Now) =>
        Parse(Encoding.UTF8.GetBytes(input), limits, now);

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The event with one field's value replaced by raw JSON (or removed when null).</summary>
    private static string WithField(string eventJson, string field, string? rawValue)
    {
        var obj = JsonNode.Parse(eventJson)!.AsObject();
        if (rawValue is null) obj.Remove(field);
        else obj[field] = JsonNode.Parse(rawValue);
        return obj.ToJsonString(Relaxed);
    }

    public static TheoryData<string, string, string> NostrToolsEvents => new()
    {
        { SimpleNormalized, SimpleNormalized, SimpleId },
        { SimpleWeird, SimpleNormalized, SimpleId },
        { ControlsNormalized, ControlsNormalized, ControlsId },
        { ControlsWeird, ControlsNormalized, ControlsId },
        { ReplaceableNormalized, ReplaceableNormalized, ReplaceableId },
        { ReplaceableWeird, ReplaceableNormalized, ReplaceableId },
    };

    [Theory]
    [MemberData(nameof(NostrToolsEvents))]
    public void Id_and_normalized_json_match_nostr_tools_whatever_the_input_escaping(string input, string expectedJson, string expectedId)
    {
        var r = Parse(input);

        Assert.Null(r.Error);
        Assert.Equal(EventParseStatus.Ok, r.Status);
        Assert.Equal(expectedJson, r.Json);
        Assert.Equal(expectedId, r.Header.Id.ToString());
        Assert.True(r.Header.IdValid);
        Assert.Equal(PubKey, r.Header.PubKey.ToString());
    }

    [Fact]
    public void Header_and_packed_record_carry_the_event_fields()
    {
        var r = Parse(ControlsWeird);

        Assert.Equal(EventParseStatus.Ok, r.Status);
        Assert.Equal(ControlsSig, r.Header.Sig.ToString());
        Assert.Equal(1, r.Header.Kind);
        Assert.Equal(1700000000, r.Header.CreatedAt);
        Assert.Equal(4000000000, r.Header.Expiration);

        var packed = new PackedEvent(r.Packed);
        Assert.Equal(ControlsId, Convert.ToHexStringLower(packed.Id));
        Assert.Equal(PubKey, Convert.ToHexStringLower(packed.PubKey));
        Assert.Equal(1700000000, packed.CreatedAt);
        Assert.Equal(1, packed.Kind);
        Assert.Equal(4000000000, packed.Expiration);
        var tags = new List<(char, string)>();
        foreach (var tag in packed.Tags) tags.Add(((char)tag.Letter, Encoding.UTF8.GetString(tag.Value)));
        // Single-letter tags with a value, first value only, unescaped; "-" has no value, "emoji" is not one letter.
        Assert.Equal(
            [('e', new string('a', 64)), ('p', PubKey), ('t', "tag\u0000with\u001fcontrols\u007f"), ('d', "")],
            tags);
    }

    [Fact]
    public void Serialization_matches_nostr_tools_for_every_escaped_character()
    {
        byte[] serialization = EventSigner.Serialize(Convert.FromHexString(PubKey), 1, 1700000000, ControlsTags, ControlsContent);

        Assert.Equal(ControlsId, Convert.ToHexStringLower(SHA256.HashData(serialization)));
    }

    [Fact]
    public void Event_with_a_changed_field_is_rejected_as_bad_id_and_still_names_its_id()
    {
        var r = Parse(WithField(SimpleNormalized, "content", "\"hellO\""));

        Assert.Equal(EventParseStatus.Invalid, r.Status);
        Assert.Equal(EventErrors.BadEventId, r.Error);
        Assert.True(r.Header.IdValid);
        Assert.Equal(SimpleId, r.Header.Id.ToString());
        Assert.Equal("", r.Json);
    }

    [Fact]
    public void Id_is_recovered_for_the_reply_when_a_field_before_it_is_bad()
    {
        string input = $$"""{"kind":-1,"id":"{{SimpleId}}"}""";

        var r = Parse(input);

        Assert.Equal(EventErrors.BadKind, r.Error);
        Assert.True(r.Header.IdValid);
        Assert.Equal(SimpleId, r.Header.Id.ToString());
    }

    [Fact]
    public void Unreadable_id_is_reported_as_not_valid()
    {
        var r = Parse(WithField(SimpleNormalized, "id", "\"xyz\""));

        Assert.Equal(EventErrors.BadIdField, r.Error);
        Assert.False(r.Header.IdValid);
    }

    public static TheoryData<string, string?, string> BadFields => new()
    {
        { "id", "\"" + SimpleId.ToUpperInvariant() + "\"", EventErrors.BadIdField },
        { "id", "\"" + SimpleId[..62] + "\"", EventErrors.BadIdField },
        { "id", "\"" + SimpleId + "00\"", EventErrors.BadIdField },
        { "id", "123", EventErrors.BadIdField },
        { "id", "null", EventErrors.BadIdField },
        { "pubkey", "\"" + PubKey.ToUpperInvariant() + "\"", EventErrors.BadPubKey },
        { "pubkey", "\"" + PubKey[..63] + "g\"", EventErrors.BadPubKey },
        { "pubkey", "[]", EventErrors.BadPubKey },
        { "sig", "\"" + SimpleSig[..64] + "\"", EventErrors.BadSigField },
        { "sig", "\"" + SimpleSig.ToUpperInvariant() + "\"", EventErrors.BadSigField },
        { "sig", "{}", EventErrors.BadSigField },
        { "kind", "-1", EventErrors.BadKind },
        { "kind", "65536", EventErrors.BadKind },
        { "kind", "1.0", EventErrors.BadKind },
        { "kind", "1e0", EventErrors.BadKind },
        { "kind", "\"1\"", EventErrors.BadKind },
        { "kind", "99999999999999999999999999", EventErrors.BadKind },
        { "created_at", "-1", EventErrors.BadCreatedAt },
        { "created_at", "1700000000.5", EventErrors.BadCreatedAt },
        { "created_at", "1.7e9", EventErrors.BadCreatedAt },
        { "created_at", "\"1700000000\"", EventErrors.BadCreatedAt },
        { "created_at", "99999999999999999999999999", EventErrors.BadCreatedAt },
        { "tags", "{}", EventErrors.BadTags },
        { "tags", "\"x\"", EventErrors.BadTags },
        { "tags", "[\"e\"]", EventErrors.BadTags },
        { "tags", "[[]]", EventErrors.BadTags },
        { "tags", "[[\"t\",1]]", EventErrors.BadTags },
        { "tags", "[[\"t\",null]]", EventErrors.BadTags },
        { "tags", "[[\"t\",[\"x\"]]]", EventErrors.BadTags },
        { "tags", "null", EventErrors.BadTags },
        { "content", "1", EventErrors.BadContent },
        { "content", "null", EventErrors.BadContent },
        { "content", "[\"x\"]", EventErrors.BadContent },
        { "id", null, EventErrors.MissingId },
        { "pubkey", null, EventErrors.MissingPubKey },
        { "created_at", null, EventErrors.MissingCreatedAt },
        { "kind", null, EventErrors.MissingKind },
        { "tags", null, EventErrors.MissingTags },
        { "content", null, EventErrors.MissingContent },
        { "sig", null, EventErrors.MissingSig },
    };

    [Theory]
    [MemberData(nameof(BadFields))]
    public void Event_with_a_bad_or_missing_field_is_invalid(string field, string? rawValue, string expectedError)
    {
        var r = Parse(WithField(SimpleNormalized, field, rawValue));

        Assert.Equal(EventParseStatus.Invalid, r.Status);
        Assert.Equal(expectedError, r.Error);
        Assert.Equal("", r.Json);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("\"event\"")]
    [InlineData("null")]
    public void Input_that_is_not_an_object_is_invalid(string input)
    {
        var r = Parse(input);

        Assert.Equal(EventParseStatus.Invalid, r.Status);
        Assert.StartsWith("invalid: ", r.Error);
    }

    [Theory]
    [InlineData("{\"id\":")]
    [InlineData("{\"id\" \"x\"}")]
    [InlineData("{'id':'x'}")]
    public void Malformed_json_is_invalid(string input)
    {
        Assert.Equal(EventErrors.Malformed, Parse(input).Error);
    }

    [Fact]
    public void Trailing_bytes_after_the_object_are_invalid()
    {
        Assert.Equal(EventErrors.Malformed, Parse(SimpleNormalized + "x").Error);
        Assert.Equal(EventErrors.Malformed, Parse(SimpleNormalized + "{}").Error);
        Assert.Equal(EventParseStatus.Ok, Parse(SimpleNormalized + " \n").Status);
    }

    [Fact]
    public void A_field_given_twice_is_invalid()
    {
        string input = SimpleNormalized[..^1] + ",\"kind\":1}";

        Assert.Equal(EventErrors.DuplicateField, Parse(input).Error);
    }

    [Fact]
    public void Unknown_fields_are_ignored_and_dropped_from_the_normalized_json()
    {
        string input = SimpleNormalized[..^1] + ",\"relays\":[\"wss://x\"],\"seen\":{\"a\":[1,{\"b\":null}]}}";

        var r = Parse(input);

        Assert.Equal(EventParseStatus.Ok, r.Status);
        Assert.Equal(SimpleNormalized, r.Json);
    }

    [Fact]
    public void Deep_nesting_in_an_unknown_field_is_invalid_not_a_crash()
    {
        string input = SimpleNormalized[..^1] + ",\"x\":" + new string('[', 10000) + new string(']', 10000) + "}";

        Assert.Equal(EventErrors.Malformed, Parse(input).Error);
    }

    [Fact]
    public void Created_at_window_is_enforced_at_both_ends()
    {
        var limits = new EventLimits { RejectEventsNewerThanSeconds = 60, RejectEventsOlderThanSeconds = 3600 };

        Assert.Equal(EventErrors.TooNew, Parse(SimpleNormalized, limits, now: 1700000000 - 61).Error);
        Assert.Equal(EventParseStatus.Ok, Parse(SimpleNormalized, limits, now: 1700000000 - 60).Status);
        Assert.Equal(EventParseStatus.Ok, Parse(SimpleNormalized, limits, now: 1700000000 + 3600).Status);
        Assert.Equal(EventErrors.TooOld, Parse(SimpleNormalized, limits, now: 1700000000 + 3601).Error);
    }

    [Fact]
    public void Too_many_tags_are_rejected()
    {
        Assert.Equal(EventErrors.TooManyTags, Parse(ControlsNormalized, new EventLimits { MaxNumTags = 6 }).Error);
        Assert.Equal(EventParseStatus.Ok, Parse(ControlsNormalized, new EventLimits { MaxNumTags = 7 }).Status);
    }

    [Fact]
    public void Tag_value_longer_than_the_limit_is_rejected_counting_unescaped_bytes()
    {
        // The longest element is the 64-character e value; "\u0000" escapes count as one byte each.
        Assert.Equal(EventErrors.TagValueTooLong, Parse(ControlsWeird, new EventLimits { MaxTagValSize = 63 }).Error);
        Assert.Equal(EventParseStatus.Ok, Parse(ControlsWeird, new EventLimits { MaxTagValSize = 64 }).Status);
    }

    [Fact]
    public void Event_larger_than_the_limit_is_rejected_by_its_normalized_size()
    {
        int normalizedSize = Encoding.UTF8.GetByteCount(SimpleNormalized);

        // The weird input is longer than the limit, but its normalized form is what counts.
        Assert.True(Encoding.UTF8.GetByteCount(SimpleWeird) > normalizedSize);
        Assert.Equal(EventParseStatus.Ok, Parse(SimpleWeird, new EventLimits { MaxEventSize = normalizedSize }).Status);
        Assert.Equal(EventErrors.TooLarge, Parse(SimpleWeird, new EventLimits { MaxEventSize = normalizedSize - 1 }).Error);
    }

    [Fact]
    public void Event_that_arrives_expired_is_rejected()
    {
        byte[] expired = SignedWithTags([["expiration", "1700000099"]]);
        byte[] expiresNow = SignedWithTags([["expiration", "1700000100"]]);
        byte[] live = SignedWithTags([["expiration", "1700000101"]]);

        Assert.Equal(EventErrors.Expired, Parse(expired).Error);
        Assert.Equal(EventErrors.Expired, Parse(expiresNow).Error);
        var r = Parse(live);
        Assert.Equal(EventParseStatus.Ok, r.Status);
        Assert.Equal(1700000101, r.Header.Expiration);
        Assert.Equal(1700000101, new PackedEvent(r.Packed).Expiration);
    }

    [Fact]
    public void Only_the_first_expiration_tag_counts_and_a_non_integer_one_means_none()
    {
        var first = Parse(SignedWithTags([["expiration", "1800000000"], ["expiration", "1"]]));
        var notInteger = Parse(SignedWithTags([["expiration", "soon"], ["expiration", "1800000000"]]));
        var fraction = Parse(SignedWithTags([["expiration", "1800000000.5"]]));

        Assert.Equal(1800000000, first.Header.Expiration);
        Assert.Equal(0, notInteger.Header.Expiration);
        Assert.Equal(0, fraction.Header.Expiration);
        Assert.Equal(EventParseStatus.Ok, notInteger.Status);
    }

    [Fact]
    public void Invalid_utf8_in_content_is_rejected()
    {
        byte[] input = Encoding.UTF8.GetBytes(WithField(SimpleNormalized, "content", "\"ab\""));
        int at = Encoding.UTF8.GetString(input).IndexOf("\"ab\"", StringComparison.Ordinal) + 1;
        input[at] = 0xC3; // a lead byte followed by an ASCII 'b'

        Assert.Equal(EventErrors.BadString, Parse(input).Error);
    }

    [Theory]
    [InlineData("content", "\"\\ud800\"")]
    [InlineData("content", "\"x\\udc00y\"")]
    [InlineData("tags", "[[\"t\",\"\\ud83d\"]]")]
    public void Lone_surrogate_escapes_are_rejected(string field, string rawValue)
    {
        // Built by hand: System.Text.Json refuses to copy these strings itself.
        string original = field == "content" ? "\"content\":\"hello\"" : "\"tags\":[]";
        string input = SimpleNormalized.Replace(original, "\"" + field + "\":" + rawValue, StringComparison.Ordinal);
        Assert.NotEqual(SimpleNormalized, input);

        Assert.Equal(EventErrors.BadString, Parse(input).Error);
    }

    [Fact]
    public void Undersized_output_buffers_are_a_caller_bug()
    {
        byte[] input = Encoding.UTF8.GetBytes(SimpleNormalized);
        var packed = new byte[EventParser.MaxPackedSize(input.Length)];
        var json = new byte[EventParser.MaxJsonSize(input.Length) - 1];

        Assert.Throws<ArgumentException>(() =>
            EventParser.Parse(input, EventLimits.Default, Now, packed, out _, json, out _, out _, out _));
    }

    [Fact]
    public void Parsing_an_accepted_event_allocates_nothing()
    {
        byte[] input = Encoding.UTF8.GetBytes(ControlsWeird);
        var packed = new byte[EventParser.MaxPackedSize(input.Length)];
        var json = new byte[EventParser.MaxJsonSize(input.Length)];
        var limits = EventLimits.Default;
        for (int i = 0; i < 200; i++)
            EventParser.Parse(input, limits, Now, packed, out _, json, out _, out _, out _);

        long before = GC.GetAllocatedBytesForCurrentThread();
        int ok = 0;
        for (int i = 0; i < 1000; i++)
        {
            if (EventParser.Parse(input, limits, Now, packed, out _, json, out _, out _, out _) == EventParseStatus.Ok) ok++;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(1000, ok);
        Assert.Equal(0, allocated);
    }

    private static readonly byte[] TestSecret = Convert.FromHexString(SecretKey);

    private static byte[] SignedWithTags(string[][] tags) => EventSigner.Sign(TestSecret, 1, 1700000000, tags, "x");
}
