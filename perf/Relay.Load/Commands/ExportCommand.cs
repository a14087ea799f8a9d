using System.Buffers.Binary;
using Relay.Load.Cli;
using Relay.Load.Generation;

namespace Relay.Load.Commands;

/// <summary>
/// <c>export --events events.bin --out events.jsonl [--from N] [--count N]</c>: the events as JSON
/// lines, the input of <c>strfry import</c> and <c>relay import</c>, which fill a database far
/// faster than publishing over WebSockets. Streams: a 1M-event file never sits in memory.
/// </summary>
public static class ExportCommand
{
    public static int Run(CliArgs args)
    {
        string events = args.Require("events");
        string output = args.Require("out");
        long from = args.GetLong("from", 0);
        long count = args.GetLong("count", 0);
        args.RejectUnknown();

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        using var input = new FileStream(events, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        Span<byte> head = stackalloc byte[EventFile.HeaderSize];
        input.ReadExactly(head);
        EventFile.Header header = EventFile.ReadHeader(head);
        long end = count > 0 ? Math.Min(header.Count, from + count) : header.Count;
        if (from > end) throw new CliException($"--from {from}: the file has {header.Count} events");

        string temporary = output + ".partial";
        long written = 0;
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            byte[] buffer = new byte[64 * 1024];
            Span<byte> lengthBytes = stackalloc byte[4];
            for (long i = 0; i < end; i++)
            {
                input.ReadExactly(lengthBytes);
                int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
                if (length > buffer.Length) buffer = new byte[length];
                input.ReadExactly(buffer, 0, length);
                if (i < from) continue;
                file.Write(buffer, 0, length);
                file.WriteByte((byte)'\n');
                written++;
            }
        }
        // Renamed only when complete, so a cached export is never a truncated one.
        File.Move(temporary, output, overwrite: true);
        Console.WriteLine(FormattableString.Invariant(
            $"exported {written:N0} events ({from:N0}..{end:N0} of {header.Count:N0}) to {output}, {new FileInfo(output).Length / 1048576.0:0.0} MiB in {stopwatch.Elapsed.TotalSeconds:0.0} s"));
        return 0;
    }
}
