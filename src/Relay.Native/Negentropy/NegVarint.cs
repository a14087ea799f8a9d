namespace Relay.Native.Negentropy;

/// <summary>Negentropy varints: base-128, most significant digit first, continuation bit on all but the last byte.</summary>
public static class NegVarint
{
    /// <summary>ceil(64 / 7): the longest encoding of a u64.</summary>
    public const int MaxLength = 10;

    public static int Length(ulong value)
    {
        int length = 1;
        while ((value >>= 7) != 0) length++;
        return length;
    }

    /// <summary>Writes <paramref name="value"/> at the start of <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Write(Span<byte> destination, ulong value)
    {
        int length = Length(value);
        for (int i = length - 1; i >= 0; i--)
        {
            destination[i] = (byte)((value & 0x7F) | (i == length - 1 ? 0u : 0x80u));
            value >>= 7;
        }
        return length;
    }

    /// <summary>Reads one varint at <paramref name="position"/> and moves past it; strict about length and minimality.</summary>
    public static NegError TryRead(ReadOnlySpan<byte> source, ref int position, out ulong value)
    {
        value = 0;
        int pos = position;
        if (pos >= source.Length) return NegError.Truncated;
        // A leading 0x80 is a zero digit: the same number has a shorter encoding.
        if (source[pos] == 0x80) return NegError.VarintNotMinimal;
        ulong result = 0;
        while (true)
        {
            if (pos >= source.Length) return NegError.Truncated;
            byte b = source[pos++];
            if ((result >> 57) != 0) return NegError.VarintOverflow;
            result = (result << 7) | (uint)(b & 0x7F);
            if ((b & 0x80) == 0) break;
        }
        value = result;
        position = pos;
        return NegError.None;
    }
}
