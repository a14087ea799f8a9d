using Relay.Server.Config;

namespace Relay.Server.Policy;

/// <summary>NIP-42 as the current config has it.</summary>
internal sealed class AuthSettings
{
    public AuthSettings(AuthConfig config)
    {
        ServiceUrlText = config.ServiceUrl;
        // strfry's rule: AUTH works only with auth.enabled and a serviceUrl to check the relay tag against.
        RelayUrl.TryParse(config.ServiceUrl, out var url);
        Active = config.Enabled && url != default;
        ServiceUrl = url;
    }

    public bool Active { get; }
    public RelayUrl ServiceUrl { get; }
    public string ServiceUrlText { get; }
}
