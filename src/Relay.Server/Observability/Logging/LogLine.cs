using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Relay.Server.Observability.Logging;

/// <summary>
/// Formats one log record as one line: logfmt (<c>ts=... level=INFO msg="..." conn=3</c>) or a JSON
/// object (<c>{"ts":"...","level":"INFO","msg":"...","conn":3}</c>). Values that could break a line
/// (newlines in an exception, quotes in a dumped message) are escaped, so a record is always one line.
/// </summary>
internal static class LogLine
{
    private static readonly JsonWriterOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Format(LogFormat format, DateTime utc, LogLevel level, string message, ReadOnlySpan<LogField> fields) =>
        format == LogFormat.Json ? Json(utc, level, message, fields) : Text(utc, level, message, fields);

    public static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Error => "ERROR",
        LogLevel.Warn => "WARN",
        LogLevel.Info => "INFO",
        _ => "DEBUG",
    };

    private static string Timestamp(DateTime utc) => utc.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static string Text(DateTime utc, LogLevel level, string message, ReadOnlySpan<LogField> fields)
    {
        var sb = new StringBuilder(96 + message.Length);
        sb.Append("ts=").Append(Timestamp(utc)).Append(" level=").Append(LevelName(level)).Append(" msg=");
        AppendValue(sb, message);
        foreach (var f in fields)
        {
            sb.Append(' ').Append(f.Key).Append('=');
            if (f.IsNumber) sb.Append(f.Number);
            else AppendValue(sb, f.Text!);
        }
        return sb.ToString();
    }

    /// <summary>logfmt: bare when the value has no space, quote, '=' or control character; else quoted and escaped.</summary>
    private static void AppendValue(StringBuilder sb, string value)
    {
        bool bare = value.Length > 0;
        foreach (char c in value)
        {
            if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == '\u007f') { bare = false; break; }
        }
        if (bare)
        {
            sb.Append(value);
            return;
        }
        sb.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < ' ' || c == '\u007f') sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    private static string Json(DateTime utc, LogLevel level, string message, ReadOnlySpan<LogField> fields)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + message.Length);
        using (var w = new Utf8JsonWriter(buffer, s_json))
        {
            w.WriteStartObject();
            w.WriteString("ts", Timestamp(utc));
            w.WriteString("level", LevelName(level));
            w.WriteString("msg", message);
            foreach (var f in fields)
            {
                if (f.IsNumber) w.WriteNumber(f.Key, f.Number);
                else w.WriteString(f.Key, f.Text);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
