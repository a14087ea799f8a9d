using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Relay.Native.Events;

namespace Relay.Server.Config;

/// <summary>How config values are shown to operators and how the special text values are read.</summary>
public static class ConfigValues
{
    /// <summary>A value as an operator wrote it: "x" quoted, numbers and booleans as is, sections and arrays by kind.</summary>
    public static string Describe(JsonNode? node)
    {
        switch (node)
        {
            case null: return "null";
            case JsonObject: return "a section { ... }";
            case JsonArray: return "an array [ ... ]";
            case JsonValue v when v.TryGetValue(out string? s): return Quote(s.Length > 60 ? s[..57] + "..." : s);
            case JsonValue v when v.TryGetValue(out bool b): return b ? "true" : "false";
            case JsonValue v when v.TryGetValue(out long l): return l.ToString(CultureInfo.InvariantCulture);
            case JsonValue v when v.TryGetValue(out ulong u): return u.ToString(CultureInfo.InvariantCulture);
            case JsonValue v when v.TryGetValue(out double d): return d.ToString("R", CultureInfo.InvariantCulture);
            default: return node.ToJsonString();
        }
    }

    /// <summary>A string as a double-quoted literal with JSON escapes.</summary>
    public static string Quote(string s)
    {
        var sb = new System.Text.StringBuilder(s.Length + 2).Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>
    /// Reads a pubkey written as npub (NIP-19) or 64 hex digits (any case) into lowercase hex;
    /// empty stays empty. Null with <paramref name="error"/> set when it is neither.
    /// </summary>
    public static string? NormalizePubkey(string text, out string? error)
    {
        error = null;
        string s = text.Trim();
        if (s.Length == 0) return "";
        if (s.StartsWith(Bech32.PublicKeyPrefix + "1", StringComparison.OrdinalIgnoreCase))
        {
            Span<byte> key = stackalloc byte[32];
            if (Bech32.TryDecode(s, Bech32.PublicKeyPrefix, key, out error)) return Convert.ToHexStringLower(key);
            error = $"is not a valid npub: it {error}";
            return null;
        }
        if (s.StartsWith(Bech32.SecretKeyPrefix + "1", StringComparison.OrdinalIgnoreCase))
        {
            error = "is a secret key (nsec); put the public key (npub or hex) here and keep the nsec private";
            return null;
        }
        if (s.Length == 64 && IsHex(s)) return s.ToLowerInvariant();
        error = "must be an npub or 64 hex characters";
        return null;
    }

    private static bool IsHex(string s)
    {
        foreach (char c in s) if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }

    /// <summary>Parses JSON-array text of NIP numbers such as "[1, 11]" (relay.info.nips); null if it is not one.</summary>
    public static int[]? ParseNips(string text)
    {
        try
        {
            var nips = JsonSerializer.Deserialize(text, ConfigNipsContext.Default.Int32Array);
            if (nips is null) return null;
            foreach (int n in nips) if (n < 0) return null;
            return nips;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>strfry's comma-separated kind lists ("4, 1059"), as used by restrictedReadKinds and allowedKinds.</summary>
public static class KindList
{
    /// <summary>The kinds, sorted and distinct; empty text gives an empty list; null with an error for anything else.</summary>
    public static int[]? Parse(string? text, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(text)) return [];
        var kinds = new SortedSet<int>();
        foreach (string part in text.Split(','))
        {
            string p = part.Trim();
            if (p.Length == 0) continue;
            if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int kind) || kind > 65535)
            {
                error = $"'{p}' is not an event kind (0 to 65535)";
                return null;
            }
            kinds.Add(kind);
        }
        var result = new int[kinds.Count];
        kinds.CopyTo(result);
        return result;
    }
}
