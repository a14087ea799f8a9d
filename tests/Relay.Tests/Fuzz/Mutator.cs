using System.Text;

namespace Relay.Tests.Fuzz;

/// <summary>
/// Breaks valid JSON messages in the ways parsers get hurt: bit flips, inserted, deleted and
/// duplicated bytes, truncation, JSON tokens swapped, dropped or borrowed from other inputs, escapes
/// and unicode (lone surrogates, overlong and invalid UTF-8) injected into strings, numbers replaced
/// by extremes, and deep nesting.
/// </summary>
internal sealed class Mutator
{
    public const int MaxOutput = 96 * 1024;

    private static readonly byte[] InterestingBytes =
        [0x00, 0x01, 0x1F, (byte)'"', (byte)'\\', (byte)'{', (byte)'}', (byte)'[', (byte)']', (byte)',', (byte)':',
         (byte)'-', (byte)'0', (byte)'9', (byte)'e', (byte)'u', 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF];

    private static readonly string[] StringInjections =
    [
        "\\u0000", "\\ud800", "\\udc00", "\\udbff\\udfff", "\\ud83d\\ude00", "\\ud83d", "\\u00e9", "\\u00E9", "\\u2028",
        "\\\"", "\\\\", "\\/", "\\b\\f\\n\\r\\t", "\\x41", "\\u12", "\\u", "\\", "\\uZZZZ", "\"", "\u0001", "\u007f",
        "é", "日本", "🎉", "\u2028\u2029", "\uFEFF", "\uFFFF",
    ];

    // Raw byte sequences that are not valid UTF-8: overlong, surrogate-encoded, truncated, out of range.
    private static readonly byte[][] BadUtf8 =
        [[0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
         [0xE2, 0x82], [0x80], [0xFE], [0xFF, 0xFF]];

    private static readonly string[] NumberExtremes =
    [
        "0", "-0", "-1", "1", "00", "01", "1.0", "1.5", "0.0", "-0.0", "1e3", "1E400", "1e-400", "1e308", "-1e308",
        "65535", "65536", "4294967296", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "-9223372036854775809", "18446744073709551616", "99999999999999999999999999999999999999", "1.", ".5", "+1", "--1", "1e",
    ];

    private static readonly string[] TokenDictionary =
    [
        "null", "true", "false", "{}", "[]", "[[]]", "{\"\":\"\"}", "\"\"", "\"EVENT\"", "\"REQ\"", "\"CLOSE\"", "\"COUNT\"", "\"AUTH\"",
        "\"id\"", "\"pubkey\"", "\"created_at\"", "\"kind\"", "\"tags\"", "\"content\"", "\"sig\"", "\"expiration\"",
        "\"ids\"", "\"authors\"", "\"kinds\"", "\"#e\"", "\"#p\"", "\"#t\"", "\"#\"", "\"#ab\"", "\"#1\"", "\"since\"", "\"until\"", "\"limit\"", "\"search\"",
        "[\"e\"]", "[\"p\",\"\"]", "[\"expiration\",\"1\"]", "[1]", "[\"t\",1]",
        "\"" + new string('a', 64) + "\"", "\"" + new string('A', 64) + "\"", "\"" + new string('f', 65) + "\"", "\"" + new string('0', 128) + "\"",
        "\"" + new string('x', 1100) + "\"",
    ];

    private readonly Random _random;
    private readonly IReadOnlyList<byte[]> _donors;

    /// <param name="donors">Other valid inputs that splices may borrow tokens and regions from.</param>
    public Mutator(Random random, IReadOnlyList<byte[]> donors)
    {
        _random = random;
        _donors = donors;
    }

    /// <summary>One to four mutations stacked on top of each other.</summary>
    public byte[] Mutate(byte[] input)
    {
        var bytes = new List<byte>(input);
        int rounds = 1 + _random.Next(4);
        for (int r = 0; r < rounds; r++)
            MutateOnce(bytes);
        if (bytes.Count > MaxOutput)
            bytes.RemoveRange(MaxOutput, bytes.Count - MaxOutput);
        return bytes.ToArray();
    }

    private void MutateOnce(List<byte> bytes)
    {
        switch (_random.Next(14))
        {
            case 0: FlipBit(bytes); break;
            case 1: SetByte(bytes); break;
            case 2: InsertBytes(bytes); break;
            case 3: DeleteRange(bytes); break;
            case 4: Truncate(bytes); break;
            case 5: DuplicateRange(bytes); break;
            case 6:
            case 7: SpliceToken(bytes); break;
            case 8:
            case 9: InjectIntoString(bytes); break;
            case 10: ReplaceNumber(bytes); break;
            case 11: DeepNesting(bytes); break;
            case 12: SpliceDonor(bytes); break;
            default: DeleteToken(bytes); break;
        }
    }

    private int Position(List<byte> bytes, bool inclusiveEnd = true) => _random.Next(bytes.Count + (inclusiveEnd ? 1 : 0));

    private void FlipBit(List<byte> bytes)
    {
        if (bytes.Count == 0) return;
        int i = Position(bytes, false);
        bytes[i] ^= (byte)(1 << _random.Next(8));
    }

    private void SetByte(List<byte> bytes)
    {
        if (bytes.Count == 0) return;
        bytes[Position(bytes, false)] = InterestingBytes[_random.Next(InterestingBytes.Length)];
    }

    private void InsertBytes(List<byte> bytes)
    {
        int at = Position(bytes);
        if (_random.Next(2) == 0)
        {
            var random = new byte[1 + _random.Next(8)];
            _random.NextBytes(random);
            bytes.InsertRange(at, random);
        }
        else
        {
            bytes.Insert(at, InterestingBytes[_random.Next(InterestingBytes.Length)]);
        }
    }

    private void DeleteRange(List<byte> bytes)
    {
        if (bytes.Count == 0) return;
        int at = Position(bytes, false);
        int length = Math.Min(bytes.Count - at, 1 + _random.Next(_random.Next(2) == 0 ? 4 : 64));
        bytes.RemoveRange(at, length);
    }

    private void Truncate(List<byte> bytes)
    {
        if (bytes.Count == 0) return;
        int keep = Position(bytes, false);
        bytes.RemoveRange(keep, bytes.Count - keep);
    }

    private void DuplicateRange(List<byte> bytes)
    {
        if (bytes.Count == 0) return;
        int at = Position(bytes, false);
        int length = Math.Min(bytes.Count - at, 1 + _random.Next(128));
        var copy = bytes.GetRange(at, length);
        bytes.InsertRange(Position(bytes), copy);
    }

    private void SpliceToken(List<byte> bytes)
    {
        var array = bytes.ToArray();
        var tokens = JsonTokens.Scan(array);
        if (tokens.Count == 0) return;
        var target = tokens[_random.Next(tokens.Count)];
        byte[] replacement;
        switch (_random.Next(3))
        {
            case 0:
                // Another token of the same input: moves keys into values, strings into numbers...
                var other = tokens[_random.Next(tokens.Count)];
                replacement = array.AsSpan(other.Start, other.Length).ToArray();
                break;
            case 1:
                replacement = Encoding.UTF8.GetBytes(TokenDictionary[_random.Next(TokenDictionary.Length)]);
                break;
            default:
                replacement = DonorToken() ?? [];
                break;
        }
        bytes.RemoveRange(target.Start, target.Length);
        bytes.InsertRange(target.Start, replacement);
    }

    private void DeleteToken(List<byte> bytes)
    {
        var tokens = JsonTokens.Scan(bytes.ToArray());
        if (tokens.Count == 0) return;
        var target = tokens[_random.Next(tokens.Count)];
        bytes.RemoveRange(target.Start, target.Length);
    }

    private byte[]? DonorToken()
    {
        if (_donors.Count == 0) return null;
        var donor = _donors[_random.Next(_donors.Count)];
        var tokens = JsonTokens.Scan(donor);
        if (tokens.Count == 0) return null;
        var t = tokens[_random.Next(tokens.Count)];
        return donor.AsSpan(t.Start, t.Length).ToArray();
    }

    private void SpliceDonor(List<byte> bytes)
    {
        if (_donors.Count == 0) return;
        var donor = _donors[_random.Next(_donors.Count)];
        if (donor.Length == 0) return;
        int from = _random.Next(donor.Length);
        int length = Math.Min(donor.Length - from, 1 + _random.Next(256));
        int at = Position(bytes);
        int replace = Math.Min(bytes.Count - at, _random.Next(64));
        bytes.RemoveRange(at, replace);
        bytes.InsertRange(at, donor.AsSpan(from, length).ToArray());
    }

    private void InjectIntoString(List<byte> bytes)
    {
        var inside = JsonTokens.PlainStringBytes(bytes.ToArray());
        int at = inside.Count > 0 ? inside[_random.Next(inside.Count)] : Position(bytes);
        byte[] injected = _random.Next(3) == 0
            ? BadUtf8[_random.Next(BadUtf8.Length)]
            : Encoding.UTF8.GetBytes(StringInjections[_random.Next(StringInjections.Length)]);
        bytes.InsertRange(at, injected);
    }

    private void ReplaceNumber(List<byte> bytes)
    {
        var tokens = JsonTokens.Scan(bytes.ToArray()).Where(t => t.Kind == JsonTokenKind.Number).ToList();
        byte[] extreme = Encoding.ASCII.GetBytes(NumberExtremes[_random.Next(NumberExtremes.Length)]);
        if (tokens.Count == 0)
        {
            bytes.InsertRange(Position(bytes), extreme);
            return;
        }
        var target = tokens[_random.Next(tokens.Count)];
        bytes.RemoveRange(target.Start, target.Length);
        bytes.InsertRange(target.Start, extreme);
    }

    private void DeepNesting(List<byte> bytes)
    {
        // Around the reader's default depth limit (64), sometimes well past it.
        int depth = _random.Next(4) == 0 ? 1000 : 60 + _random.Next(10);
        bool objects = _random.Next(2) == 0;
        var nested = new StringBuilder();
        for (int i = 0; i < depth; i++) nested.Append(objects ? "{\"a\":" : "[");
        nested.Append('1');
        if (_random.Next(4) != 0)
            for (int i = 0; i < depth; i++) nested.Append(objects ? '}' : ']');
        // Best placed where a value goes: right after a ':' or ',' or '['.
        var slots = JsonTokens.WhitespaceSlots(bytes.ToArray());
        int at = slots[_random.Next(slots.Count)];
        bytes.InsertRange(at, Encoding.ASCII.GetBytes(nested.ToString() + (_random.Next(2) == 0 ? "," : "")));
    }
}
