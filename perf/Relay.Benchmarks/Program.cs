using BenchmarkDotNet.Running;
using Relay.Benchmarks;

if (args.Length == 1 && args[0] == "negentropy-writer-cpu")
{
    NegentropyWriterCpu.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
