using LightningDB;
using Relay.Native.Storage;

namespace Relay.Tests.Storage;

public class LmdbVersionTests
{
    [Fact]
    public void The_loaded_lmdb_is_the_1_0_x_compiled_by_the_build()
    {
        LmdbLoader.Install();
        using var env = new LightningEnvironment(Path.Combine(Path.GetTempPath(), "relay-lmdb-version-" + Guid.NewGuid().ToString("N")));
        Assert.Equal(1, env.Version.Major);
        Assert.Equal(0, env.Version.Minor);
        LmdbLoader.EnsureSupportedVersion(env);
    }

    [Theory]
    [InlineData(0, 9, 24)]   // Debian's liblmdb0: another on-disk format
    [InlineData(1, 1, 0)]
    [InlineData(2, 0, 0)]
    public void Other_lmdb_versions_are_refused_with_a_clear_message(int major, int minor, int patch)
    {
        var e = Assert.Throws<NotSupportedException>(() => LmdbLoader.EnsureSupportedVersion(major, minor, patch));
        Assert.Contains($"LMDB {major}.{minor}.{patch}", e.Message);
        Assert.Contains("1.0.x", e.Message);
    }
}
