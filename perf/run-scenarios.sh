#!/usr/bin/env bash
# Runs the load scenarios of perf/RESULTS.md against the Native AOT relay on this machine, with the
# load generator on the same machine. Each scenario starts from a fresh database (the query scenario
# first ingests 100k events). Reports land in perf/results/<name>.{json,md}.
#
#   perf/run-scenarios.sh [scenario...]     scenarios: commit ingest16 ingest1 query connections fanout startup
set -euo pipefail
cd "$(dirname "$0")/.."

RESULTS=perf/results
DB=$RESULTS/db
EVENTS=${EVENTS:-$RESULTS/events-200k.bin}
CONFIG=perf/perf-config.json
URL=ws://127.0.0.1:7777
mkdir -p "$RESULTS"

scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(commit ingest16 ingest1 query connections fanout startup)

echo "== building the AOT relay and the load tool"
dotnet publish src/Relay.Server -c Release -o publish/relay >/dev/null
dotnet build perf/Relay.Load -c Release >/dev/null
LOAD=(dotnet perf/Relay.Load/bin/Release/net10.0/relay-load.dll)
RELAY=publish/relay/relay

if [ ! -f "$EVENTS" ]; then
  echo "== generating 200k signed events (once)"
  "${LOAD[@]}" generate --out "$EVENTS" --count 200000 --seed 1
fi

RELAY_PID=""
start_relay() {
  rm -rf "$DB"
  "$RELAY" --config "$CONFIG" 2>>"$RESULTS/relay.log" &
  RELAY_PID=$!
  for _ in $(seq 1 500); do
    if (exec 3<>/dev/tcp/127.0.0.1/7777) 2>/dev/null; then return 0; fi
    sleep 0.01
  done
  echo "relay did not start"; exit 1
}
stop_relay() {
  if [ -n "$RELAY_PID" ]; then kill "$RELAY_PID" 2>/dev/null || true; wait "$RELAY_PID" 2>/dev/null || true; RELAY_PID=""; fi
}
trap stop_relay EXIT

metrics() { curl -s http://127.0.0.1:7777/metrics | grep -E '^(relay_process_allocated_bytes_total|relay_gc_collections_total|strfry_write_events_total|relay_process_working_set_bytes)' || true; }

for s in "${scenarios[@]}"; do
  case "$s" in
    commit)
      echo "== durable LMDB commit latency on this disk"
      "${LOAD[@]}" commit-latency --dir "$RESULTS/commit-db" --count 100 --batch 64 --report-dir "$RESULTS" --name commit-latency
      ;;
    ingest16)
      start_relay
      echo "== ingest: 16 connections, window 64, 200k events"
      metrics > "$RESULTS/ingest16.metrics.before"
      "${LOAD[@]}" ingest --url "$URL" --events "$EVENTS" --connections 16 --window 64 --count 200000 --duration 120s --metrics-url http://127.0.0.1:7777/metrics --report-dir "$RESULTS" --name ingest16
      metrics > "$RESULTS/ingest16.metrics.after"
      stop_relay
      ;;
    ingest1)
      start_relay
      echo "== ingest: 1 connection, window 64, 20k events"
      "${LOAD[@]}" ingest --url "$URL" --events "$EVENTS" --connections 1 --window 64 --count 20000 --duration 60s --report-dir "$RESULTS" --name ingest1
      stop_relay
      ;;
    query)
      start_relay
      echo "== query: ingest 100k, then 4 connections x window 8 for 30 s"
      "${LOAD[@]}" ingest --url "$URL" --events "$EVENTS" --connections 16 --window 64 --count 100000 --duration 120s --report-dir "$RESULTS" --name query-preload
      "${LOAD[@]}" query --url "$URL" --events "$EVENTS" --connections 4 --window 8 --duration 30s --report-dir "$RESULTS" --name query
      stop_relay
      ;;
    connections)
      start_relay
      echo "== connections: 15000 idle connections with one subscription each"
      "${LOAD[@]}" connections --url "$URL" --count 15000 --subscribe --pid "$RELAY_PID" --hold 10s --report-dir "$RESULTS" --name connections
      stop_relay
      ;;
    fanout)
      start_relay
      echo "== fanout: 1000 subscribers, 200 events at 50/s"
      "${LOAD[@]}" fanout --url "$URL" --subscribers 1000 --events 200 --rate 50 --report-dir "$RESULTS" --name fanout
      stop_relay
      ;;
    startup)
      echo "== startup: exec to first accepted TCP connection, empty DB (5 runs)"
      for i in 1 2 3 4 5; do
        rm -rf "$DB"
        t0=$(date +%s%N)
        "$RELAY" --config "$CONFIG" 2>>"$RESULTS/relay.log" &
        RELAY_PID=$!
        until (exec 3<>/dev/tcp/127.0.0.1/7777) 2>/dev/null; do :; done
        t1=$(date +%s%N)
        echo "startup run $i: $(( (t1 - t0) / 1000 )) us"
        stop_relay
      done | tee "$RESULTS/startup.txt"
      ;;
    *) echo "unknown scenario $s"; exit 2 ;;
  esac
done
