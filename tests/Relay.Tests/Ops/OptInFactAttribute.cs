namespace Relay.Tests.Ops;

/// <summary>
/// A test that needs tools beyond scripts/setup.sh (nginx, promtool, npm packages): it runs when the
/// named environment variable is 1 and is reported as skipped, with the way to run it, otherwise.
/// </summary>
public sealed class OptInFactAttribute : FactAttribute
{
    public OptInFactAttribute(string variable, string how)
    {
        if (Environment.GetEnvironmentVariable(variable) != "1")
            Skip = $"opt-in: {how}, then set {variable}=1";
    }
}
