namespace Relay.Tests.Fuzz;

internal enum JsonTokenKind { String, Number, Literal, Structural, Other }

internal readonly record struct JsonToken(JsonTokenKind Kind, int Start, int Length);

/// <summary>
/// A forgiving tokenizer for mutation: finds where strings, numbers and punctuation are in bytes
/// that may no longer be JSON, so mutations can aim at tokens instead of only at random bytes.
/// </summary>
internal static class JsonTokens
{
    public static List<JsonToken> Scan(ReadOnlySpan<byte> json)
    {
        var tokens = new List<JsonToken>();
        int i = 0;
        while (i < json.Length)
        {
            byte b = json[i];
            int start = i;
            if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
            {
                i++;
                continue;
            }
            if (b == '"')
            {
                i++;
                while (i < json.Length && json[i] != '"')
                    i += json[i] == '\\' ? 2 : 1;
                i = Math.Min(i + 1, json.Length);
                tokens.Add(new JsonToken(JsonTokenKind.String, start, i - start));
            }
            else if (b == '-' || (b >= '0' && b <= '9'))
            {
                while (i < json.Length && (json[i] is (byte)'-' or (byte)'+' or (byte)'.' or (byte)'e' or (byte)'E' || (json[i] >= '0' && json[i] <= '9')))
                    i++;
                tokens.Add(new JsonToken(JsonTokenKind.Number, start, i - start));
            }
            else if (b is (byte)'{' or (byte)'}' or (byte)'[' or (byte)']' or (byte)',' or (byte)':')
            {
                i++;
                tokens.Add(new JsonToken(JsonTokenKind.Structural, start, 1));
            }
            else if (b >= 'a' && b <= 'z')
            {
                while (i < json.Length && json[i] >= 'a' && json[i] <= 'z')
                    i++;
                tokens.Add(new JsonToken(JsonTokenKind.Literal, start, i - start));
            }
            else
            {
                i++;
                tokens.Add(new JsonToken(JsonTokenKind.Other, start, 1));
            }
        }
        return tokens;
    }

    /// <summary>Offsets of the bytes inside string tokens (between the quotes, escapes excluded), for escape rewriting.</summary>
    public static List<int> PlainStringBytes(ReadOnlySpan<byte> json)
    {
        var offsets = new List<int>();
        bool inString = false;
        for (int i = 0; i < json.Length; i++)
        {
            byte b = json[i];
            if (!inString)
            {
                if (b == '"') inString = true;
                continue;
            }
            if (b == '\\')
            {
                i++;
                if (i < json.Length && json[i] == 'u') i += 4;
                continue;
            }
            if (b == '"')
            {
                inString = false;
                continue;
            }
            offsets.Add(i);
        }
        return offsets;
    }

    /// <summary>Offsets just after a structural character outside strings, where whitespace changes nothing.</summary>
    public static List<int> WhitespaceSlots(ReadOnlySpan<byte> json)
    {
        var slots = new List<int> { 0 };
        bool inString = false;
        for (int i = 0; i < json.Length; i++)
        {
            byte b = json[i];
            if (inString)
            {
                if (b == '\\') i++;
                else if (b == '"') inString = false;
                continue;
            }
            if (b == '"') inString = true;
            else if (b is (byte)'{' or (byte)'}' or (byte)'[' or (byte)']' or (byte)',' or (byte)':') slots.Add(i + 1);
        }
        return slots;
    }
}
