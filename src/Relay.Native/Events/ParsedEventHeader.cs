namespace Relay.Native.Events;

public enum EventParseStatus : byte { Ok, Invalid }

/// <summary>
/// The fixed-size fields of a parsed event: what the signature check and the OK reply need
/// without going back to the JSON.
/// </summary>
public struct ParsedEventHeader
{
    public Bytes32 Id;
    public Bytes32 PubKey;
    public Bytes64 Sig;
    /// <summary>True once <see cref="Id"/> was read from well-formed hex, so an OK false can name the event.</summary>
    public bool IdValid;
    public int Kind;
    public long CreatedAt;
    /// <summary>NIP-40 expiration, 0 when the event has none.</summary>
    public long Expiration;
    /// <summary>NIP-70: the event has a tag named <c>-</c>; only its authenticated author may publish it.</summary>
    public bool Protected;
    /// <summary>A repost (kind 6 or 16) whose content carries a <c>["-"]</c> tag: it embeds a protected event.</summary>
    public bool EmbedsProtected;
    /// <summary>NIP-13: the target committed in the first <c>nonce</c> tag's third element, 0 when none.</summary>
    public int PowCommitment;
}
