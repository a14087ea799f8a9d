using System.Reflection;
using System.Runtime.InteropServices;
using LightningDB;

namespace Relay.Native.Storage;

/// <summary>
/// Makes LightningDB use the LMDB 1.0.x that our build compiles (librelay_lmdb.so beside the
/// assemblies), never the package's glibc-2.38 binary or a system LMDB 0.9. Under Native AOT the
/// library is linked statically (DirectPInvoke), and the resolver is never consulted.
/// </summary>
public static class LmdbLoader
{
    private static int _installed;

    public static void Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1) return;
        NativeLibrary.SetDllImportResolver(typeof(LightningEnvironment).Assembly, Resolve);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != "lmdb") return IntPtr.Zero;
        string path = Path.Combine(AppContext.BaseDirectory, "librelay_lmdb.so");
        if (!File.Exists(path))
            throw new DllNotFoundException($"LMDB library not found at {path}; it is compiled by the Relay.Native build (gcc required).");
        return NativeLibrary.Load(path);
    }

    /// <summary>Throws unless the loaded LMDB is 1.0.x: other versions have another on-disk format.</summary>
    public static void EnsureSupportedVersion(LightningEnvironment env)
    {
        var v = env.Version;
        EnsureSupportedVersion(v.Major, v.Minor, v.Patch);
    }

    public static void EnsureSupportedVersion(int major, int minor, int patch)
    {
        if (major != 1 || minor != 0)
            throw new NotSupportedException($"LMDB {major}.{minor}.{patch} is loaded, but Relay needs LMDB 1.0.x (its on-disk format); refusing to open the database.");
    }
}
