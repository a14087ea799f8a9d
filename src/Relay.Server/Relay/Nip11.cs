using System.Text.Json;
using Relay.Server.Config;

namespace Relay.Server.Relay;

/// <summary>The NIP-11 relay information document, built once from the config.</summary>
internal static class Nip11
{
    // No public home yet: the name identifies the software until it has a URL.
    public const string Software = "relay-csharp";
    public static readonly int[] DefaultNips = [1, 9, 11, 40, 45];

    public static byte[] Build(RelayConfig config)
    {
        var info = config.Relay.Info;
        int[] nips = DefaultNips;
        if (info.Nips.Length > 0) nips = JsonSerializer.Deserialize(info.Nips, ConfigNipsContext.Default.Int32Array) ?? DefaultNips;
        if (config.Relay.MaxFilterLimitCount == 0 && info.Nips.Length == 0) nips = Array.FindAll(nips, n => n != 45);

        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("name", info.Name);
            w.WriteString("description", info.Description);
            if (info.Pubkey.Length > 0) w.WriteString("pubkey", info.Pubkey);
            if (info.Self.Length > 0) w.WriteString("self", info.Self);
            if (info.Contact.Length > 0) w.WriteString("contact", info.Contact);
            if (info.Icon.Length > 0) w.WriteString("icon", info.Icon);
            if (info.Banner.Length > 0) w.WriteString("banner", info.Banner);
            if (info.Privacy.Length > 0) w.WriteString("privacy_policy", info.Privacy);
            if (info.Terms.Length > 0) w.WriteString("terms_of_service", info.Terms);
            w.WriteStartArray("supported_nips");
            foreach (int n in nips) w.WriteNumberValue(n);
            w.WriteEndArray();
            w.WriteString("software", Software);
            w.WriteString("version", RelayServer.Version);
            w.WriteStartObject("limitation");
            w.WriteNumber("max_message_length", config.Relay.MaxWebsocketPayloadSize);
            w.WriteNumber("max_subscriptions", config.Relay.MaxSubsPerConnection);
            w.WriteNumber("max_limit", config.Relay.MaxFilterLimit);
            w.WriteNumber("default_limit", config.Relay.MaxFilterLimit);
            w.WriteNumber("max_subid_length", 64);
            w.WriteNumber("max_event_tags", config.Events.MaxNumTags);
            w.WriteNumber("max_content_length", config.Events.MaxEventSize);
            w.WriteNumber("created_at_lower_limit", config.Events.RejectEventsOlderThanSeconds);
            w.WriteNumber("created_at_upper_limit", config.Events.RejectEventsNewerThanSeconds);
            w.WriteBoolean("auth_required", false);
            w.WriteBoolean("payment_required", false);
            w.WriteBoolean("restricted_writes", false);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return stream.ToArray();
    }
}
