using Relay.Native.Events;

namespace Relay.Tests;

public class SmokeTests
{
    [Fact]
    public void Hex_round_trips_lowercase_only()
    {
        Span<byte> b = stackalloc byte[2];
        Assert.True(Hex.TryDecodeLower("0aff"u8, b));
        Assert.Equal("0aff", Hex.Encode(b));
        Assert.False(Hex.TryDecodeLower("0AFF"u8, b));
    }
}
