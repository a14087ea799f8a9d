using Microsoft.Win32.SafeHandles;

namespace Relay.Server.Commands;

/// <summary>
/// Buffered byte output to stdout for commands that print events (JSONL): payload bytes go out as
/// stored, never through a string. Write errors (a closed pipe) surface as IOException from
/// <see cref="WriteLine"/> or <see cref="Flush"/>; disposing never throws.
/// </summary>
internal sealed class StdoutWriter : IDisposable
{
    // A FileStream on fd 1 rather than Console.OpenStandardOutput(): the console stream swallows
    // EPIPE, so `relay export | head` would go on exporting the whole database into a closed pipe.
    private readonly FileStream _stream = new(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 1 << 20);

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
