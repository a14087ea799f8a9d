using Relay.Server.Config;

namespace Relay.Server.Policy;

/// <summary>
/// Who may read and write in private relay mode, and who may never write: the config's lists
/// merged with the pubkeys file. Writers may always read; the file's pubkeys may read and write.
/// </summary>
internal sealed class AccessLists
{
    public AccessLists(AccessConfig config, IReadOnlyList<string> filePubkeys)
    {
        string[] read = PubkeyList.Parse(config.ReadPubkeys, out _) ?? [];
        string[] write = PubkeyList.Parse(config.WritePubkeys, out _) ?? [];
        Writers = PubkeySet.FromHex(write.Concat(filePubkeys));
        Readers = PubkeySet.FromHex(read.Concat(write).Concat(filePubkeys));
        Denied = PubkeySet.FromHex(PubkeyList.Parse(config.DeniedPubkeys, out _) ?? []);
        ReadRestricted = config.ReadRestricted;
        WriteRestricted = config.WriteRestricted;
        WriteByAuthenticated = config.WriteByAuthenticated;
    }

    public PubkeySet Readers { get; }
    public PubkeySet Writers { get; }
    public PubkeySet Denied { get; }
    public bool ReadRestricted { get; }
    public bool WriteRestricted { get; }
    public bool WriteByAuthenticated { get; }
}
