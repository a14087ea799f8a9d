using System.Net;

namespace Relay.Server.Transport;

/// <summary>
/// A parsed HTTP/1.1 request head. Made once per connection, so plain strings are fine here.
/// Header names compare case-insensitively; repeated headers are kept in order.
/// </summary>
public sealed class HttpRequestInfo
{
    private readonly List<KeyValuePair<string, string>> _headers;

    internal HttpRequestInfo(string method, string target, string version, List<KeyValuePair<string, string>> headers, IPAddress remoteAddress)
    {
        Method = method;
        Target = target;
        Version = version;
        _headers = headers;
        RemoteAddress = remoteAddress;
        int query = target.IndexOf('?');
        Path = query < 0 ? target : target[..query];
    }

    public string Method { get; }

    /// <summary>The request target exactly as sent (path and query).</summary>
    public string Target { get; }

    /// <summary>The target without its query string.</summary>
    public string Path { get; }

    public string Version { get; }

    /// <summary>The socket peer, or the address from <see cref="ListenerOptions.RealIpHeader"/> when present.</summary>
    public IPAddress RemoteAddress { get; internal set; }

    public IReadOnlyList<KeyValuePair<string, string>> Headers => _headers;

    /// <summary>The first value of the header, or null.</summary>
    public string? GetHeader(string name)
    {
        foreach (var header in _headers)
        {
            if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
                return header.Value;
        }
        return null;
    }

    /// <summary>
    /// True if any instance of a comma-separated header holds the token (case-insensitive), e.g.
    /// <c>Connection: keep-alive, Upgrade</c> holds "upgrade".
    /// </summary>
    public bool HeaderHasToken(string name, string token)
    {
        foreach (var header in _headers)
        {
            if (!string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
                continue;
            foreach (var part in header.Value.Split(','))
            {
                if (string.Equals(part.Trim(), token, StringComparison.OrdinalIgnoreCase))
                    return true;
            }
        }
        return false;
    }
}
