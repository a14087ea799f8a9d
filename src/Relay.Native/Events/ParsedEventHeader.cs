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
}
