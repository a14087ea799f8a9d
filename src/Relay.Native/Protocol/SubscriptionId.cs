using System.Text.Json;
using System.Text.Unicode;

namespace Relay.Native.Protocol;

/// <summary>NIP-01 subscription ids: 1 to 64 characters, none of them a control character.</summary>
public static class SubscriptionId
{
    public const int MaxChars = 64;

    // The longest raw form 64 characters can take: each one a surrogate pair written as two \uXXXX escapes.
    private const int MaxRawLength = MaxChars * 12;

    /// <summary>Validates the JSON string the reader is on, judging its unescaped value.</summary>
    internal static bool IsValid(scoped ref Utf8JsonReader reader)
    {
        ReadOnlySpan<byte> raw = reader.ValueSpan;
        if (raw.Length == 0 || raw.Length > MaxRawLength) return false;
        if (!reader.ValueIsEscaped) return IsValidUnescaped(raw);
        Span<byte> unescaped = stackalloc byte[MaxRawLength];
        int length;
        try
        {
            length = reader.CopyString(unescaped);
        }
        catch (InvalidOperationException)
        {
            return false;   // a lone surrogate escape
        }
        return IsValidUnescaped(unescaped.Slice(0, length));
    }

    /// <summary>Validates an unescaped UTF-8 subscription id.</summary>
    public static bool IsValidUnescaped(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty || !Utf8.IsValid(utf8)) return false;
        int chars = 0;
        foreach (byte b in utf8)
        {
            if (b < 0x20 || b == 0x7F) return false;
            if ((b & 0xC0) != 0x80 && ++chars > MaxChars) return false;
        }
        return true;
    }
}
