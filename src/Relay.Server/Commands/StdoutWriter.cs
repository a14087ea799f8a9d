namespace Relay.Server.Commands;

/// <summary>
/// Buffered byte output to stdout for commands that print events (JSONL): payload bytes go out as
/// stored, never through a string. Write errors (a closed pipe) surface as IOException from
/// <see cref="WriteLine"/> or <see cref="Flush"/>; disposing never throws.
/// </summary>
internal sealed class StdoutWriter : IDisposable
{
    private readonly BufferedStream _stream = new(Console.OpenStandardOutput(), 1 << 20);

    public void WriteLine(ReadOnlySpan<byte> line)
    {
        _stream.Write(line);
        _stream.WriteByte((byte)'\n');
    }

    public void Flush() => _stream.Flush();

    public void Dispose()
    {
        try
        {
            _stream.Dispose();
        }
        catch (IOException)
        {
        }
    }
}
