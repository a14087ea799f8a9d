using System.Runtime.CompilerServices;
using ZstdSharp.Unsafe;

namespace Relay.Native.Storage.Payloads;

/// <summary>
/// Decompresses stored payloads on one thread into one reusable buffer, so serving a compressed
/// event allocates nothing once the buffer has grown to the largest event seen. The span handed
/// out points into that buffer: it is valid until the same thread decodes another payload.
/// </summary>
internal static class PayloadDecoder
{
    [ThreadStatic] private static ZstdDecoder? t_decoder;

    public static ZstdDecoder ForThisThread => t_decoder ??= new ZstdDecoder(magicless: true);

    public static int ContentSize(ReadOnlySpan<byte> frame) => ZstdDecoder.ContentSize(frame, magicless: true) is long size and >= 0 and <= int.MaxValue
        ? (int)size
        : throw new PayloadFormatException("a stored zstd frame does not record its content size");
}

/// <summary>A zstd decompression context and its output buffer; one thread at a time.</summary>
internal sealed unsafe class ZstdDecoder
{
    private const int MaxUnknownSize = 64 * 1024 * 1024;

    private readonly ZSTD_DCtx_s* _dctx;
    private readonly bool _magicless;
    private byte[] _buffer = new byte[16 * 1024];

    /// <param name="magicless">Relay's stored frames omit the magic number; strfry's keep it.</param>
    public ZstdDecoder(bool magicless)
    {
        _magicless = magicless;
        _dctx = Methods.ZSTD_createDCtx();
        if (_dctx == null) throw new OutOfMemoryException("zstd could not make a decompression context");
        if (magicless) Zstd.Check(Methods.ZSTD_DCtx_setParameter(_dctx, ZstdFormat.DecompressionParameter, ZstdFormat.Magicless), "setting the frame format");
    }

    // The thread (or reader) that owned it is gone once the decoder is unreachable.
    ~ZstdDecoder() => Methods.ZSTD_freeDCtx(_dctx);

    /// <summary>The content size recorded in the frame header; -1 when the frame does not record it.</summary>
    public static long ContentSize(ReadOnlySpan<byte> frame, bool magicless)
    {
        ZSTD_frameHeader header;
        nuint rc;
        fixed (byte* src = frame)
        {
            rc = Methods.ZSTD_getFrameHeader_advanced(&header, src, (nuint)frame.Length,
                magicless ? ZSTD_format_e.ZSTD_f_zstd1_magicless : ZSTD_format_e.ZSTD_f_zstd1);
        }
        if (rc != 0) throw new PayloadFormatException(Methods.ZSTD_isError(rc) ? $"damaged zstd frame header: {Zstd.ErrorName(rc)}" : "truncated zstd frame header");
        return header.frameContentSize == ulong.MaxValue ? -1 : (long)Math.Min(header.frameContentSize, long.MaxValue);
    }

    /// <summary>Decompresses one frame; the result is valid until the next call.</summary>
    /// <param name="dictionary">null for frames compressed without a dictionary.</param>
    public ReadOnlySpan<byte> Decode(ReadOnlySpan<byte> frame, ZstdDictionary? dictionary)
    {
        long size = ContentSize(frame, _magicless);
        if (size > MaxUnknownSize) throw new PayloadFormatException($"a zstd frame claims {size} bytes of content");
        if (size > _buffer.Length) _buffer = new byte[Math.Max((int)size, _buffer.Length * 2)];
        while (true)
        {
            nuint written;
            fixed (byte* src = frame)
            fixed (byte* dst = _buffer)
            {
                written = Methods.ZSTD_decompress_usingDDict(_dctx, dst, (nuint)_buffer.Length, src, (nuint)frame.Length,
                    dictionary is null ? null : dictionary.DDict);
            }
            GC.KeepAlive(dictionary);
            if (!Methods.ZSTD_isError(written))
            {
                if (size >= 0 && (long)written != size) throw new PayloadFormatException($"a zstd frame decompressed to {written} bytes, its header says {size}");
                return _buffer.AsSpan(0, (int)written);
            }
            // Only frames that do not record their size can outgrow the buffer; retry those larger.
            if (size >= 0 || Methods.ZSTD_getErrorCode(written) != ZSTD_ErrorCode.ZSTD_error_dstSize_tooSmall || _buffer.Length >= MaxUnknownSize)
                throw new PayloadFormatException($"zstd could not decompress a payload: {Zstd.ErrorName(written)}");
            _buffer = new byte[_buffer.Length * 2];
        }
    }
}

/// <summary>The frame settings shared by the compressor and the decoder.</summary>
internal static class ZstdFormat
{
    // zstd.h: ZSTD_c_format / ZSTD_d_format are "experimental" parameters, named by number here.
    public const ZSTD_cParameter CompressionParameter = ZSTD_cParameter.ZSTD_c_experimentalParam2;
    public const ZSTD_dParameter DecompressionParameter = ZSTD_dParameter.ZSTD_d_experimentalParam1;
    public const int Magicless = (int)ZSTD_format_e.ZSTD_f_zstd1_magicless;
}

internal static unsafe class Zstd
{
    public static void Check(nuint rc, string what)
    {
        if (Methods.ZSTD_isError(rc)) throw new PayloadFormatException($"zstd failed {what}: {ErrorName(rc)}");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static string ErrorName(nuint rc) => new string(Methods.ZSTD_getErrorName(rc));
}
