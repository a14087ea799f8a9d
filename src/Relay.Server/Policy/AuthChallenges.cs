using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Relay.Native.Protocol;
using Relay.Server.Relay;

namespace Relay.Server.Policy;

/// <summary>
/// NIP-42 challenges. Each connection's challenge is derived, not stored: the first 16 bytes of
/// HMAC-SHA256(per-process secret, connection id), base64url (22 characters, strfry's length). An
/// idle connection keeps nothing, the challenge stays the same for the connection's life (so a
/// client never races a newer one), and nobody can guess another connection's challenge or reuse
/// one after a restart.
/// </summary>
internal static class AuthChallenges
{
    public const int Length = 22;

    private static readonly byte[] s_secret = RandomNumberGenerator.GetBytes(32);

    public static string For(long connectionId)
    {
        Span<byte> challenge = stackalloc byte[Length];
        Write(connectionId, challenge);
        return Encoding.ASCII.GetString(challenge);
    }

    public static bool Matches(long connectionId, ReadOnlySpan<byte> challenge)
    {
        if (challenge.Length != Length) return false;
        Span<byte> expected = stackalloc byte[Length];
        Write(connectionId, expected);
        return CryptographicOperations.FixedTimeEquals(expected, challenge);
    }

    /// <summary>
    /// Sends <c>["AUTH", challenge]</c> the first time the connection needs one. strfry sends it only
    /// with the first refusal that needs AUTH, and so does Relay: nostr-tools keeps the challenge it
    /// last received and answers an auth-required refusal with it, so it must arrive before that
    /// refusal, which it does (same connection, sent first).
    /// </summary>
    public static void SendTo(ClientSession session)
    {
        if (!session.AuthState.TryMarkChallengeSent()) return;
        var b = ClientSession.Scratch();
        RelayMessageWriter.Auth(b, For(session.Id));
        if (!session.Connection.SendText(b.WrittenSpan)) return;
        Metrics.AuthChallengesSent.Add(1);
        Metrics.CountRelayMessage(RelayVerb.Auth);
    }

    private static void Write(long connectionId, Span<byte> destination)
    {
        Span<byte> message = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(message, connectionId);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(s_secret, message, mac);
        Base64Url.EncodeToUtf8(mac[..16], destination);
    }
}
