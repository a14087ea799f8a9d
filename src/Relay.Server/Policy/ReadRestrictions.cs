using Relay.Native.Events;
using Relay.Native.Query;
using Relay.Server.Config;
using Relay.Server.Relay;

namespace Relay.Server.Policy;

/// <summary>The answer to a REQ, COUNT (or NEG-OPEN) before any event is looked at.</summary>
internal readonly record struct ReadAdmission(bool Allowed, string? Refusal, bool SendChallenge)
{
    public static ReadAdmission Allow { get; } = new(true, null, false);
}

/// <summary>
/// Who may read what, for every read path: REQ results, COUNT, live delivery, and NIP-77 sync once
/// it exists. Two rules:
/// <list type="bullet">
/// <item>strfry's restricted kinds (relay.auth.restrictedReadKinds, default 4 and 1059: DMs and gift
/// wraps) go only to a connection authenticated as the author or as a p-tagged recipient (with
/// restrictReadToInvolvedPubkey = false, to any authenticated connection). As in strfry they go to
/// nobody while AUTH is not active (no serviceUrl): stored, never served.</item>
/// <item>private mode (relay.access.readRestricted): only connections authenticated as a listed
/// pubkey read anything.</item>
/// </list>
/// A query leaves out what the connection may not read (<see cref="CanRead"/>, through
/// <see cref="Gate"/>), so a COUNT counts only those events: it tells nobody how many DMs exist
/// between others, and gives the same number the REQ would send. Built per config version.
/// </summary>
internal sealed class ReadRestrictions
{
    private readonly KindSet _restricted;
    private readonly bool _involvedOnly;
    private readonly bool _authActive;
    private readonly AccessLists _access;
    private readonly string _restrictedText;

    public ReadRestrictions(RelayConfig config, AuthSettings auth, AccessLists access)
    {
        _restricted = KindSet.Of(config.Relay.Auth.RestrictedReadKindList);
        _restrictedText = string.Join(", ", config.Relay.Auth.RestrictedReadKindList);
        _involvedOnly = config.Relay.Auth.RestrictReadToInvolvedPubkey;
        _authActive = auth.Active;
        _access = access;
    }

    public bool HasRestrictedKinds => !_restricted.IsEmpty;

    public bool IsRestrictedKind(int kind) => _restricted.Contains(kind);

    /// <summary>True when events of this kind are not for everyone (so <see cref="CanRead"/> must be asked per reader).</summary>
    public bool AppliesTo(int kind) => _access.ReadRestricted || _restricted.Contains(kind);

    /// <summary>Private mode: whether this connection may read at all.</summary>
    public bool IsMember(ClientSession session) => IsMember(session.AuthedPubkeys);

    public bool IsMember(ReadOnlySpan<Bytes32> authed) =>
        !_access.ReadRestricted || (_authActive && _access.Readers.ContainsAny(authed));

    /// <summary>Whether <paramref name="session"/> may receive <paramref name="ev"/> by any path.</summary>
    public bool CanRead(ClientSession session, in PackedEvent ev) => CanRead(session.AuthedPubkeys, ev);

    /// <summary>Whether a connection authenticated as <paramref name="authed"/> (maybe none) may receive <paramref name="ev"/>.</summary>
    public bool CanRead(ReadOnlySpan<Bytes32> authed, in PackedEvent ev) => IsMember(authed) && CanReadKind(authed, ev);

    /// <summary>The restricted-kinds rule alone (membership is checked when a query is admitted).</summary>
    public bool CanReadKind(ReadOnlySpan<Bytes32> keys, in PackedEvent ev)
    {
        if (!_restricted.Contains(ev.Kind)) return true;
        if (!_authActive) return false;
        if (keys.IsEmpty) return false;
        if (!_involvedOnly) return true;
        foreach (ref readonly var key in keys)
            if (key.Span.SequenceEqual(ev.PubKey)) return true;
        Span<byte> tagged = stackalloc byte[32];
        foreach (var tag in ev.Tags)
        {
            if (tag.Letter != (byte)'p' || tag.Value.Length != 64 || !Hex.TryDecodeLower(tag.Value, tagged)) continue;
            foreach (ref readonly var key in keys)
                if (key.Span.SequenceEqual(tagged)) return true;
        }
        return false;
    }

    /// <summary>
    /// Decides a REQ or COUNT (or NEG-OPEN) up front. Refused: an unauthenticated connection on a
    /// private relay, or one asking only for restricted kinds (every filter names kinds and all are
    /// restricted; strfry's rule) — with <c>auth-required:</c> and a challenge while AUTH can
    /// help, <c>restricted:</c> otherwise. Anything else runs, leaving out what may not be read.
    /// </summary>
    public ReadAdmission Admit(ClientSession session, ReadOnlySpan<Filter> filters)
    {
        bool authenticated = _authActive && !session.AuthedPubkeys.IsEmpty;
        if (_access.ReadRestricted && !IsMember(session))
        {
            if (!_authActive) return new(false, "restricted: this relay serves only its members, and AUTH is not enabled", false);
            return authenticated
                ? new(false, "restricted: this pubkey is not a member of this relay", false)
                : new(false, "auth-required: this relay serves only its members", true);
        }
        if (_restricted.IsEmpty || authenticated) return ReadAdmission.Allow;
        if (IsFullyRestricted(filters))
        {
            return _authActive
                ? new(false, "auth-required: these events are only for their author and recipients", true)
                : new(false, $"restricted: kinds {_restrictedText} are served only after AUTH, which is not enabled on this relay", false);
        }
        // A filter that names a restricted kind among others runs without those events; the challenge
        // lets a client that authenticates on its own get them live from now on.
        return _authActive && NamesRestrictedKind(filters) ? new(true, null, true) : ReadAdmission.Allow;
    }

    /// <summary>
    /// Whether a scan over these filters can meet an event some reader may not see, i.e. needs
    /// <see cref="CanReadKind"/> per event (for NIP-77, which must leave such events out of its set).
    /// </summary>
    public bool NeedsGate(ReadOnlySpan<Filter> filters)
    {
        if (_restricted.IsEmpty) return false;
        foreach (var f in filters)
        {
            if (f.Kinds is null) return true;
            foreach (int k in f.Kinds)
                if (_restricted.Contains(k)) return true;
        }
        return false;
    }

    private bool IsFullyRestricted(ReadOnlySpan<Filter> filters)
    {
        if (filters.IsEmpty) return false;
        foreach (var f in filters)
        {
            if (f.Kinds is null) return false;
            foreach (int k in f.Kinds)
                if (!_restricted.Contains(k)) return false;
        }
        return true;
    }

    private bool NamesRestrictedKind(ReadOnlySpan<Filter> filters)
    {
        foreach (var f in filters)
            if (f.Kinds is not null)
                foreach (int k in f.Kinds)
                    if (_restricted.Contains(k)) return true;
        return false;
    }

    /// <summary>A query's <see cref="IEventGate"/> for one connection; reused by a REQ worker between slices.</summary>
    public sealed class Gate : IEventGate
    {
        public ReadRestrictions? Rules;
        public ClientSession? Session;

        public bool Admits(in PackedEvent ev) => Rules!.CanReadKind(Session!.AuthedPubkeys, ev);
    }
}
