namespace Relay.Native.Events;

/// <summary>The NIP-01 <c>OK false</c> messages for events that are not well-formed or not acceptable.</summary>
public static class EventErrors
{
    public const string Malformed = "invalid: malformed JSON";
    public const string NotAnObject = "invalid: event is not a JSON object";
    public const string DuplicateField = "invalid: duplicate field";
    public const string MissingId = "invalid: missing id";
    public const string MissingPubKey = "invalid: missing pubkey";
    public const string MissingCreatedAt = "invalid: missing created_at";
    public const string MissingKind = "invalid: missing kind";
    public const string MissingTags = "invalid: missing tags";
    public const string MissingContent = "invalid: missing content";
    public const string MissingSig = "invalid: missing sig";
    public const string BadIdField = "invalid: id must be 64 lowercase hex characters";
    public const string BadPubKey = "invalid: pubkey must be 64 lowercase hex characters";
    public const string BadSigField = "invalid: sig must be 128 lowercase hex characters";
    public const string BadKind = "invalid: kind must be an integer from 0 to 65535";
    public const string BadCreatedAt = "invalid: created_at must be a non-negative integer";
    public const string BadTags = "invalid: tags must be an array of non-empty arrays of strings";
    public const string BadContent = "invalid: content must be a string";
    public const string BadString = "invalid: string is not valid UTF-8";
    public const string TooNew = "invalid: created_at too far in the future";
    public const string TooOld = "invalid: created_at too early";
    public const string TooLarge = "invalid: event too large";
    public const string TooManyTags = "invalid: too many tags";
    public const string TagValueTooLong = "invalid: tag value too long";
    public const string ContentTooLong = "invalid: content too long";
    public const string Expired = "invalid: event expired";
    public const string BadEventId = "invalid: bad event id";
    public const string BadSignature = "invalid: bad signature";
}
