using System.Diagnostics;

namespace Relay.Server.Policy;

/// <summary>What a running plugin reports to its host, from the plugin's reader thread.</summary>
internal interface IPluginListener
{
    void OnLine(PluginProcess plugin, ReadOnlySpan<byte> line);
    /// <summary>
    /// The plugin is gone or must go: EOF on its stdout, a read error, or an answer line too long
    /// (<paramref name="blameHead"/>: that line was the answer to the oldest request). Called once.
    /// </summary>
    void OnEnd(PluginProcess plugin, string reason, bool blameHead);
}

/// <summary>
/// One running plugin: <c>/bin/sh -c COMMAND</c> as strfry starts it, requests on its stdin, answers
/// read from its stdout by a thread of its own, stderr copied to the log. The host decides when it
/// dies; this class only knows how.
/// </summary>
internal sealed class PluginProcess
{
    // strfry reads answers with an 8192-byte record limit; a longer line ends the plugin there too.
    internal const int MaxLineBytes = 8192;

    private readonly Process _process;
    private readonly Stream _stdin;
    private readonly Stream _stdout;
    private readonly IPluginListener _listener;
    private readonly LogLimiter _log;
    private readonly int _pid;
    private int _killed;

    private PluginProcess(Process process, string command, string? watchedPath, long scriptWriteTicks, IPluginListener listener, LogLimiter log)
    {
        _process = process;
        _stdin = process.StandardInput.BaseStream;
        _stdout = process.StandardOutput.BaseStream;
        _listener = listener;
        _log = log;
        _pid = process.Id;
        Command = command;
        WatchedPath = watchedPath;
        ScriptWriteTicks = scriptWriteTicks;
    }

    public string Command { get; }
    /// <summary>The script file whose modification restarts the plugin (strfry: a command without spaces is a path).</summary>
    public string? WatchedPath { get; }
    public long ScriptWriteTicks { get; }
    public int ProcessId => _pid;

    /// <summary>Set by the host (under its lock) once an answer was accepted: the plugin works, whatever ends it later.</summary>
    public bool Answered { get; set; }

    public static PluginProcess Start(string command, IPluginListener listener, LogLimiter log)
    {
        string? watched = command.Contains(' ') ? null : command;
        // Read before the spawn: an edit racing the start then restarts it once more instead of being missed.
        long ticks = watched is null ? 0 : ScriptTicks(watched);
        var psi = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("/bin/sh did not start");
        return new PluginProcess(process, command, watched, ticks, listener, log);
    }

    /// <summary>
    /// Starts reading its output. Separate from <see cref="Start"/> so the host knows the plugin before
    /// it can hear of its end: a command that fails at once (not found) exits within a millisecond.
    /// </summary>
    public void BeginReading()
    {
        new Thread(ReadAnswers) { Name = "Write policy plugin", IsBackground = true }.Start();
        _ = CopyStderrAsync();
    }

    /// <summary>The script's last-write time, or 0 when there is no such file (sh will say so).</summary>
    public static long ScriptTicks(string path)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Exists ? info.LastWriteTimeUtc.Ticks : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return 0;
        }
    }

    /// <summary>Blocks while the pipe is full (a plugin that stopped reading); throws once the plugin is gone.</summary>
    public void Write(ReadOnlySpan<byte> lines)
    {
        _stdin.Write(lines);
        _stdin.Flush();
    }

    /// <summary>A plugin that is not answering gets no grace: the whole process tree is killed.</summary>
    public void Kill()
    {
        if (Interlocked.Exchange(ref _killed, 1) == 1) return;
        CloseStdin();
        try { _process.Kill(entireProcessTree: true); }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException) { }
    }

    /// <summary>
    /// A plugin being replaced (new command, new script, shutdown) has nothing left to answer: it gets
    /// end-of-input first, which lets a well-behaved one finish on its own, then a short wait.
    /// </summary>
    public void Retire(TimeSpan grace)
    {
        CloseStdin();
        try
        {
            if (_process.WaitForExit(grace)) return;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
        Kill();
    }

    private void CloseStdin()
    {
        try { _stdin.Dispose(); }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { }
    }

    private void ReadAnswers()
    {
        var buffer = new byte[2 * MaxLineBytes];
        int start = 0, end = 0;
        string reason;
        bool tooLong = false;
        try
        {
            while (true)
            {
                if (end == buffer.Length)
                {
                    if (start == 0) { reason = $"sent a line longer than {MaxLineBytes} bytes"; tooLong = true; break; }
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
                int n = _stdout.Read(buffer, end, buffer.Length - end);
                if (n <= 0) { reason = ExitReason(); break; }
                int scanFrom = end;
                end += n;
                int newline;
                while ((newline = Array.IndexOf(buffer, (byte)'\n', scanFrom, end - scanFrom)) >= 0 && newline - start <= MaxLineBytes)
                {
                    Deliver(buffer.AsSpan(start, newline - start));
                    start = scanFrom = newline + 1;
                }
                if (start == end) start = end = 0;
                else if (newline >= 0 || end - start > MaxLineBytes) { reason = $"sent a line longer than {MaxLineBytes} bytes"; tooLong = true; break; }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            reason = "could not be read from: " + e.Message;
        }
        try { _listener.OnEnd(this, reason, tooLong); }
        catch (Exception e) { _log.Error($"write policy plugin: {e}"); }
        Kill();
        try { _process.WaitForExit(TimeSpan.FromSeconds(5)); } catch (InvalidOperationException) { }
        _process.Dispose();
    }

    private void Deliver(ReadOnlySpan<byte> line)
    {
        if (!line.IsEmpty && line[^1] == (byte)'\r') line = line[..^1];
        if (line.IsEmpty) return;
        try { _listener.OnLine(this, line); }
        catch (Exception e) { _log.Error($"write policy plugin: {e}"); }
    }

    private string ExitReason()
    {
        try
        {
            // Output closes a moment before the exit is reaped.
            if (Volatile.Read(ref _killed) == 0 && _process.WaitForExit(TimeSpan.FromMilliseconds(500)))
                return $"exited with status {_process.ExitCode}";
        }
        catch (InvalidOperationException) { }
        return "closed its output";
    }

    private async Task CopyStderrAsync()
    {
        try
        {
            var stderr = _process.StandardError;
            string? line;
            while ((line = await stderr.ReadLineAsync().ConfigureAwait(false)) is not null)
            {
                if (line.Length > 1000) line = line[..1000] + "...";
                _log.Warn($"write policy plugin [{_pid}] stderr: {line}");
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException) { }
    }
}
