namespace Relay.Server.Transport;

/// <summary>
/// One outgoing frame as it is handed over: the encoded header and up to three payload parts, never
/// concatenated. A frame can be half-written to the socket, so everything here works from a byte offset.
/// </summary>
internal readonly ref struct WsOutboundFrame
{
    public const int PartCount = 4;

    private readonly ReadOnlySpan<byte> _header;
    private readonly ReadOnlySpan<byte> _part1;
    private readonly ReadOnlySpan<byte> _part2;
    private readonly ReadOnlySpan<byte> _part3;

    public WsOutboundFrame(ReadOnlySpan<byte> header, ReadOnlySpan<byte> part1, ReadOnlySpan<byte> part2, ReadOnlySpan<byte> part3)
    {
        _header = header;
        _part1 = part1;
        _part2 = part2;
        _part3 = part3;
        Length = (long)header.Length + part1.Length + part2.Length + part3.Length;
    }

    /// <summary>Header plus payload.</summary>
    public long Length { get; }

    /// <summary>0 is the header, 1..3 the payload parts in order.</summary>
    public ReadOnlySpan<byte> Part(int index) => index switch
    {
        0 => _header,
        1 => _part1,
        2 => _part2,
        _ => _part3,
    };

    /// <summary>Copies the frame's bytes from <paramref name="offset"/> on, as many as fit.</summary>
    /// <returns>The number of bytes copied.</returns>
    public int CopyTo(long offset, Span<byte> destination)
    {
        int copied = 0;
        for (int i = 0; i < PartCount && copied < destination.Length; i++)
        {
            var part = Part(i);
            if (offset >= part.Length)
            {
                offset -= part.Length;
                continue;
            }
            part = part[(int)offset..];
            offset = 0;
            int length = Math.Min(part.Length, destination.Length - copied);
            part[..length].CopyTo(destination[copied..]);
            copied += length;
        }
        return copied;
    }
}
