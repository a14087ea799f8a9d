using System.Text;
using Relay.Native.Crypto;
using Relay.Native.Events;

namespace Relay.Tests.Fuzz;

/// <summary>Valid starting points for mutation: really signed events, filters and client messages.</summary>
internal static class FuzzCorpus
{
    /// <summary>created_at of every corpus event, and the "now" the parser is given.</summary>
    public const long Now = 1_700_000_000;

    private static readonly Lazy<byte[][]> s_events = new(BuildEvents);
    private static readonly Lazy<byte[][]> s_messages = new(BuildMessages);

    /// <summary>Signed events in the normalized form (what EventSigner writes).</summary>
    public static IReadOnlyList<byte[]> Events => s_events.Value;

    public static IReadOnlyList<byte[]> Messages => s_messages.Value;

    public static string Hex64(int seed) => Convert.ToHexStringLower(Secret(seed).AsSpan());

    private static byte[] Secret(int seed)
    {
        var secret = new byte[32];
        new Random(seed).NextBytes(secret);
        secret[0] = 0x01;   // keeps it below the curve order
        return secret;
    }

    public static string PubKey(int seed) => Convert.ToHexStringLower(Schnorr.PublicKeyFromSecret(Secret(seed)));

    private static byte[][] BuildEvents()
    {
        string e = Hex64(101), p = PubKey(102);
        var list = new List<byte[]>
        {
            Sign(1, 1, [], ""),
            Sign(1, 1, [["e", e, "wss://relay.example/", "reply"], ["p", p], ["t", "nostr"]], "gm\nhow are you? \"quoted\" \\ back/slash"),
            Sign(2, 0, [], "{\"name\":\"alice\",\"about\":\"日本語 é 🎉\"}"),
            Sign(3, 3, [["p", p], ["p", PubKey(103)], ["p", PubKey(104)]], ""),
            Sign(4, 30023, [["d", "my-article"], ["title", "Tïtle"], ["a", "30023:" + p + ":post"], ["Q", "UPPER"]], "# heading\r\n\tcode\u007f \u2028 \u2029"),
            Sign(5, 1, [["expiration", (Now + 100_000).ToString()], ["t", "ephemeral-ish"]], "expires later"),
            Sign(6, 7, [["e", e], ["p", p], ["k", "1"], ["emoji", "party", "https://example.com/🎉.png"]], "🎉"),
            Sign(7, 1, [["x"], ["t", ""], ["t", "dup"], ["t", "dup"]], "controls: \u0001\u0002\u001f\b\f end"),
            Sign(8, 20001, [["d", ""]], new string('z', 900)),
            Sign(9, 65535, [["r", "wss://relay.example/path?q=1&b=2"]], "max kind"),
        };
        return list.ToArray();
    }

    private static byte[] Sign(int key, int kind, string[][] tags, string content) =>
        EventSigner.Sign(Secret(key), kind, Now, tags, content);

    /// <summary>Filter lists as REQ carries them (what ClientMessage.FiltersJson slices out).</summary>
    public static readonly string[] Filters =
    [
        "{}",
        "{\"kinds\":[1,6,1,7],\"limit\":20}",
        $"{{\"authors\":[\"{PubKey(2)}\",\"{PubKey(1)}\",\"{PubKey(2)}\"],\"kinds\":[0,3]}}",
        $"{{\"ids\":[\"{Hex64(9)}\",\"{Hex64(8)}\"]}},{{\"#e\":[\"{Hex64(101)}\"],\"since\":1690000000,\"until\":1710000000}}",
        $"{{\"#p\":[\"{PubKey(102)}\"],\"#t\":[\"nostr\",\"bitcoin\",\"nostr\",\"é\",\"\"],\"#d\":[\"my-article\"],\"limit\":0}}",
        "{\"#t\":[\"zeta\",\"alpha\",\"Beta\"]},{\"kinds\":[30023],\"#Q\":[\"UPPER\"]},{\"since\":0,\"until\":99999999999999999999}",
        "{\"kinds\":[]},{\"limit\":5}",
    ];

    private static byte[][] BuildMessages()
    {
        var list = new List<byte[]>();
        foreach (var ev in Events.Take(4))
            list.Add([.. "[\"EVENT\","u8, .. ev, .. "]"u8]);
        list.Add([.. "[\"AUTH\","u8, .. Events[0], .. "]"u8]);
        foreach (string f in Filters)
        {
            list.Add(Encoding.UTF8.GetBytes($"[\"REQ\",\"sub:{f.Length}\",{f}]"));
            list.Add(Encoding.UTF8.GetBytes($"[\"COUNT\",\"c-é-🎉\",{f}]"));
        }
        list.Add("[\"REQ\",\"no-filters\"]"u8.ToArray());
        list.Add("[\"CLOSE\",\"sub:2\"]"u8.ToArray());
        list.Add("[\"CLOSE\",\"\\u0073ub\"]"u8.ToArray());
        return list.ToArray();
    }
}
