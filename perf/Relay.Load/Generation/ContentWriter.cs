using System.Text;

namespace Relay.Load.Generation;

/// <summary>
/// Note text that exercises a relay's JSON handling the way real notes do: accents, CJK, emoji
/// (with skin tones and ZWJ sequences), quotes, backslashes, URLs, newlines and tabs.
/// </summary>
public static class ContentWriter
{
    private static readonly string[] s_ascii =
    [
        "the", "a", "and", "to", "of", "is", "in", "it", "that", "this", "for", "on", "with", "just", "so",
        "nostr", "relay", "relays", "bitcoin", "zap", "zaps", "note", "notes", "today", "really", "think",
        "about", "people", "freedom", "protocol", "client", "keys", "sats", "coffee", "morning", "build",
        "ship", "code", "open", "source", "decentralized", "censorship", "resistant", "lightning", "node",
        "wallet", "gm", "gn", "why", "how", "what", "love", "great", "thanks", "again", "never", "always",
        "world", "network", "signal", "event", "filter", "index", "query", "fast", "slow", "time", "new",
        "old", "good", "bad", "more", "less", "here", "there", "everyone", "nobody", "maybe", "yes", "no",
        "LMDB", "WebSocket", "JSON", "Schnorr", "signature", "plebs", "stack", "ride", "music", "photo",
    ];

    private static readonly string[] s_accented =
    [
        "café", "naïve", "résumé", "über", "señor", "São", "Paulo", "Zürich", "Kraków", "façade", "jalapeño",
        "crème", "brûlée", "Ærø", "smörgåsbord", "Ελληνικά", "русский", "привет", "עברית", "العربية", "ñandú",
    ];

    private static readonly string[] s_cjk =
    [
        "日本語", "こんにちは", "中文", "你好世界", "한국어", "東京", "ノストル", "比特币", "ありがとう", "大丈夫",
    ];

    private static readonly string[] s_emoji =
    [
        "🚀", "🎉", "👍", "🔥", "⚡", "💜", "🤙", "🧡", "👍🏽", "👨‍👩‍👧", "🏳️‍🌈", "😂", "🫂", "☕", "🌍",
    ];

    private static readonly string[] s_special =
    [
        "\"quoted\"", "back\\slash", "C:\\Users\\nostr\\notes.txt", "it's", "say \"gm\"", "a/b", "100%",
        "<b>bold</b>", "$5", "{\"json\":true}", "[array]", "'single'", "\\n-literal", "tab\there", "a&b",
    ];

    public static readonly string[] Reactions = ["+", "+", "+", "🤙", "❤️", "🔥", "😂", "⚡", "-", "🫂"];

    public static string Words(ref DeterministicRandom random, int wordCount, HashtagSet hashtags)
    {
        var text = new StringBuilder(wordCount * 7);
        for (int w = 0; w < wordCount; w++)
        {
            if (w > 0) AppendSeparator(text, ref random);
            double u = random.NextDouble();
            if (u < 0.70) text.Append(s_ascii[random.Next(s_ascii.Length)]);
            else if (u < 0.78) text.Append(s_accented[random.Next(s_accented.Length)]);
            else if (u < 0.84) text.Append(s_cjk[random.Next(s_cjk.Length)]);
            else if (u < 0.92) text.Append(s_emoji[random.Next(s_emoji.Length)]);
            else if (u < 0.97) text.Append(s_special[random.Next(s_special.Length)]);
            else if (u < 0.98) text.Append("https://example.com/p/").Append(random.Next(1_000_000));
            else text.Append('#').Append(hashtags.Sample(ref random));
        }
        return text.ToString();
    }

    public static string Title(ref DeterministicRandom random)
    {
        var text = new StringBuilder();
        int words = random.Next(3, 9);
        for (int w = 0; w < words; w++)
        {
            if (w > 0) text.Append(' ');
            text.Append(random.Chance(0.85) ? s_ascii[random.Next(s_ascii.Length)] : s_accented[random.Next(s_accented.Length)]);
        }
        return text.ToString();
    }

    /// <summary>Kind 0 content: a JSON object inside a JSON string, so the relay sees escaped quotes.</summary>
    public static string Metadata(ref DeterministicRandom random, int author, HashtagSet hashtags)
    {
        string name = s_ascii[random.Next(s_ascii.Length)] + author;
        string about = Words(ref random, random.NextSkewed(5, 60), hashtags);
        return "{\"name\":\"" + name + "\",\"display_name\":\"" + JsonBuffer.Escape(Title(ref random)) +
               "\",\"about\":\"" + JsonBuffer.Escape(about) + "\",\"picture\":\"https://example.com/avatar/" + author +
               ".png\",\"nip05\":\"" + name + "@example.com\"}";
    }

    private static void AppendSeparator(StringBuilder text, ref DeterministicRandom random)
    {
        double u = random.NextDouble();
        if (u < 0.88) text.Append(' ');
        else if (u < 0.95) text.Append('\n');
        else if (u < 0.965) text.Append("\n\n");
        else if (u < 0.985) text.Append('\t');
        else text.Append(", ");
    }
}

/// <summary>Hashtags with Zipf popularity: a few trending, many rare.</summary>
public sealed class HashtagSet
{
    private static readonly string[] s_common =
    [
        "nostr", "bitcoin", "grownostr", "zapathon", "photography", "music", "art", "foodstr", "plebchain",
        "lightning", "coffeechain", "memes", "news", "dev", "privacy", "freedom", "books", "travel", "sports",
        "asknostr", "introductions", "nature", "catstr", "dogstr", "running", "gaming", "science", "history",
    ];

    private readonly string[] _tags;
    private readonly ZipfSampler _zipf;

    public HashtagSet(int count)
    {
        _tags = new string[Math.Max(count, s_common.Length)];
        for (int i = 0; i < _tags.Length; i++) _tags[i] = i < s_common.Length ? s_common[i] : "topic" + i;
        _zipf = new ZipfSampler(_tags.Length, 1.1);
    }

    public string Sample(ref DeterministicRandom random) => _tags[_zipf.Sample(ref random)];
}
