using System.Numerics;
using Relay.Native.Events;
using Relay.Server.Config;
using Relay.Server.Relay;

namespace Relay.Server.Policy;

/// <summary>
/// What the ingester checks on a parsed event before its signature (they cost nothing next to it):
/// AUTH events sent as EVENT, banned authors, private-mode writers, kind lists, NIP-13 proof of
/// work and NIP-70 protected events. Content length, tag count and size and the created_at window
/// are the parser's (<see cref="EventLimits"/>). The accept path allocates nothing; a refusal may
/// build its message. Built per config version.
/// </summary>
internal sealed class WriteRules
{
    private readonly AuthSettings _auth;
    private readonly AccessLists _access;
    private readonly KindSet _allowedKinds;
    private readonly KindSet _deniedKinds;
    private readonly int _minPow;

    public WriteRules(LimitsConfig limits, AuthSettings auth, AccessLists access)
    {
        _auth = auth;
        _access = access;
        _allowedKinds = new KindSet(KindRanges.Parse(limits.AllowedKinds, out _) ?? []);
        _deniedKinds = new KindSet(KindRanges.Parse(limits.DeniedKinds, out _) ?? []);
        _minPow = limits.MinPowDifficulty;
    }

    /// <summary>
    /// The OK-false message for an event this connection may not publish, null when it may.
    /// <paramref name="sendChallenge"/> asks for an AUTH challenge before the refusal.
    /// </summary>
    public string? Check(ClientSession session, in ParsedEventHeader header, out bool sendChallenge) =>
        Check(session.AuthedPubkeys, header, out sendChallenge);

    /// <summary><see cref="Check(ClientSession, in ParsedEventHeader, out bool)"/> for a connection authenticated as <paramref name="authed"/>.</summary>
    public string? Check(ReadOnlySpan<Bytes32> authed, in ParsedEventHeader header, out bool sendChallenge)
    {
        sendChallenge = false;
        int kind = header.Kind;
        // NIP-42: AUTH events are never stored or broadcast, whoever sends them how.
        if (kind == Nip42Authenticator.AuthKind) return "invalid: kind 22242 is sent with AUTH, not EVENT";
        var author = header.PubKey.Span;
        if (_access.Denied.Contains(author)) return "blocked: this pubkey may not publish here";
        if (_access.WriteRestricted && !_access.Writers.Contains(author))
        {
            if (!_access.WriteByAuthenticated || !_auth.Active)
                return "restricted: this relay accepts events only from its members";
            if (authed.IsEmpty)
            {
                sendChallenge = true;
                return "auth-required: this relay accepts events only from its members";
            }
            if (!_access.Writers.ContainsAny(authed)) return "restricted: this pubkey is not a member of this relay";
        }
        if (_deniedKinds.Contains(kind) || (!_allowedKinds.IsEmpty && !_allowedKinds.Contains(kind)))
            return $"blocked: events of kind {kind} are not accepted here";
        if (_minPow > 0)
        {
            // NIP-13: a committed target below the minimum is refused even when the id happens to meet
            // it, so a spammer mining for less cannot get lucky.
            if (header.PowCommitment != 0 && header.PowCommitment < _minPow)
                return $"pow: committed target {header.PowCommitment} is less than {_minPow}";
            int difficulty = LeadingZeroBits(header.Id.Span);
            if (difficulty < _minPow) return $"pow: difficulty {difficulty} is less than {_minPow}";
        }
        if (header.EmbedsProtected) return "blocked: reposts can't embed protected events";
        if (header.Protected)
        {
            // NIP-70: only the author, authenticated, may publish it; rejected by default.
            if (!_auth.Active) return "blocked: event marked as protected";
            if (authed.IsEmpty)
            {
                sendChallenge = true;
                return "auth-required: event marked as protected";
            }
            foreach (ref readonly var key in authed)
                if (key.Span.SequenceEqual(author)) return null;
            return "restricted: must be published by the author";
        }
        return null;
    }

    /// <summary>NIP-13 difficulty: leading zero bits of the id.</summary>
    public static int LeadingZeroBits(ReadOnlySpan<byte> id)
    {
        int bits = 0;
        foreach (byte b in id)
        {
            if (b != 0) return bits + BitOperations.LeadingZeroCount((uint)b) - 24;
            bits += 8;
        }
        return bits;
    }
}
