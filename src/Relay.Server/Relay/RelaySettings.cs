using Relay.Native.Events;
using Relay.Native.Protocol;
using Relay.Server.Config;

namespace Relay.Server.Relay;

/// <summary>
/// What the relay's threads derive from the config, built once per config version so that a thread
/// reads one reference per batch or message instead of re-deriving limits. Immutable: a reload makes
/// a new one (see <see cref="LiveSettings"/>).
/// </summary>
internal sealed class RelaySettings
{
    public RelaySettings(RelayConfig config)
    {
        Config = config;
        var e = config.Events;
        EventLimits = new EventLimits
        {
            MaxEventSize = e.MaxEventSize,
            MaxNumTags = e.MaxNumTags,
            MaxTagValSize = e.MaxTagValSize,
            RejectEventsNewerThanSeconds = e.RejectEventsNewerThanSeconds,
            RejectEventsOlderThanSeconds = e.RejectEventsOlderThanSeconds,
        };
        FilterLimits = new FilterLimits
        {
            MaxFilters = config.Relay.MaxReqFilterSize,
            MaxTagConditions = config.Relay.MaxTagsPerFilter,
            // Follow lists of big accounts put thousands of authors in one filter; the payload cap bounds it anyway.
            MaxValuesPerField = 10000,
        };
        Nip11Document = Nip11.Build(config);
    }

    public RelayConfig Config { get; }
    public EventLimits EventLimits { get; }
    public FilterLimits FilterLimits { get; }
    public byte[] Nip11Document { get; }
}

/// <summary>The current <see cref="RelaySettings"/>, rebuilt whenever the live config changes (hot reload).</summary>
internal sealed class LiveSettings
{
    private RelaySettings _current;

    public LiveSettings(LiveConfig live)
    {
        _current = new RelaySettings(live.Current);
        live.Changed += e => Volatile.Write(ref _current, new RelaySettings(e.Current));
    }

    public RelaySettings Current => Volatile.Read(ref _current);
}
