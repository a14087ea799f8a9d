using Relay.Load.Cli;
using Relay.Load.SelfTest;

namespace Relay.Load.Commands;

/// <summary>
/// Hidden <c>fake-relay [--duration 60s]</c>: runs the self-test relay on 127.0.0.1 (random port) so the
/// scenarios can be tried from the command line, and the tool's own ceiling measured, before a real relay exists.
/// </summary>
public static class FakeRelayCommand
{
    public static async Task<int> RunAsync(CliArgs args)
    {
        TimeSpan duration = args.GetDuration("duration", TimeSpan.FromSeconds(60));
        args.RejectUnknown();
        await using var relay = new FakeRelay();
        Console.WriteLine($"fake relay listening on {relay.Url} for {duration.TotalSeconds:0} s");
        using var cancel = CommandContext.CancelOnCtrlC();
        try { await Task.Delay(duration, cancel.Token).ConfigureAwait(false); } catch (OperationCanceledException) { }
        foreach (string error in relay.Errors) Console.WriteLine("error: " + error);
        return relay.Errors.IsEmpty ? 0 : 1;
    }
}
