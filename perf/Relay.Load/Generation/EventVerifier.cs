using System.Text;
using System.Text.Json;
using NBitcoin.Secp256k1;
using Sha256 = System.Security.Cryptography.SHA256;

namespace Relay.Load.Generation;

/// <summary>
/// Checks a stored event the way a relay would, by a deliberately different route from the
/// generator: unescape every field with System.Text.Json, re-serialize the id preimage char by char,
/// hash, and verify the BIP-340 signature.
/// </summary>
public static class EventVerifier
{
    public static string? Verify(ReadOnlySpan<byte> eventJson)
    {
        string? id = null, pubkey = null, content = null, sig = null;
        long createdAt = -1;
        int kind = -1;
        var tags = new List<List<string>>();
        try
        {
            var reader = new Utf8JsonReader(eventJson);
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                reader.Read();
                switch (name)
                {
                    case "id": id = reader.GetString(); break;
                    case "pubkey": pubkey = reader.GetString(); break;
                    case "created_at": createdAt = reader.GetInt64(); break;
                    case "kind": kind = reader.GetInt32(); break;
                    case "content": content = reader.GetString(); break;
                    case "sig": sig = reader.GetString(); break;
                    case "tags":
                        while (reader.Read() && reader.TokenType == JsonTokenType.StartArray)
                        {
                            var tag = new List<string>();
                            while (reader.Read() && reader.TokenType == JsonTokenType.String) tag.Add(reader.GetString()!);
                            tags.Add(tag);
                        }
                        break;
                    default: return $"unexpected field '{name}'";
                }
            }
        }
        catch (JsonException e) { return "invalid JSON: " + e.Message; }

        if (id is null || pubkey is null || content is null || sig is null || createdAt < 0 || kind < 0) return "missing field";
        if (!IsLowerHex(id, 64) || !IsLowerHex(pubkey, 64) || !IsLowerHex(sig, 128)) return "id, pubkey or sig is not lowercase hex";
        foreach (List<string> tag in tags)
            if (tag.Count >= 2 && (tag[0] == "e" || tag[0] == "p") && !IsLowerHex(tag[1], 64)) return $"{tag[0]} tag value is not 64 hex";

        var preimage = new StringBuilder();
        preimage.Append("[0,\"").Append(pubkey).Append("\",").Append(createdAt).Append(',').Append(kind).Append(",[");
        for (int t = 0; t < tags.Count; t++)
        {
            if (t > 0) preimage.Append(',');
            preimage.Append('[');
            for (int v = 0; v < tags[t].Count; v++)
            {
                if (v > 0) preimage.Append(',');
                AppendQuoted(preimage, tags[t][v]);
            }
            preimage.Append(']');
        }
        preimage.Append("],");
        AppendQuoted(preimage, content);
        preimage.Append(']');

        byte[] hash = Sha256.HashData(Encoding.UTF8.GetBytes(preimage.ToString()));
        if (Convert.ToHexStringLower(hash) != id) return "id is not sha256 of the canonical serialization";
        if (!ECXOnlyPubKey.TryCreate(Convert.FromHexString(pubkey), out ECXOnlyPubKey? key) || key is null) return "pubkey is not on the curve";
        if (!SecpSchnorrSignature.TryCreate(Convert.FromHexString(sig), out SecpSchnorrSignature? signature) || signature is null) return "malformed signature";
        if (!key.SigVerifyBIP340(signature, hash)) return "signature does not verify";
        return null;
    }

    /// <summary>The NIP-01 id of the given fields (used to check a published test vector).</summary>
    public static string IdOf(string pubkey, long createdAt, int kind, string[][] tags, string content)
    {
        var preimage = new StringBuilder();
        preimage.Append("[0,\"").Append(pubkey).Append("\",").Append(createdAt).Append(',').Append(kind).Append(",[");
        for (int t = 0; t < tags.Length; t++)
        {
            if (t > 0) preimage.Append(',');
            preimage.Append('[').AppendJoin(',', tags[t].Select(v => { var q = new StringBuilder(); AppendQuoted(q, v); return q.ToString(); })).Append(']');
        }
        preimage.Append("],");
        AppendQuoted(preimage, content);
        preimage.Append(']');
        return Convert.ToHexStringLower(Sha256.HashData(Encoding.UTF8.GetBytes(preimage.ToString())));
    }

    private static void AppendQuoted(StringBuilder output, string value)
    {
        output.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': output.Append("\\\""); break;
                case '\\': output.Append("\\\\"); break;
                case '\n': output.Append("\\n"); break;
                case '\r': output.Append("\\r"); break;
                case '\t': output.Append("\\t"); break;
                case '\b': output.Append("\\b"); break;
                case '\f': output.Append("\\f"); break;
                default:
                    if (c < 0x20) output.Append("\\u00").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                    else output.Append(c);
                    break;
            }
        }
        output.Append('"');
    }

    private static bool IsLowerHex(string value, int length)
    {
        if (value.Length != length) return false;
        foreach (char c in value) if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f')) return false;
        return true;
    }
}
