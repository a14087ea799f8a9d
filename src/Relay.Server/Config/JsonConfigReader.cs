using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Relay.Server.Config;

/// <summary>
/// Reads Relay's JSON config (comments and trailing commas allowed) into the same tree the
/// taocpp reader makes, keeping where each key was written. The tree is built from
/// <see cref="Utf8JsonReader"/> tokens, not JsonNode.Parse, to know each key's position and to let a
/// repeated key win as in taocpp (last one counts).
/// </summary>
internal static class JsonConfigReader
{
    private const int MaxDepth = 64;

    public static ConfigDocument Parse(string text, string source)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        var doc = new ConfigDocument(source, ConfigFormat.Json);
        var lines = new LineMap(utf8);
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions
        {
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
            MaxDepth = MaxDepth,
        });
        try
        {
            if (!reader.Read()) throw new ConfigException($"{source}: the file holds no settings");
            if (reader.TokenType != JsonTokenType.StartObject)
                throw ConfigException.At(lines.Locate(source, reader.TokenStartIndex), "the top level must be an object { ... }");
            ReadObject(ref reader, doc.Root, "", doc, lines);
            // Anything but comments after the object makes the reader throw here.
            reader.Read();
        }
        catch (JsonException e)
        {
            throw ConfigException.At(lines.Locate(source, e.LineNumber ?? 0, e.BytePositionInLine ?? 0), Clean(e.Message));
        }
        return doc;
    }

    private static void ReadObject(ref Utf8JsonReader reader, JsonObject target, string path, ConfigDocument doc, LineMap lines)
    {
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string name = reader.GetString()!;
            var where = lines.Locate(doc.Source, reader.TokenStartIndex);
            string childPath = path.Length == 0 ? name : path + "." + name;
            reader.Read();
            target.Remove(name);
            target[name] = ReadValue(ref reader, childPath, doc, lines);
            doc.Locations[childPath] = where;
        }
    }

    private static JsonNode? ReadValue(ref Utf8JsonReader reader, string? path, ConfigDocument doc, LineMap lines)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var obj = new JsonObject();
                if (path is null) ReadUntrackedObject(ref reader, obj, doc, lines);
                else ReadObject(ref reader, obj, path, doc, lines);
                return obj;
            case JsonTokenType.StartArray:
                var arr = new JsonArray();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) arr.Add(ReadValue(ref reader, null, doc, lines));
                return arr;
            case JsonTokenType.String:
                return JsonValue.Create(reader.GetString()!);
            case JsonTokenType.Number:
                if (reader.TryGetInt64(out long l)) return JsonValue.Create(l);
                if (reader.TryGetUInt64(out ulong u)) return JsonValue.Create(u);
                return JsonValue.Create(reader.GetDouble());
            case JsonTokenType.True:
                return JsonValue.Create(true);
            case JsonTokenType.False:
                return JsonValue.Create(false);
            default:
                return null;
        }
    }

    // Objects inside arrays have no key path, so no positions are kept for them.
    private static void ReadUntrackedObject(ref Utf8JsonReader reader, JsonObject target, ConfigDocument doc, LineMap lines)
    {
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string name = reader.GetString()!;
            reader.Read();
            target.Remove(name);
            target[name] = ReadValue(ref reader, null, doc, lines);
        }
    }

    /// <summary>The reader's message without its own position suffix (we print FILE:LINE:COLUMN first).</summary>
    private static string Clean(string message)
    {
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut > 0) message = message[..cut];
        if (message.StartsWith("Expected depth to be zero", StringComparison.Ordinal))
            return "the file ends before every '{' or '[' is closed";
        return message.TrimEnd();
    }

    /// <summary>Byte offsets to 1-based line and character column.</summary>
    private sealed class LineMap
    {
        private readonly byte[] _utf8;
        private readonly int[] _starts;

        public LineMap(byte[] utf8)
        {
            _utf8 = utf8;
            var starts = new List<int> { 0 };
            for (int i = 0; i < utf8.Length; i++) if (utf8[i] == (byte)'\n') starts.Add(i + 1);
            _starts = starts.ToArray();
        }

        public ConfigLocation Locate(string source, long byteOffset)
        {
            int offset = (int)Math.Clamp(byteOffset, 0, _utf8.Length);
            int line = Array.BinarySearch(_starts, offset);
            if (line < 0) line = ~line - 1;
            return Locate(source, line, offset - _starts[line]);
        }

        public ConfigLocation Locate(string source, long zeroBasedLine, long byteInLine)
        {
            int line = (int)Math.Clamp(zeroBasedLine, 0, _starts.Length - 1);
            int start = _starts[line];
            int length = (int)Math.Clamp(byteInLine, 0, _utf8.Length - start);
            int column = Encoding.UTF8.GetCharCount(_utf8, start, length) + 1;
            return new ConfigLocation(source, line + 1, column);
        }
    }
}
