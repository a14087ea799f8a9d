using Relay.Native.Events;

namespace Relay.Native.Query;

/// <summary>
/// Decides, per stored event, whether the asker may see it at all (e.g. NIP-42 restricted kinds).
/// A query treats an event the gate refuses as absent: it is not sent, not counted, and does not
/// use up a filter's limit.
/// </summary>
public interface IEventGate
{
    bool Admits(in PackedEvent ev);
}
