namespace Relay.Native.Events;

/// <summary>
/// NIP-19 bare keys: <c>npub</c> (public key) and <c>nsec</c> (secret key) in bech32 (BIP-173, not
/// bech32m), each carrying exactly 32 bytes. Used where people paste keys (config, CLI), never on
/// the hot path.
/// </summary>
public static class Bech32
{
    public const string PublicKeyPrefix = "npub";
    public const string SecretKeyPrefix = "nsec";

    private const string Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    private const int ChecksumLength = 6;
    // BIP-173 caps a string at 90 characters; npub/nsec are 63.
    private const int MaxLength = 90;

    /// <summary>Encodes 32 bytes under the given prefix, e.g. <c>npub1…</c>.</summary>
    public static string Encode(string prefix, ReadOnlySpan<byte> key32)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (key32.Length != 32) throw new ArgumentException("a NIP-19 key is 32 bytes", nameof(key32));
        Span<byte> words = stackalloc byte[52];
        int count = ConvertBits(key32, 8, 5, pad: true, words);
        words = words[..count];

        Span<byte> checksum = stackalloc byte[ChecksumLength];
        CreateChecksum(prefix, words, checksum);
        var sb = new System.Text.StringBuilder(prefix.Length + 1 + words.Length + ChecksumLength);
        sb.Append(prefix).Append('1');
        foreach (byte w in words) sb.Append(Charset[w]);
        foreach (byte w in checksum) sb.Append(Charset[w]);
        return sb.ToString();
    }

    public static string EncodePublicKey(ReadOnlySpan<byte> key32) => Encode(PublicKeyPrefix, key32);
    public static string EncodeSecretKey(ReadOnlySpan<byte> key32) => Encode(SecretKeyPrefix, key32);

    /// <summary>
    /// Decodes <paramref name="text"/> if it is a valid bech32 string with <paramref name="expectedPrefix"/>
    /// holding exactly 32 bytes. On failure <paramref name="error"/> says why, in words an operator understands.
    /// </summary>
    public static bool TryDecode(string text, string expectedPrefix, Span<byte> key32, out string? error)
    {
        error = null;
        if (key32.Length < 32) throw new ArgumentException("destination must hold 32 bytes", nameof(key32));
        if (text.Length > MaxLength) { error = "too long for bech32"; return false; }
        bool hasLower = false, hasUpper = false;
        foreach (char ch in text)
        {
            if (ch < 33 || ch > 126) { error = "contains a character bech32 does not allow"; return false; }
            if (char.IsAsciiLetterLower(ch)) hasLower = true;
            if (char.IsAsciiLetterUpper(ch)) hasUpper = true;
        }
        if (hasLower && hasUpper) { error = "mixes upper and lower case"; return false; }
        string s = text.ToLowerInvariant();
        int sep = s.LastIndexOf('1');
        if (sep < 1 || sep + 1 + ChecksumLength > s.Length) { error = "is not bech32 (no '1' separator or too short)"; return false; }
        string prefix = s[..sep];
        if (prefix != expectedPrefix) { error = $"starts with '{prefix}1', expected '{expectedPrefix}1'"; return false; }

        int dataLength = s.Length - sep - 1;
        Span<byte> data = stackalloc byte[MaxLength];
        data = data[..dataLength];
        for (int i = 0; i < dataLength; i++)
        {
            int v = Charset.IndexOf(s[sep + 1 + i]);
            if (v < 0) { error = $"contains '{s[sep + 1 + i]}', which bech32 does not use"; return false; }
            data[i] = (byte)v;
        }
        if (Polymod(prefix, data) != 1) { error = "has a bad checksum (mistyped or truncated?)"; return false; }

        var words = data[..^ChecksumLength];
        Span<byte> bytes = stackalloc byte[MaxLength];
        int n = ConvertBits(words, 5, 8, pad: false, bytes);
        if (n != 32) { error = n < 0 ? "has invalid padding" : $"holds {n} bytes, expected 32"; return false; }
        bytes[..32].CopyTo(key32);
        return true;
    }

    private static void CreateChecksum(string prefix, ReadOnlySpan<byte> words, Span<byte> checksum)
    {
        Span<byte> withZeros = stackalloc byte[words.Length + ChecksumLength];
        words.CopyTo(withZeros);
        uint mod = Polymod(prefix, withZeros) ^ 1;
        for (int i = 0; i < ChecksumLength; i++) checksum[i] = (byte)((mod >> (5 * (5 - i))) & 31);
    }

    private static uint Polymod(string prefix, ReadOnlySpan<byte> words)
    {
        uint chk = 1;
        foreach (char c in prefix) chk = Step(chk) ^ (uint)(c >> 5);
        chk = Step(chk);
        foreach (char c in prefix) chk = Step(chk) ^ (uint)(c & 31);
        foreach (byte w in words) chk = Step(chk) ^ w;
        return chk;
    }

    private static uint Step(uint chk)
    {
        uint top = chk >> 25;
        chk = (chk & 0x1ffffff) << 5;
        if ((top & 1) != 0) chk ^= 0x3b6a57b2;
        if ((top & 2) != 0) chk ^= 0x26508e6d;
        if ((top & 4) != 0) chk ^= 0x1ea119fa;
        if ((top & 8) != 0) chk ^= 0x3d4233dd;
        if ((top & 16) != 0) chk ^= 0x2a1462b3;
        return chk;
    }

    /// <summary>Regroups bits; returns the output length, or -1 when the padding is not canonical.</summary>
    private static int ConvertBits(ReadOnlySpan<byte> input, int fromBits, int toBits, bool pad, Span<byte> output)
    {
        int acc = 0, bits = 0, n = 0;
        int maxValue = (1 << toBits) - 1;
        int maxAcc = (1 << (fromBits + toBits - 1)) - 1;
        foreach (byte value in input)
        {
            acc = ((acc << fromBits) | value) & maxAcc;
            bits += fromBits;
            while (bits >= toBits)
            {
                bits -= toBits;
                output[n++] = (byte)((acc >> bits) & maxValue);
            }
        }
        if (pad)
        {
            if (bits > 0) output[n++] = (byte)((acc << (toBits - bits)) & maxValue);
        }
        else if (bits >= fromBits || ((acc << (toBits - bits)) & maxValue) != 0)
        {
            return -1;
        }
        return n;
    }
}
