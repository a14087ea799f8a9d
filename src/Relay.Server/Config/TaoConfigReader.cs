using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Relay.Server.Config;

/// <summary>
/// Reads taocpp-config, the format of strfry.conf, into a JSON tree. Supported: `key = value` and
/// `key: value`; `name { ... }` and `name [ ... ]` (implicit addition), `+=`, `delete`; dotted keys
/// (`relay.port = 1`, quoted and array-index parts too); every separating comma optional, one
/// trailing comma allowed; `#`, `//` and non-nesting `/* */` comments; JAXN values: single- or
/// double-quoted strings with escapes (\uXXXX, \u{X..}), triple-quoted multi-line strings, integers
/// (decimal or 0x hex, signed), floats, NaN/Infinity, true/false/null; `+` between values (string
/// concatenation, integer addition, array concatenation, object merge). A file may be one JSON-style
/// top-level object. Not supported (a clear error names them): references and functions `(...)`,
/// include/temporary/permanent, `*` in keys, binary `$` values.
/// Semicolons are not separators in taocpp-config, so they are errors here too.
/// </summary>
internal sealed class TaoConfigReader
{
    private const int MaxDepth = 64;
    private const char EndOfFile = '\0';

    private readonly string _text;
    private readonly string _source;
    private readonly ConfigDocument _doc;
    private int[]? _lineStarts;
    private int _pos;
    private int _depth;

    private TaoConfigReader(string text, string source)
    {
        _text = text;
        _source = source;
        _doc = new ConfigDocument(source, ConfigFormat.TaoConfig);
    }

    public static ConfigDocument Parse(string text, string source)
    {
        var reader = new TaoConfigReader(text, source);
        reader.ParseFile();
        return reader._doc;
    }

    /// <summary>Parses text that must be exactly one value (as a --set value is); false when it is not.</summary>
    public static bool TryParseValue(string text, out JsonNode? value)
    {
        value = null;
        var reader = new TaoConfigReader(text, "value");
        try
        {
            reader.SkipWs();
            if (reader.AtEnd) return false;
            var holder = new JsonObject();
            reader.ParseValueList(new Slot(holder, "", null, null), assign: true);
            reader.SkipWs();
            if (!reader.AtEnd) return false;
            value = holder[""];
            holder.Remove("");
            return true;
        }
        catch (ConfigException)
        {
            return false;
        }
    }

    private bool AtEnd => _pos >= _text.Length;
    private char Peek(int ahead = 0) => _pos + ahead < _text.Length ? _text[_pos + ahead] : EndOfFile;

    private void ParseFile()
    {
        if (_text.Length > 0 && _text[0] == '\uFEFF') _pos = 1;
        SkipWs();
        if (Peek() == '{')
        {
            // taocpp's "compat" form: the whole file is one object, as in JSON.
            int open = _pos++;
            ParseMembers(_doc.Root, "", '}', open);
            SkipWs();
            if (!AtEnd) throw Fail(_pos, $"expected the end of the file after the closing '}}', found {Show(Peek())}");
            return;
        }
        ParseMembers(_doc.Root, "", EndOfFile, 0);
    }

    private void ParseMembers(JsonObject target, string? path, char end, int openPos)
    {
        if (++_depth > MaxDepth) throw Fail(_pos, $"nested deeper than {MaxDepth} levels");
        while (true)
        {
            SkipWs();
            if (AtEnd)
            {
                if (end == EndOfFile) break;
                throw Fail(_pos, $"expected '}}' to close the '{{' opened at {LineColumn(openPos)}, found the end of the file");
            }
            char c = Peek();
            if (c == end) { _pos++; break; }
            if (c is '}' or ']')
                throw Fail(_pos, end == EndOfFile ? $"unexpected '{c}' (no block is open here)" : $"unexpected '{c}'");
            ParseMember(target, path);
            SkipWs();
            if (Peek() == ',') _pos++;
        }
        _depth--;
    }

    private void ParseMember(JsonObject target, string? path)
    {
        if (Peek() == '(')
            throw Fail(_pos, "'(...)' extensions (include, temporary, permanent) are not supported by Relay's config reader");
        int keyPos = _pos;
        var parts = ParseKey();
        string keyText = _text[keyPos.._pos];
        SkipWs();
        bool assign;
        char c = Peek();
        if (c is ':' or '=')
        {
            _pos++;
            assign = true;
            SkipWs();
            if (AtWord("delete"))
            {
                _pos += "delete".Length;
                Navigate(target, path, parts).Remove(this, keyPos);
                return;
            }
        }
        else if (c == '+' && Peek(1) == '=')
        {
            _pos += 2;
            assign = false;
            SkipWs();
        }
        else if (c is '{' or '[')
        {
            assign = false;
        }
        else
        {
            throw Fail(_pos, AtEnd
                ? $"expected '=' or ':' after '{keyText}', found the end of the file"
                : $"expected '=' or ':' after '{keyText}', found {Show(c)}");
        }
        var slot = Navigate(target, path, parts);
        slot.Record(_doc, Location(keyPos));
        ParseValueList(slot, assign);
    }

    private readonly record struct KeyPart(string? Name, int Index, int Pos)
    {
        public override string ToString() => Name ?? Index.ToString(CultureInfo.InvariantCulture);
    }

    private List<KeyPart> ParseKey()
    {
        var parts = new List<KeyPart>(4);
        while (true)
        {
            int p = _pos;
            char c = Peek();
            if (IsIdentStart(c)) parts.Add(new KeyPart(ReadIdent(), 0, p));
            else if (c is '"' or '\'') parts.Add(new KeyPart(ParseString(), 0, p));
            else if (char.IsAsciiDigit(c))
            {
                while (char.IsAsciiDigit(Peek())) _pos++;
                if (_pos - p > 9) throw Fail(p, "array index too large");
                parts.Add(new KeyPart(null, int.Parse(_text.AsSpan(p, _pos - p), CultureInfo.InvariantCulture), p));
            }
            else if (c == '*') throw Fail(p, "'*' patterns in keys are not supported by Relay's config reader");
            else if (AtEnd) throw Fail(p, "expected a key, found the end of the file");
            else throw Fail(p, $"expected a key, found {Show(c)}");

            if (Peek() != '.') return parts;
            _pos++;
        }
    }

    /// <summary>Walks (creating objects as needed) to the parent of the key's last part.</summary>
    private Slot Navigate(JsonObject target, string? path, List<KeyPart> parts)
    {
        JsonNode container = target;
        for (int i = 0; i < parts.Count - 1; i++)
        {
            var part = parts[i];
            var slot = new Slot(container, part.Name, part.Name is null ? part.Index : null, Join(path, part));
            JsonNode? child = slot.Get(this, part.Pos);
            if (child is null)
            {
                child = new JsonObject();
                slot.Set(this, part.Pos, child);
                slot.Record(_doc, Location(part.Pos));
            }
            else if (child is not (JsonObject or JsonArray))
            {
                throw Fail(part.Pos, $"'{slot.Path}' holds {ConfigValues.Describe(child)}, so nothing can be set inside it");
            }
            container = child;
            path = slot.Path;
        }
        var last = parts[^1];
        return new Slot(container, last.Name, last.Name is null ? last.Index : null, Join(path, last));
    }

    private static string? Join(string? path, KeyPart part) =>
        path is null ? null : path.Length == 0 ? part.ToString() : path + "." + part;

    private void ParseValueList(Slot slot, bool assign)
    {
        bool first = true;
        while (true)
        {
            ParseValuePart(slot, first && assign);
            first = false;
            int save = _pos;
            SkipWs();
            if (Peek() == '+' && Peek(1) != '=')
            {
                _pos++;
                SkipWs();
                continue;
            }
            _pos = save;
            return;
        }
    }

    private void ParseValuePart(Slot slot, bool assign)
    {
        int start = _pos;
        switch (Peek())
        {
            case '{':
            {
                _pos++;
                JsonObject obj;
                JsonNode? existing = assign ? null : slot.Get(this, start);
                if (existing is null)
                {
                    obj = new JsonObject();
                    slot.Set(this, start, obj);
                }
                else if (existing is JsonObject eo) obj = eo;
                else throw Fail(start, $"cannot add a section {{ ... }} to '{slot.Path}', which holds {ConfigValues.Describe(existing)}");
                ParseMembers(obj, slot.LocationPath, '}', start);
                return;
            }
            case '[':
            {
                var elements = ParseArrayElements();
                JsonNode? existing = assign ? null : slot.Get(this, start);
                if (existing is null) slot.Set(this, start, new JsonArray(elements.ToArray()));
                else if (existing is JsonArray ea) foreach (var e in elements) ea.Add(e);
                else throw Fail(start, $"cannot add an array to '{slot.Path}', which holds {ConfigValues.Describe(existing)}");
                return;
            }
            case '(':
                throw Fail(start, "references and functions '(...)' are not supported by Relay's config reader; write the value itself");
            case '$':
                throw Fail(start, "binary values ('$...') are not supported by Relay's config reader");
            default:
            {
                JsonNode? value = ParseScalar();
                JsonNode? existing = assign ? null : slot.Get(this, start);
                slot.Set(this, start, existing is null ? value : Add(existing, value, start));
                return;
            }
        }
    }

    private List<JsonNode?> ParseArrayElements()
    {
        int open = _pos++;
        if (++_depth > MaxDepth) throw Fail(open, $"nested deeper than {MaxDepth} levels");
        var elements = new List<JsonNode?>();
        while (true)
        {
            SkipWs();
            if (AtEnd) throw Fail(_pos, $"expected ']' to close the '[' opened at {LineColumn(open)}, found the end of the file");
            char c = Peek();
            if (c == ']') { _pos++; break; }
            if (c == '}') throw Fail(_pos, "unexpected '}' inside an array");
            var holder = new JsonObject();
            ParseValueList(new Slot(holder, "", null, null), assign: true);
            JsonNode? element = holder[""];
            holder.Remove("");
            elements.Add(element);
            SkipWs();
            if (Peek() == ',') _pos++;
        }
        _depth--;
        return elements;
    }

    private JsonNode? Add(JsonNode existing, JsonNode? value, int pos)
    {
        if (existing is JsonValue a && value is JsonValue b)
        {
            if (a.TryGetValue(out string? sa) && b.TryGetValue(out string? sb)) return JsonValue.Create(sa + sb);
            if (a.TryGetValue(out long la) && b.TryGetValue(out long lb))
            {
                try { return JsonValue.Create(checked(la + lb)); }
                catch (OverflowException) { throw Fail(pos, "the sum is out of range"); }
            }
            if (a.TryGetValue(out double da) && b.TryGetValue(out double db)) return JsonValue.Create(da + db);
        }
        throw Fail(pos, $"cannot add {ConfigValues.Describe(value)} to {ConfigValues.Describe(existing)}");
    }

    private JsonNode? ParseScalar()
    {
        int start = _pos;
        char c = Peek();
        JsonNode? value;
        if (c is '"' or '\'') value = JsonValue.Create(ParseString());
        else if (c is '-' or '+' or '.' || char.IsAsciiDigit(c)) value = ParseNumber();
        else if (IsIdentStart(c))
        {
            string word = ReadIdent();
            switch (word)
            {
                case "true": value = JsonValue.Create(true); break;
                case "false": value = JsonValue.Create(false); break;
                case "null": value = null; break;
                case "NaN": value = JsonValue.Create(double.NaN); break;
                case "Infinity": value = JsonValue.Create(double.PositiveInfinity); break;
                default:
                    throw Fail(start, $"expected a value, found '{word}' (text values need quotes: \"{BareRun(start)}\")");
            }
        }
        else if (AtEnd) throw Fail(start, "expected a value, found the end of the file");
        else throw Fail(start, $"expected a value, found {Show(c)}");
        EnsureDelimiter(start);
        return value;
    }

    /// <summary>
    /// taocpp would start the next member right after a value (`a = 1b = 2`); requiring a separator
    /// instead turns the common mistake `bind = 0.0.0.0` into a helpful message.
    /// </summary>
    private void EnsureDelimiter(int valueStart)
    {
        if (AtEnd) return;
        char c = Peek();
        if (c is ' ' or '\t' or '\r' or '\n' or ',' or '}' or ']' or ')' or '+' or '#' or ';') return;
        if (c == '/' && Peek(1) is '/' or '*') return;
        string hint = _text[valueStart] is '"' or '\'' ? "" : $"; text values need quotes: \"{BareRun(valueStart)}\"";
        throw Fail(_pos, $"unexpected {Show(c)} after {_text[valueStart.._pos]}{hint}");
    }

    private string BareRun(int start)
    {
        int end = start;
        while (end < _text.Length && !char.IsWhiteSpace(_text[end]) && _text[end] is not (',' or '}' or ']' or '#')) end++;
        return _text[start..end];
    }

    private JsonNode ParseNumber()
    {
        int start = _pos;
        bool negative = false;
        if (Peek() is '-' or '+')
        {
            negative = Peek() == '-';
            _pos++;
        }
        if (Peek() == 'N' || Peek() == 'I')
        {
            string word = ReadIdent();
            if (word == "NaN") return JsonValue.Create(double.NaN);
            if (word == "Infinity") return JsonValue.Create(negative ? double.NegativeInfinity : double.PositiveInfinity);
            throw Fail(start, $"expected a number, found '{_text[start.._pos]}'");
        }
        if (Peek() == '0' && Peek(1) is 'x' or 'X')
        {
            _pos += 2;
            int digits = _pos;
            while (char.IsAsciiHexDigit(Peek())) _pos++;
            if (_pos == digits) throw Fail(_pos, "expected hex digits after '0x'");
            if (!ulong.TryParse(_text.AsSpan(digits, _pos - digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong hex))
                throw Fail(start, "number out of range");
            return Integer(hex, negative, start);
        }
        if (Peek() == '0' && char.IsAsciiDigit(Peek(1))) throw Fail(start, "invalid leading zero in a number");
        int intStart = _pos;
        while (char.IsAsciiDigit(Peek())) _pos++;
        bool hasInt = _pos > intStart, isInteger = true;
        if (Peek() == '.')
        {
            isInteger = false;
            _pos++;
            int fracStart = _pos;
            while (char.IsAsciiDigit(Peek())) _pos++;
            if (!hasInt && _pos == fracStart) throw Fail(start, $"expected a number, found '{_text[start.._pos]}'");
        }
        else if (!hasInt)
        {
            throw Fail(start, AtEnd ? "expected digits, found the end of the file" : $"expected digits after '{_text[start.._pos]}', found {Show(Peek())}");
        }
        if (Peek() is 'e' or 'E')
        {
            isInteger = false;
            _pos++;
            if (Peek() is '+' or '-') _pos++;
            int expStart = _pos;
            while (char.IsAsciiDigit(Peek())) _pos++;
            if (_pos == expStart) throw Fail(_pos, "expected digits in the exponent");
        }
        var digitsText = _text.AsSpan(intStart, _pos - intStart);
        if (isInteger)
        {
            if (!ulong.TryParse(digitsText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong magnitude))
                throw Fail(start, "number out of range");
            return Integer(magnitude, negative, start);
        }
        double d = double.Parse(digitsText, NumberStyles.Float, CultureInfo.InvariantCulture);
        return JsonValue.Create(negative ? -d : d);
    }

    private JsonNode Integer(ulong magnitude, bool negative, int start)
    {
        if (!negative) return magnitude <= long.MaxValue ? JsonValue.Create((long)magnitude) : JsonValue.Create(magnitude);
        if (magnitude > (ulong)long.MaxValue + 1) throw Fail(start, "number out of range");
        return JsonValue.Create(magnitude == (ulong)long.MaxValue + 1 ? long.MinValue : -(long)magnitude);
    }

    private string ParseString()
    {
        int start = _pos;
        char quote = Peek();
        if (Peek(1) == quote && Peek(2) == quote) return ParseMultiLineString(quote);
        _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (AtEnd) throw Fail(start, "unterminated string: no closing quote before the end of the file");
            char c = _text[_pos];
            if (c == quote) { _pos++; return sb.ToString(); }
            if (c == '\n' || c == '\r')
                throw Fail(start, "unterminated string: the line ends before the closing quote (use \"\"\" for multi-line text)");
            if (c < 0x20 || c == 0x7F) throw Fail(_pos, "control character in a string; write it as an escape such as \\t");
            if (c != '\\') { sb.Append(c); _pos++; continue; }
            int escapePos = _pos++;
            char e = Peek();
            _pos++;
            switch (e)
            {
                case '"' or '\'' or '\\' or '/': sb.Append(e); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'v': sb.Append('\v'); break;
                case '0': sb.Append('\0'); break;
                case 'u': AppendUnicodeEscape(sb, escapePos); break;
                default:
                    throw Fail(escapePos, AtEnd && e == EndOfFile ? "unterminated string" : $"invalid escape '\\{e}' in a string");
            }
        }
    }

    private void AppendUnicodeEscape(StringBuilder sb, int escapePos)
    {
        if (Peek() == '{')
        {
            _pos++;
            int hexStart = _pos;
            while (char.IsAsciiHexDigit(Peek())) _pos++;
            if (_pos == hexStart || Peek() != '}' || _pos - hexStart > 6)
                throw Fail(escapePos, "invalid \\u{...} escape: expected 1 to 6 hex digits and '}'");
            int cp = int.Parse(_text.AsSpan(hexStart, _pos - hexStart), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            _pos++;
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) throw Fail(escapePos, "\\u{...} escape is not a Unicode scalar value");
            sb.Append(char.ConvertFromUtf32(cp));
            return;
        }
        char unit = ReadHex4(escapePos);
        if (char.IsLowSurrogate(unit)) throw Fail(escapePos, "\\u escape: a low surrogate without a high surrogate before it");
        if (char.IsHighSurrogate(unit))
        {
            if (Peek() != '\\' || Peek(1) != 'u') throw Fail(escapePos, "\\u escape: a high surrogate must be followed by a \\u low surrogate");
            int lowPos = _pos;
            _pos += 2;
            char low = ReadHex4(lowPos);
            if (!char.IsLowSurrogate(low)) throw Fail(lowPos, "\\u escape: expected a low surrogate");
            sb.Append(unit).Append(low);
            return;
        }
        sb.Append(unit);
    }

    private char ReadHex4(int escapePos)
    {
        if (_pos + 4 > _text.Length || !IsHex4(_text.AsSpan(_pos, 4)))
            throw Fail(escapePos, "invalid \\u escape: expected 4 hex digits");
        ushort unit = ushort.Parse(_text.AsSpan(_pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        _pos += 4;
        return (char)unit;
    }

    private static bool IsHex4(ReadOnlySpan<char> s)
    {
        foreach (char c in s) if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }

    private string ParseMultiLineString(char quote)
    {
        int start = _pos;
        _pos += 3;
        if (Peek() == '\r' && Peek(1) == '\n') _pos += 2;
        else if (Peek() == '\n') _pos++;
        string close = new(quote, 3);
        int end = _text.IndexOf(close, _pos, StringComparison.Ordinal);
        if (end < 0) throw Fail(start, "unterminated multi-line string: no closing " + close);
        for (int i = _pos; i < end; i++)
        {
            char c = _text[i];
            if ((c < 0x20 && c is not ('\t' or '\n' or '\r')) || c == 0x7F) throw Fail(i, "control character in a string");
        }
        string s = _text[_pos..end];
        _pos = end + 3;
        return s;
    }

    private static bool IsIdentStart(char c) => char.IsAsciiLetter(c) || c == '_';
    private static bool IsIdentPart(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-';

    private string ReadIdent()
    {
        int start = _pos;
        _pos++;
        while (IsIdentPart(Peek())) _pos++;
        return _text[start.._pos];
    }

    private bool AtWord(string word) =>
        string.CompareOrdinal(_text, _pos, word, 0, word.Length) == 0 && !IsIdentPart(Peek(word.Length));

    private void SkipWs()
    {
        while (!AtEnd)
        {
            char c = _text[_pos];
            if (c is ' ' or '\t' or '\n' or '\r') { _pos++; continue; }
            if (c == '#' || (c == '/' && Peek(1) == '/'))
            {
                int nl = _text.IndexOf('\n', _pos);
                _pos = nl < 0 ? _text.Length : nl + 1;
                continue;
            }
            if (c == '/' && Peek(1) == '*')
            {
                int close = _text.IndexOf("*/", _pos + 2, StringComparison.Ordinal);
                if (close < 0) throw Fail(_pos, "unterminated /* comment: no closing */");
                _pos = close + 2;
                continue;
            }
            if (c == '/') throw Fail(_pos, "a single '/' is not valid here; comments start with '//', '/*' or '#'");
            if (c == ';') throw Fail(_pos, "';' is not a separator in this format; use a new line or ','");
            return;
        }
    }

    private static string Show(char c) => c switch
    {
        EndOfFile => "the end of the file",
        '\'' => "\"'\"",
        _ when c < 0x20 || c == 0x7F => $"the control character U+{(int)c:X4}",
        _ => $"'{c}'",
    };

    private ConfigLocation Location(int pos)
    {
        _lineStarts ??= LineStarts(_text);
        int line = Array.BinarySearch(_lineStarts, pos);
        if (line < 0) line = ~line - 1;
        return new ConfigLocation(_source, line + 1, pos - _lineStarts[line] + 1);
    }

    private string LineColumn(int pos)
    {
        var where = Location(pos);
        return $"{where.Line}:{where.Column}";
    }

    private static int[] LineStarts(string text)
    {
        var starts = new List<int> { 0 };
        for (int i = 0; i < text.Length; i++) if (text[i] == '\n') starts.Add(i + 1);
        return starts.ToArray();
    }

    private ConfigException Fail(int pos, string problem) => ConfigException.At(Location(pos), problem);

    /// <summary>A place a value goes: a member of an object or an element of an array.</summary>
    private readonly struct Slot(JsonNode container, string? name, int? index, string? locationPath)
    {
        /// <summary>The dotted key path, or null inside arrays (no positions are kept there).</summary>
        public string? LocationPath => locationPath;
        public string Path => locationPath ?? name ?? index?.ToString(CultureInfo.InvariantCulture) ?? "";

        public JsonNode? Get(TaoConfigReader r, int pos)
        {
            if (container is JsonObject obj)
            {
                if (name is null) throw r.Fail(pos, $"'{index}' is an array index, but this is a section");
                return obj.TryGetPropertyValue(name, out var v) ? v : null;
            }
            var arr = (JsonArray)container;
            if (index is not int i) throw r.Fail(pos, $"'{name}' is a name, but this is an array (use an index)");
            if (i >= arr.Count) throw r.Fail(pos, $"index {i} is past the end of an array of {arr.Count}");
            return arr[i];
        }

        public void Set(TaoConfigReader r, int pos, JsonNode? value)
        {
            if (container is JsonObject obj)
            {
                if (name is null) throw r.Fail(pos, $"'{index}' is an array index, but this is a section");
                obj[name] = value;
                return;
            }
            var arr = (JsonArray)container;
            if (index is not int i) throw r.Fail(pos, $"'{name}' is a name, but this is an array (use an index)");
            if (i >= arr.Count) throw r.Fail(pos, $"index {i} is past the end of an array of {arr.Count}");
            arr[i] = value;
        }

        public void Remove(TaoConfigReader r, int pos)
        {
            if (container is JsonObject obj && name is not null) { obj.Remove(name); return; }
            throw r.Fail(pos, "'delete' of array elements is not supported");
        }

        public void Record(ConfigDocument doc, ConfigLocation where)
        {
            if (locationPath is not null) doc.Locations[locationPath] = where;
        }
    }
}
