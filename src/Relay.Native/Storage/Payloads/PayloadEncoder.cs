using ZstdSharp.Unsafe;

namespace Relay.Native.Storage.Payloads;

/// <summary>
/// Compresses event JSON with one dictionary at one level into the stored form
/// (<see cref="StoredPayload"/>). For the offline compression command; not thread-safe.
/// </summary>
internal sealed unsafe class PayloadEncoder : IDisposable
{
    private readonly ZSTD_CCtx_s* _cctx;
    private readonly ZSTD_CDict_s* _cdict;
    private readonly uint _dictId;
    private byte[] _buffer = new byte[16 * 1024];
    private bool _disposed;

    /// <param name="dictionary">null compresses without a dictionary (dictId 0).</param>
    public PayloadEncoder(ZstdDictionary? dictionary, int level)
    {
        _dictId = dictionary?.Id ?? StoredPayload.NoDictionary;
        _cctx = Methods.ZSTD_createCCtx();
        if (_cctx == null) throw new OutOfMemoryException("zstd could not make a compression context");
        try
        {
            Zstd.Check(Methods.ZSTD_CCtx_setParameter(_cctx, ZSTD_cParameter.ZSTD_c_compressionLevel, level), "setting the level");
            Zstd.Check(Methods.ZSTD_CCtx_setParameter(_cctx, ZstdFormat.CompressionParameter, ZstdFormat.Magicless), "setting the frame format");
            // The stored header names the dictionary; zstd's own copy of the id would be 4 more bytes.
            Zstd.Check(Methods.ZSTD_CCtx_setParameter(_cctx, ZSTD_cParameter.ZSTD_c_dictIDFlag, 0), "dropping the dictionary id");
            Zstd.Check(Methods.ZSTD_CCtx_setParameter(_cctx, ZSTD_cParameter.ZSTD_c_contentSizeFlag, 1), "keeping the content size");
            Zstd.Check(Methods.ZSTD_CCtx_setParameter(_cctx, ZSTD_cParameter.ZSTD_c_checksumFlag, 0), "dropping the checksum");
            if (dictionary is not null)
            {
                fixed (byte* d = dictionary.Content) _cdict = Methods.ZSTD_createCDict(d, (nuint)dictionary.Content.Length, level);
                if (_cdict == null) throw new PayloadFormatException($"zstd could not load dictionary {dictionary.Id} for compression");
                Zstd.Check(Methods.ZSTD_CCtx_refCDict(_cctx, _cdict), "attaching the dictionary");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public uint DictionaryId => _dictId;

    /// <summary>The stored form of <paramref name="json"/>; valid until the next call.</summary>
    public ReadOnlySpan<byte> Encode(ReadOnlySpan<byte> json)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int bound = StoredPayload.HeaderSize + (int)Methods.ZSTD_compressBound((nuint)json.Length);
        if (bound > _buffer.Length) _buffer = new byte[Math.Max(bound, _buffer.Length * 2)];
        StoredPayload.WriteHeader(_buffer, _dictId);
        nuint written;
        fixed (byte* src = json)
        fixed (byte* dst = &_buffer[StoredPayload.HeaderSize])
        {
            written = Methods.ZSTD_compress2(_cctx, dst, (nuint)(_buffer.Length - StoredPayload.HeaderSize), src, (nuint)json.Length);
        }
        Zstd.Check(written, "compressing a payload");
        return _buffer.AsSpan(0, StoredPayload.HeaderSize + (int)written);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_cdict != null) Methods.ZSTD_freeCDict(_cdict);
        if (_cctx != null) Methods.ZSTD_freeCCtx(_cctx);
    }
}
