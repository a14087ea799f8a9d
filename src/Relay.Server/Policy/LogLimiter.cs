using Relay.Server.Relay;

namespace Relay.Server.Policy;

/// <summary>
/// Log lines whose rate the plugin decides (its stderr, its noise, its failures): at most a few per
/// window, then one line saying how many were left out, so a chatty or crash-looping plugin cannot
/// flood the relay's log.
/// </summary>
internal sealed class LogLimiter(int perWindow, TimeSpan window)
{
    private readonly Lock _lock = new();
    private long _windowStart;
    private int _inWindow, _suppressed;

    /// <summary>Where lines go; tests capture them here.</summary>
    internal Action<string, string>? Sink;

    public void Info(string message) => Write("INFO", message);
    public void Warn(string message) => Write("WARN", message);
    public void Error(string message) => Write("ERROR", message);

    private void Write(string level, string message)
    {
        int dropped = 0;
        lock (_lock)
        {
            long now = Environment.TickCount64;
            if (now - _windowStart >= (long)window.TotalMilliseconds)
            {
                dropped = _suppressed;
                _windowStart = now;
                _inWindow = 0;
                _suppressed = 0;
            }
            if (++_inWindow > perWindow)
            {
                _suppressed++;
                return;
            }
        }
        if (dropped > 0) Emit("WARN", $"write policy plugin: {dropped} log lines left out in the previous {window.TotalSeconds:0} s");
        Emit(level, message);
    }

    private void Emit(string level, string message)
    {
        if (Sink is { } sink) { sink(level, message); return; }
        switch (level)
        {
            case "ERROR": RelayLog.Error(message); break;
            case "WARN": RelayLog.Warn(message); break;
            default: RelayLog.Info(message); break;
        }
    }
}
