using System.Text;
using System.Text.Json;

namespace Relay.Tests.Fuzz;

/// <summary>
/// Rewrites JSON into another spelling of the same value: whitespace between tokens, characters of
/// strings (keys included) as <c>\uXXXX</c> escapes in either case, astral characters as escaped
/// surrogate pairs, <c>/</c> as <c>\/</c>, object members reordered, unknown members added. A parser
/// must give the same result for every spelling.
/// </summary>
internal static class EquivalentJson
{
    private static readonly string[] Whitespace = [" ", "\t", "\n", "\r\n", "  \t "];

    private static readonly string[] UnknownMembers =
    [
        "\"extra\":null", "\"x\":{\"nested\":[1,2,{\"a\":[]}],\"s\":\"\\u00e9\"}", "\"\":\"\"", "\"Id\":5", "\"kind \":\"no\"",
        "\"sigs\":[]", "\"relays\":[\"wss://x\"]",
    ];

    public static byte[] Respell(byte[] json, Random random)
    {
        byte[] result = json;
        int rounds = 1 + random.Next(3);
        for (int r = 0; r < rounds; r++)
        {
            result = random.Next(2) == 0 ? AddWhitespace(result, random) : EscapeCharacters(result, random);
        }
        return result;
    }

    public static byte[] AddWhitespace(byte[] json, Random random)
    {
        var slots = JsonTokens.WhitespaceSlots(json);
        var chosen = new SortedSet<int>();
        int count = 1 + random.Next(6);
        for (int i = 0; i < count; i++) chosen.Add(slots[random.Next(slots.Count)]);
        var output = new List<byte>(json.Length + 16);
        int from = 0;
        foreach (int at in chosen)
        {
            output.AddRange(json.AsSpan(from, at - from).ToArray());
            output.AddRange(Encoding.ASCII.GetBytes(Whitespace[random.Next(Whitespace.Length)]));
            from = at;
        }
        output.AddRange(json.AsSpan(from).ToArray());
        return output.ToArray();
    }

    /// <summary>Replaces a few characters inside strings by escapes that unescape to the same text.</summary>
    public static byte[] EscapeCharacters(byte[] json, Random random)
    {
        var plain = JsonTokens.PlainStringBytes(json);
        if (plain.Count == 0) return json;
        var chosen = new SortedSet<int>();
        int count = 1 + random.Next(8);
        for (int i = 0; i < count; i++) chosen.Add(plain[random.Next(plain.Count)]);

        var output = new List<byte>(json.Length + 64);
        int from = 0;
        foreach (int at in chosen)
        {
            if (at < from || (json[at] & 0xC0) == 0x80) continue;   // inside a character already rewritten, or not its first byte
            if (System.Text.Rune.DecodeFromUtf8(json.AsSpan(at), out var rune, out int consumed) != System.Buffers.OperationStatus.Done)
                continue;
            output.AddRange(json.AsSpan(from, at - from).ToArray());
            output.AddRange(Encoding.ASCII.GetBytes(Escape(rune, random)));
            from = at + consumed;
        }
        output.AddRange(json.AsSpan(from).ToArray());
        return output.ToArray();
    }

    private static string Escape(System.Text.Rune rune, Random random)
    {
        if (rune.Value == '/' && random.Next(2) == 0) return "\\/";
        Span<char> utf16 = stackalloc char[2];
        int length = rune.EncodeToUtf16(utf16);
        var sb = new StringBuilder();
        string format = random.Next(2) == 0 ? "x4" : "X4";
        for (int i = 0; i < length; i++) sb.Append("\\u").Append(((int)utf16[i]).ToString(format));
        return sb.ToString();
    }

    /// <summary>The object's members in a random order, with unknown members sprinkled in when asked.</summary>
    public static byte[] ShuffleMembers(byte[] objectJson, Random random, bool addUnknown)
    {
        using var doc = JsonDocument.Parse(objectJson);
        var members = new List<string>();
        foreach (var p in doc.RootElement.EnumerateObject())
            members.Add(JsonSerializer.Serialize(p.Name) + ":" + p.Value.GetRawText());
        if (addUnknown)
        {
            int extra = 1 + random.Next(3);
            for (int i = 0; i < extra; i++) members.Add(UnknownMembers[random.Next(UnknownMembers.Length)]);
        }
        for (int i = members.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (members[i], members[j]) = (members[j], members[i]);
        }
        return Encoding.UTF8.GetBytes("{" + string.Join(",", members) + "}");
    }
}
