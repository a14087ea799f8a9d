namespace Relay.Native.Events;

/// <summary>NIP-01 kind classes.</summary>
public static class EventKinds
{
    public const int Deletion = 5;

    public static bool IsReplaceable(int kind) => kind == 0 || kind == 3 || (kind >= 10000 && kind < 20000);
    public static bool IsEphemeral(int kind) => kind >= 20000 && kind < 30000;
    public static bool IsAddressable(int kind) => kind >= 30000 && kind < 40000;
}
