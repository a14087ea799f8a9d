namespace Relay.Server.Observability.Logging;

/// <summary>
/// The relay's log: one line per record on stderr (journald and container runtimes collect it),
/// levelled like strfry's --verbosity, in the format relay.logging.format chose (logfmt or JSON).
/// Records carry a message and key=value fields; a caller on a hot path checks
/// <see cref="IsEnabled"/> (or a <see cref="LogSwitches"/> flag) before building anything, so a
/// record that is off costs a branch and no allocation.
/// </summary>
internal static class RelayLog
{
    /// <summary>Keeps stderr silent below ERROR (tests); a <see cref="Sink"/> still receives every enabled record.</summary>
    public static volatile bool Quiet;

    private static volatile int s_level = (int)LogLevel.Info;
    private static volatile LogFormat s_format = LogFormat.Text;

    public static LogLevel Level => (LogLevel)s_level;

    public static LogFormat Format
    {
        get => s_format;
        set => s_format = value;
    }

    public static bool DebugEnabled => IsEnabled(LogLevel.Debug);

    /// <summary>Whether a record of <paramref name="level"/> would be written anywhere.</summary>
    public static bool IsEnabled(LogLevel level) =>
        (int)level <= s_level && (level == LogLevel.Error || !Quiet || Sink is not null);

    // One-argument overloads too, so the methods convert to Action<string> (callers pass them as log hooks).
    public static void Debug(string message) => Debug(message, []);
    public static void Info(string message) => Info(message, []);
    public static void Warn(string message) => Warn(message, []);
    public static void Error(string message) => Error(message, []);

    public static void Debug(string message, params ReadOnlySpan<LogField> fields) { if (IsEnabled(LogLevel.Debug)) Write(LogLevel.Debug, message, fields); }
    public static void Info(string message, params ReadOnlySpan<LogField> fields) { if (IsEnabled(LogLevel.Info)) Write(LogLevel.Info, message, fields); }
    public static void Warn(string message, params ReadOnlySpan<LogField> fields) { if (IsEnabled(LogLevel.Warn)) Write(LogLevel.Warn, message, fields); }
    public static void Error(string message, params ReadOnlySpan<LogField> fields) => Write(LogLevel.Error, message, fields);

    /// <summary>strfry's --verbosity: ERROR, WARN, INFO, DEBUG, or a number (loguru's: 0 info, 1+ debug, -1 warn, less errors only).</summary>
    public static bool TrySetVerbosity(string level)
    {
        switch (level.Trim().ToUpperInvariant())
        {
            case "ERROR" or "FATAL": s_level = (int)LogLevel.Error; return true;
            case "WARN" or "WARNING": s_level = (int)LogLevel.Warn; return true;
            case "INFO": s_level = (int)LogLevel.Info; return true;
            case "DEBUG": s_level = (int)LogLevel.Debug; return true;
        }
        if (!int.TryParse(level, out int n)) return false;
        s_level = (int)(n >= 1 ? LogLevel.Debug : n == 0 ? LogLevel.Info : n == -1 ? LogLevel.Warn : LogLevel.Error);
        return true;
    }

    /// <summary>relay.logging.format: "text" (logfmt key=value) or "json" (one JSON object per line).</summary>
    public static bool TryParseFormat(string? text, out LogFormat format)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "text": format = LogFormat.Text; return true;
            case "json": format = LogFormat.Json; return true;
            default: format = LogFormat.Text; return false;
        }
    }

    // Faults that a hostile or broken peer can trigger at will (transport exceptions) must not flood
    // the log: at most this many lines per window, then one line saying how many were dropped.
    private static readonly LogThrottle s_errorLimiter = new();

    /// <summary>An error line, unless too many were written in the last few seconds (then counted and summarized).</summary>
    public static void ErrorLimited(string message, params ReadOnlySpan<LogField> fields) => s_errorLimiter.Write(LogLevel.Error, message, fields);

    /// <summary>Tests capture lines here instead of stderr.</summary>
    internal static Action<string>? Sink;

    internal static void ResetLimiter(bool expireWindow = false) => s_errorLimiter.Reset(expireWindow);

    internal static void Write(LogLevel level, string message, ReadOnlySpan<LogField> fields)
    {
        string line = LogLine.Format(s_format, DateTime.UtcNow, level, message, fields);
        if (Sink is { } sink) sink(line);
        else if (level == LogLevel.Error || !Quiet) Console.Error.WriteLine(line);
    }
}

/// <summary>Lets at most <see cref="PerWindow"/> records through per window, then says how many it held back.</summary>
internal sealed class LogThrottle
{
    public const int PerWindow = 20;
    private static readonly long s_windowTicks = TimeSpan.FromSeconds(10).Ticks;
    private readonly Lock _lock = new();
    private long _windowStart;
    private int _inWindow, _suppressed;

    public void Write(LogLevel level, string message, ReadOnlySpan<LogField> fields)
    {
        if (!RelayLog.IsEnabled(level)) return;
        int dropped = 0;
        lock (_lock)
        {
            long now = DateTime.UtcNow.Ticks;
            if (now - _windowStart >= s_windowTicks)
            {
                dropped = _suppressed;
                _windowStart = now;
                _inWindow = 0;
                _suppressed = 0;
            }
            if (++_inWindow > PerWindow)
            {
                _suppressed++;
                return;
            }
        }
        if (dropped > 0) RelayLog.Write(level, $"{dropped} similar {(level == LogLevel.Error ? "errors" : "records")} not logged in the previous 10 s",
            [new LogField("dropped", dropped)]);
        RelayLog.Write(level, message, fields);
    }

    public void Reset(bool expireWindow)
    {
        lock (_lock)
        {
            if (expireWindow) _windowStart = 0;
            else { _windowStart = DateTime.UtcNow.Ticks; _inWindow = 0; _suppressed = 0; }
        }
    }
}
