namespace Relay.Server.Observability.Logging;

/// <summary>One key=value of a structured log record; a number stays a number (no boxing, no string).</summary>
internal readonly struct LogField
{
    public LogField(string key, string? text)
    {
        Key = key;
        Text = text ?? "";
    }

    public LogField(string key, long number)
    {
        Key = key;
        Number = number;
        IsNumber = true;
    }

    public string Key { get; }
    public string? Text { get; }
    public long Number { get; }
    public bool IsNumber { get; }
}

internal enum LogLevel { Error = 0, Warn = 1, Info = 2, Debug = 3 }

/// <summary>relay.logging.format.</summary>
internal enum LogFormat { Text, Json }
