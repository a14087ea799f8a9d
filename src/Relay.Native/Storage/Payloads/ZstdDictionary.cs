using ZstdSharp.Unsafe;

namespace Relay.Native.Storage.Payloads;

/// <summary>
/// One trained dictionary, digested once for decompression. zstd's DDict is read-only after it is
/// made, so every thread shares it. It is freed by the finalizer only, never explicitly: a reader
/// on another thread may be using it, and the GC knows when none is.
/// </summary>
internal sealed unsafe class ZstdDictionary
{
    private readonly ZSTD_DDict_s* _ddict;

    public ZstdDictionary(uint id, byte[] content)
    {
        Id = id;
        Content = content;
        fixed (byte* p = content) _ddict = Methods.ZSTD_createDDict(p, (nuint)content.Length);
        if (_ddict == null) throw new PayloadFormatException($"zstd could not load dictionary {id} ({content.Length} bytes)");
    }

    public uint Id { get; }

    /// <summary>The dictionary as stored (zstd's format: magic, entropy tables, content).</summary>
    public byte[] Content { get; }

    internal ZSTD_DDict_s* DDict => _ddict;

    ~ZstdDictionary() => Methods.ZSTD_freeDDict(_ddict);
}
