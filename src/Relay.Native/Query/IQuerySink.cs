namespace Relay.Native.Query;

/// <summary>Receives the stored events a query selects, in order.</summary>
public interface IQuerySink
{
    /// <summary><paramref name="json"/> is valid only during the call. Return false to stop the query.</summary>
    bool OnEvent(ulong levId, ReadOnlySpan<byte> json);
}
