using Relay.Native.Events;
using Relay.Native.Protocol;
using Relay.Server.Config;
using Relay.Server.Policy;

namespace Relay.Server.Relay;

/// <summary>
/// What the relay's threads derive from the config, built once per config version so that a thread
/// reads one reference per batch or message instead of re-deriving limits. Immutable: a reload makes
/// a new one (see <see cref="LiveSettings"/>).
/// </summary>
internal sealed class RelaySettings
{
    /// <param name="filePubkeys">The pubkeys of relay.access.pubkeysFile as last read.</param>
    public RelaySettings(RelayConfig config, IReadOnlyList<string> filePubkeys)
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
            MaxContentLength = config.Relay.Limits.MaxContentLength,
        };
        FilterLimits = new FilterLimits
        {
            MaxFilters = config.Relay.MaxReqFilterSize,
            MaxTagConditions = config.Relay.MaxTagsPerFilter,
            // Follow lists of big accounts put thousands of authors in one filter; the payload cap bounds it anyway.
            MaxValuesPerField = 10000,
        };
        Policy = new PolicySettings(config, filePubkeys);
        Nip11Document = Nip11.Build(config, Policy);
    }

    public RelayConfig Config { get; }
    /// <summary>AUTH, read restrictions, write rules, filter validation.</summary>
    public PolicySettings Policy { get; }
    public EventLimits EventLimits { get; }
    public FilterLimits FilterLimits { get; }
    public byte[] Nip11Document { get; }
}

/// <summary>
/// The current <see cref="RelaySettings"/>, rebuilt whenever the live config changes (hot reload) or
/// the access-list file (relay.access.pubkeysFile) does.
/// </summary>
internal sealed class LiveSettings : IDisposable
{
    private readonly LiveConfig _live;
    private readonly PubkeysFile _pubkeysFile;
    private readonly Lock _rebuild = new();
    private RelaySettings _current;

    public LiveSettings(LiveConfig live)
    {
        _live = live;
        _pubkeysFile = new PubkeysFile();
        _pubkeysFile.Follow(live.Current.Relay.Access.PubkeysFile);
        _current = new RelaySettings(live.Current, _pubkeysFile.Pubkeys);
        Log(_current, null);
        live.Changed += e =>
        {
            _pubkeysFile.Follow(e.Current.Relay.Access.PubkeysFile);
            Rebuild();
        };
        _pubkeysFile.Changed += Rebuild;
    }

    public RelaySettings Current => Volatile.Read(ref _current);

    private void Rebuild()
    {
        lock (_rebuild)
        {
            var previous = _current;
            var next = new RelaySettings(_live.Current, _pubkeysFile.Pubkeys);
            Volatile.Write(ref _current, next);
            Log(next, previous);
        }
    }

    private static void Log(RelaySettings next, RelaySettings? previous)
    {
        foreach (string w in next.Policy.Warnings)
            if (previous is null || !previous.Policy.Warnings.Contains(w)) RelayLog.Warn(w);
        foreach (string n in next.Policy.Notes)
            if (previous is null || !previous.Policy.Notes.Contains(n)) RelayLog.Info(n);
    }

    public void Dispose() => _pubkeysFile.Dispose();
}
