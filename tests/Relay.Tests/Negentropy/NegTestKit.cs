using System.Numerics;
using System.Security.Cryptography;
using Relay.Native.Events;
using Relay.Native.Negentropy;

namespace Relay.Tests.Negentropy;

internal static class NegTestKit
{
    public static Bytes32 RandomId(Random random)
    {
        Span<byte> bytes = stackalloc byte[32];
        random.NextBytes(bytes);
        return Bytes32.From(bytes);
    }

    /// <summary><paramref name="count"/> distinct items with timestamps in [first, first + spread).</summary>
    public static List<NegItem> RandomItems(Random random, int count, ulong first = 1_700_000_000, int spread = 1_000_000)
    {
        var items = new List<NegItem>(count);
        for (int i = 0; i < count; i++) items.Add(new NegItem(first + (ulong)random.Next(spread), RandomId(random)));
        return items;
    }

    public static NegentropyVector Vector(IEnumerable<NegItem> items) => NegentropyVector.FromUnsorted(items);

    public sealed record SyncResult(List<Bytes32> Have, List<Bytes32> Need, int Rounds, int LargestClientMessage, int LargestReply);

    /// <summary>Runs a whole sync, client against responder, checking every message against its frame limit.</summary>
    public static SyncResult Sync(INegentropyStorage client, INegentropyStorage server, int clientLimit = NegentropyProtocol.ClientFrameSizeLimit,
        int serverLimit = NegentropyProtocol.ServerFrameSizeLimit, int maxRounds = 10_000)
    {
        var initiator = new NegentropyClient(client, clientLimit);
        var responder = new NegentropyResponder(serverLimit);
        var have = new List<Bytes32>();
        var need = new List<Bytes32>();
        byte[] message = initiator.Initiate().ToArray();
        int largestMessage = message.Length, largestReply = 0;
        for (int round = 1; ; round++)
        {
            Assert.True(round <= maxRounds, "sync did not converge");
            if (clientLimit != 0) Assert.True(message.Length <= clientLimit, $"client message of {message.Length} bytes over {clientLimit}");
            Assert.Equal(NegError.None, responder.Respond(server, message));
            byte[] reply = responder.Reply.ToArray();
            largestReply = Math.Max(largestReply, reply.Length);
            if (serverLimit != 0) Assert.True(reply.Length <= serverLimit, $"reply of {reply.Length} bytes over {serverLimit}");
            Assert.Equal(NegError.None, initiator.Reconcile(reply, have, need));
            if (initiator.IsComplete) return new SyncResult(have, need, round, largestMessage, largestReply);
            message = initiator.NextMessage.ToArray();
            largestMessage = Math.Max(largestMessage, message.Length);
        }
    }

    /// <summary>Exactly the symmetric difference, each id once.</summary>
    public static void AssertFoundDifference(IEnumerable<NegItem> client, IEnumerable<NegItem> server, SyncResult result)
    {
        var clientIds = client.Select(i => i.Id).ToHashSet();
        var serverIds = server.Select(i => i.Id).ToHashSet();
        var expectedHave = clientIds.Where(id => !serverIds.Contains(id)).ToHashSet();
        var expectedNeed = serverIds.Where(id => !clientIds.Contains(id)).ToHashSet();
        Assert.Equal(result.Have.Count, result.Have.Distinct().Count());
        Assert.Equal(result.Need.Count, result.Need.Distinct().Count());
        Assert.True(expectedHave.SetEquals(result.Have), $"have: expected {expectedHave.Count}, got {result.Have.Count}");
        Assert.True(expectedNeed.SetEquals(result.Need), $"need: expected {expectedNeed.Count}, got {result.Need.Count}");
    }

    /// <summary>The fingerprint computed the slow, obvious way: BigInteger sum mod 2^256, then SHA-256.</summary>
    public static byte[] ReferenceFingerprint(IEnumerable<NegItem> items)
    {
        var modulus = BigInteger.One << 256;
        var sum = BigInteger.Zero;
        long count = 0;
        foreach (var item in items)
        {
            sum = (sum + new BigInteger(item.Id.Span, isUnsigned: true, isBigEndian: false)) % modulus;
            count++;
        }
        var input = new List<byte>();
        var sumBytes = new byte[32];
        sum.TryWriteBytes(sumBytes, out _, isUnsigned: true, isBigEndian: false);
        input.AddRange(sumBytes);
        input.AddRange(ReferenceVarint((ulong)count));
        return SHA256.HashData(input.ToArray()).AsSpan(0, 16).ToArray();
    }

    public static byte[] ReferenceVarint(ulong value)
    {
        var digits = new List<byte>();
        do
        {
            digits.Insert(0, (byte)(value & 0x7F));
            value >>= 7;
        } while (value != 0);
        for (int i = 0; i < digits.Count - 1; i++) digits[i] |= 0x80;
        return digits.ToArray();
    }
}
