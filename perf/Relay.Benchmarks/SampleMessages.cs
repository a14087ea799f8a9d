using System.Text;
using Relay.Native.Events;

namespace Relay.Benchmarks;

/// <summary>Client messages shaped like what real clients send, built from <see cref="SampleEvents"/>.</summary>
internal static class SampleMessages
{
    public const string SubscriptionId = "feed:home:1";

    public static byte[] EventMessage(byte[] eventJson) => [.. "[\"EVENT\","u8, .. eventJson, .. "]"u8];

    /// <summary>
    /// A home-timeline REQ: a follow feed (<paramref name="authors"/> authors, notes and reposts), the
    /// user's notifications (#p), and one open thread (#e).
    /// </summary>
    public static byte[] ReqWithThreeFilters(int authors) =>
        Encoding.UTF8.GetBytes($"[\"REQ\",\"{SubscriptionId}\",{ThreeFilters(authors)}]");

    /// <summary>The filters of <see cref="ReqWithThreeFilters"/>, as ClientMessage.FiltersJson slices them.</summary>
    public static string ThreeFilters(int authors)
    {
        var follows = new StringBuilder();
        for (int i = 0; i < authors; i++)
        {
            if (i > 0) follows.Append(',');
            follows.Append('"').Append(Hex.Encode(SampleEvents.Key(10_000 + i).Span)).Append('"');
        }
        string me = Hex.Encode(SampleEvents.Key(42).Span);
        string thread = Hex.Encode(SampleEvents.Key(43).Span);
        return $"{{\"authors\":[{follows}],\"kinds\":[1,6],\"limit\":200}}," +
               $"{{\"kinds\":[1,6,7,9735],\"#p\":[\"{me}\"],\"since\":1699990000,\"limit\":100}}," +
               $"{{\"kinds\":[1],\"#e\":[\"{thread}\"]}}";
    }
}
