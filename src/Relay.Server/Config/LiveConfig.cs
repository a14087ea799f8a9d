namespace Relay.Server.Config;

/// <summary>
/// The config the running relay follows. <see cref="Current"/> is one volatile read, cheap enough
/// for any thread to call per message; a reload swaps in a new <see cref="RelayConfig"/> whole, so a
/// reader sees either all of the old values or all of the new. Restart-required keys never change
/// here: a reload keeps their startup values (as strfry does with noReload keys).
/// </summary>
public sealed class LiveConfig(RelayConfig initial)
{
    private RelayConfig _current = initial;
    private long _version = 1;

    public RelayConfig Current => Volatile.Read(ref _current);

    /// <summary>Starts at 1 and grows with every applied change; a cache (e.g. the NIP-11 document) can compare it.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Raised after <see cref="Current"/> changed, on the thread that applied the change.</summary>
    public event Action<ConfigChangedEventArgs>? Changed;

    /// <summary>Installs <paramref name="next"/> and raises <see cref="Changed"/>; only reloadable keys may differ.</summary>
    public void Apply(RelayConfig next, IReadOnlyList<ConfigChange> changes)
    {
        var previous = Interlocked.Exchange(ref _current, next);
        long version = Interlocked.Increment(ref _version);
        Changed?.Invoke(new ConfigChangedEventArgs(previous, next, changes, version));
    }
}

public sealed record ConfigChangedEventArgs(RelayConfig Previous, RelayConfig Current, IReadOnlyList<ConfigChange> Changes, long Version);
