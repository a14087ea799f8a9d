using Relay.Server.Config;

namespace Relay.Server.Policy;

/// <summary>
/// The access rules of one config version plus one reading of the pubkeys file: what the receive
/// loops, ingesters, REQ workers and monitors consult. Immutable; rebuilt on either change.
/// </summary>
internal sealed class PolicySettings
{
    public PolicySettings(RelayConfig config, IReadOnlyList<string> filePubkeys)
    {
        Auth = new AuthSettings(config.Relay.Auth);
        Access = new AccessLists(config.Relay.Access, filePubkeys);
        Reads = new ReadRestrictions(config, Auth, Access);
        Writes = new WriteRules(config.Relay.Limits, Auth, Access);
        Filters = new FilterRules(config.Relay.FilterValidation);
        Warnings = Check(config, Auth, Access);
        // strfry's default (restricted DMs, no serviceUrl) is a state to know about, not a mistake.
        Notes = !Auth.Active && config.Relay.Auth.RestrictedReadKindList.Count > 0
            ? [$"AUTH is off (relay.auth.serviceUrl is not set), so kinds {config.Relay.Auth.RestrictedReadKinds} (relay.auth.restrictedReadKinds) are stored but served to nobody"]
            : [];
    }

    public AuthSettings Auth { get; }
    public AccessLists Access { get; }
    public ReadRestrictions Reads { get; }
    public WriteRules Writes { get; }
    public FilterRules Filters { get; }

    /// <summary>Settings that work against each other, for the log.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Consequences of the settings worth an info line.</summary>
    public IReadOnlyList<string> Notes { get; }

    private static List<string> Check(RelayConfig config, AuthSettings auth, AccessLists access)
    {
        var warnings = new List<string>();
        var a = config.Relay.Auth;
        if (a.Enabled && a.ServiceUrl.Length > 0 && !auth.Active)
            warnings.Add($"relay.auth.serviceUrl \"{a.ServiceUrl}\" is not a ws://, wss://, http:// or https:// URL: AUTH is off");
        if (!auth.Active && access.ReadRestricted)
            warnings.Add("relay.access.readRestricted is on but AUTH is not (relay.auth.enabled and relay.auth.serviceUrl): nobody can read");
        if (access.WriteRestricted && access.Writers.Count == 0)
            warnings.Add("relay.access.writeRestricted is on and no pubkey may write (relay.access.writePubkeys, relay.access.pubkeysFile)");
        return warnings;
    }
}
