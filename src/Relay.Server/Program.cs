using Relay.Server.Commands;

namespace Relay.Server;

public static class Program
{
    public static int Main(string[] args) => Cli.Run(args);
}
