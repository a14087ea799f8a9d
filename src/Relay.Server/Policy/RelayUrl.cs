namespace Relay.Server.Policy;

/// <summary>
/// The part of a relay URL that names the relay for NIP-42's <c>relay</c> tag: host and port.
/// <para>
/// How strict: the host is compared case-insensitively (IDN in its ASCII form, a trailing dot
/// ignored) and the port after filling in the scheme's default (wss/https 443, ws/http 80), so
/// <c>wss://Relay.Example.com:443/</c> names <c>wss://relay.example.com</c>. Path, query and fragment
/// are ignored, as strfry does and as NIP-42 allows ("just checking the domain name is enough"): one
/// relay answers at every path of its host (NIP-01), and an AUTH event signed for another host or
/// port is still refused. A value without a scheme is read as wss://, as nostr-tools does.
/// </para>
/// </summary>
internal readonly record struct RelayUrl(string Host, int Port)
{
    public static bool TryParse(string? text, out RelayUrl url)
    {
        url = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        string s = text.Trim();
        if (!s.Contains("://", StringComparison.Ordinal)) s = "wss://" + s;
        if (!Uri.TryCreate(s, UriKind.Absolute, out var uri)) return false;
        int defaultPort;
        switch (uri.Scheme)
        {
            case "wss" or "https": defaultPort = 443; break;
            case "ws" or "http": defaultPort = 80; break;
            default: return false;
        }
        string host = uri.IdnHost.TrimEnd('.').ToLowerInvariant();
        if (host.Length == 0) return false;
        // Uri reports -1 or the default for schemes it does not know; an explicit port is always kept.
        int port = uri.IsDefaultPort || uri.Port < 0 ? defaultPort : uri.Port;
        url = new RelayUrl(host, port);
        return true;
    }
}
