namespace Relay.Server.Commands;

/// <summary>
/// Splits a byte stream into lines (JSONL) without decoding it: each line is handed out as a slice
/// of one reused buffer, valid until the next call. A final line without a newline still counts
/// (strfry drops its last byte). A line longer than <see cref="MaxLineLength"/> is skipped through
/// to its end without being buffered whole, so one giant line cannot exhaust memory.
/// </summary>
internal sealed class JsonLineReader
{
    private readonly Stream _stream;
    private byte[] _buffer = new byte[1 << 20];
    private int _start, _end;
    private bool _eof;

    public JsonLineReader(Stream stream, int maxLineLength)
    {
        _stream = stream;
        MaxLineLength = maxLineLength;
    }

    public int MaxLineLength { get; }

    /// <summary>Lines handed out so far (1-based number of the last one).</summary>
    public long LineNumber { get; private set; }

    /// <summary>
    /// Called before a read that may block (a pipe or terminal with no complete line buffered), so the
    /// caller can first finish what it holds instead of sitting on it while the producer is idle.
    /// </summary>
    public Action? BeforeWait { get; set; }

    private bool MayBlock => !_stream.CanSeek;

    /// <summary>
    /// The next line without its line ending, or false at the end of input. When
    /// <paramref name="tooLong"/> is true the line was longer than the limit and
    /// <paramref name="line"/> is empty.
    /// </summary>
    public bool TryReadLine(out ReadOnlyMemory<byte> line, out bool tooLong)
    {
        tooLong = false;
        int scanFrom = _start;
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', scanFrom, _end - scanFrom);
            if (newline >= 0)
            {
                line = Trim(_start, newline);
                _start = newline + 1;
                LineNumber++;
                if (line.Length > MaxLineLength)
                {
                    line = default;
                    tooLong = true;
                }
                return true;
            }
            if (_end - _start > MaxLineLength)
            {
                SkipRestOfLine();
                line = default;
                tooLong = true;
                LineNumber++;
                return true;
            }
            if (_eof)
            {
                if (_start == _end)
                {
                    line = default;
                    return false;
                }
                line = Trim(_start, _end);
                _start = _end;
                LineNumber++;
                if (line.Length > MaxLineLength)
                {
                    line = default;
                    tooLong = true;
                }
                return true;
            }
            scanFrom = _end;
            Fill(ref scanFrom);
        }
    }

    private ReadOnlyMemory<byte> Trim(int start, int end)
    {
        if (end > start && _buffer[end - 1] == (byte)'\r') end--;
        return _buffer.AsMemory(start, end - start);
    }

    /// <summary>Reads more input after what is buffered, moving the unfinished line to the front or growing the buffer first.</summary>
    private void Fill(ref int scanFrom)
    {
        if (_start > 0)
        {
            int kept = _end - _start;
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, kept);
            scanFrom -= _start;
            _start = 0;
            _end = kept;
        }
        if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
        if (MayBlock) BeforeWait?.Invoke();
        int n = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (n == 0) _eof = true;
        _end += n;
    }

    private void SkipRestOfLine()
    {
        _start = _end = 0;
        while (!_eof)
        {
            int n = _stream.Read(_buffer, 0, _buffer.Length);
            if (n == 0)
            {
                _eof = true;
                return;
            }
            int newline = Array.IndexOf(_buffer, (byte)'\n', 0, n);
            if (newline >= 0)
            {
                _start = newline + 1;
                _end = n;
                return;
            }
        }
    }
}
