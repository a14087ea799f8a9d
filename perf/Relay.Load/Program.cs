using Relay.Load.Cli;
using Relay.Load.Commands;
using Relay.Load.SelfTest;

const string Usage = """
    relay-load: load generator for Nostr relays (any ws:// URL)

      generate    --out events.bin --count 200000 --seed 1 [--authors 5000] [--threads N]
      export      --events events.bin --out events.jsonl [--from N] [--count N]   JSON lines for `strfry import` / `relay import`
      verify      --events events.bin [--sample 2000]
      commit-latency --dir DIR [--count 100] [--batch 64]   durable LMDB commit time on this disk
      ingest      --url ws://127.0.0.1:7777 --events events.bin --connections 16 --window 64
                  [--rate N/s] [--from N] [--count N] [--duration 60s] [--timeout 10s] [--metrics-url http://host:port/metrics]
                  [--progress-every 100k]
      query       --url ... --events events.bin --connections 4 --window 8 --duration 30s [--mix default|feed150]
                  [--loaded N] [--seed 1] [--count N]
      query       --events events.bin [--mix feed150] [--loaded N] --estimate 5000 | --print-reqs 20   (no relay)
      connections --url ... --count 15000 [--subscribe] [--pid <relay pid>] [--hold 10s] [--concurrency 200]
      fanout      --url ... --subscribers 1000 --events 200 --rate 50 [--grace 10s]
      compare     --dir perf/results --other LABEL --scenarios a,b --out FILE.md [--this-label Relay] [--other-label NAME]

      common: --report-dir perf/results  --name <scenario label>
      relay under test (ingest, query, fanout): --pid <relay pid> [--db-dir <dir of its data.mdb>]
    """;

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

try
{
    var options = new CliArgs(args.AsSpan(1));
    return args[0] switch
    {
        "generate" => GenerateCommand.Run(options),
        "export" => ExportCommand.Run(options),
        "verify" => VerifyCommand.Run(options),
        "compare" => CompareCommand.Run(options),
        "commit-latency" => CommitLatencyCommand.Run(options),
        "ingest" => await IngestCommand.RunAsync(options),
        "query" => await QueryCommand.RunAsync(options),
        "connections" => await ConnectionsCommand.RunAsync(options),
        "fanout" => await FanoutCommand.RunAsync(options),
        "selftest" => await SelfTestCommand.RunAsync(options),
        "fake-relay" => await FakeRelayCommand.RunAsync(options),
        _ => throw new CliException($"unknown command '{args[0]}'"),
    };
}
catch (CliException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}
