using System.Runtime.CompilerServices;
using ZstdSharp.Unsafe;

namespace Relay.Native.Storage.Payloads;

/// <summary>
/// Decompresses stored payloads on one thread into one reusable buffer, so serving a compressed
/// event allocates nothing once the buffer has grown to the largest event seen. The span handed
/// out points into that buffer: it is valid until the same thread decodes another payload.
/// </summary>
internal sealed unsafe class PayloadDecoder
{
    [ThreadStatic] private static PayloadDecoder? t_decoder;

    private readonly ZSTD_DCtx_s* _dctx;
    private byte[] _buffer = new byte[16 * 1024];

    private PayloadDecoder()
    {
        _dctx = Methods.ZSTD_createDCtx();
        if (_dctx == null) throw new OutOfMemoryException("zstd could not make a decompression context");
        Zstd.Check(Methods.ZSTD_DCtx_setParameter(_dctx, ZstdFormat.DecompressionParameter, ZstdFormat.Magicless), "setting the frame format");
    }

    // The thread that owned it is gone once the decoder is unreachable.
    ~PayloadDecoder() => Methods.ZSTD_freeDCtx(_dctx);

    public static PayloadDecoder ForThisThread => t_decoder ??= new PayloadDecoder();

    /// <summary>The original length recorded in the frame header (no decompression).</summary>
    public static int ContentSize(ReadOnlySpan<byte> frame)
    {
        ZSTD_frameHeader header;
        nuint rc;
        fixed (byte* src = frame) rc = Methods.ZSTD_getFrameHeader_advanced(&header, src, (nuint)frame.Length, ZSTD_format_e.ZSTD_f_zstd1_magicless);
        if (rc != 0) throw new PayloadFormatException(Methods.ZSTD_isError(rc) ? $"damaged zstd frame header: {Zstd.ErrorName(rc)}" : "truncated zstd frame header");
        if (header.frameContentSize > int.MaxValue) throw new PayloadFormatException("zstd frame does not record its content size");
        return (int)header.frameContentSize;
    }

    /// <param name="dictionary">null for frames compressed without a dictionary.</param>
    public ReadOnlySpan<byte> Decode(ReadOnlySpan<byte> frame, ZstdDictionary? dictionary)
    {
        int size = ContentSize(frame);
        if (size > _buffer.Length) _buffer = new byte[Math.Max(size, _buffer.Length * 2)];
        nuint written;
        fixed (byte* src = frame)
        fixed (byte* dst = _buffer)
        {
            written = Methods.ZSTD_decompress_usingDDict(_dctx, dst, (nuint)_buffer.Length, src, (nuint)frame.Length,
                dictionary is null ? null : dictionary.DDict);
        }
        GC.KeepAlive(dictionary);
        if (Methods.ZSTD_isError(written)) throw new PayloadFormatException($"zstd could not decompress a payload: {Zstd.ErrorName(written)}");
        if ((int)written != size) throw new PayloadFormatException($"a payload decompressed to {written} bytes, its header says {size}");
        return _buffer.AsSpan(0, size);
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
