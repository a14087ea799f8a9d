namespace Relay.Native.Storage;

/// <summary>One verified event handed to the writer: its packed record and its normalized JSON.</summary>
public readonly struct WriteItem
{
    public WriteItem(ReadOnlyMemory<byte> packed, ReadOnlyMemory<byte> json)
    {
        Packed = packed;
        Json = json;
    }

    /// <summary>A <see cref="Events.PackedEvent"/> record.</summary>
    public ReadOnlyMemory<byte> Packed { get; }

    /// <summary>The JSON clients get back, stored verbatim.</summary>
    public ReadOnlyMemory<byte> Json { get; }
}

public enum WriteStatus : byte
{
    Stored,
    Duplicate,
    /// <summary>A replaceable/addressable event older than (or tied with a lower id than) the stored version.</summary>
    Superseded,
    /// <summary>Its author deleted it (NIP-09) before it arrived.</summary>
    Deleted,
    /// <summary>Kinds 20000-29999: never stored, the caller delivers them live.</summary>
    Ephemeral,
    Invalid,
}

/// <summary>Outcome of one <see cref="WriteItem"/>; <see cref="Message"/> is the NIP-01 OK text.</summary>
public struct WriteResult
{
    public WriteStatus Status;
    /// <summary>Local id of the stored event; 0 when nothing was stored.</summary>
    public ulong LevId;
    public string Message;

    public WriteResult(WriteStatus status, ulong levId, string message)
    {
        Status = status;
        LevId = levId;
        Message = message;
    }

    /// <summary>True when the event is accepted (OK true): stored, already there, or ephemeral.</summary>
    public readonly bool Accepted => Status is WriteStatus.Stored or WriteStatus.Duplicate or WriteStatus.Ephemeral;
}

/// <summary>OK texts; static so that a write allocates no strings.</summary>
public static class WriteMessages
{
    public const string Stored = "";
    public const string Ephemeral = "";
    public const string Duplicate = "duplicate: already have this event";
    public const string Superseded = "duplicate: have a newer version of this replaceable event";
    public const string Deleted = "blocked: this event was deleted by its author";
    public const string Expired = "invalid: event expired";
    public const string Malformed = "invalid: malformed event record";
    public const string NegativeCreatedAt = "invalid: created_at must not be negative";
}
