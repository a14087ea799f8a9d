#!/usr/bin/env bash
# Runs the load scenarios of perf/RESULTS.md against the Native AOT relay on this machine, with the
# load generator on the same machine. Each scenario starts from a fresh database. Reports land in
# perf/results/<scenario>.{json,md}; with --compare, the other relay's in <scenario>.<label>.{json,md}
# and the ratio table in perf/results/compare-<date>.md.
#
#   perf/run-scenarios.sh [--compare BIN | --at REV] [--label NAME] [--smoke] [scenario...]
#
#   scenarios (default: commit ingest16 ingest1 query query150 connections fanout startup)
#     commit       durable LMDB commit latency on this disk (Relay's EventStore only)
#     ingest16     16 connections x window 64, 200k events            ingest1   1 x 64, 20k events
#     query        default mix, 4 x 8 for 30 s over 100k events (preloaded by ingest, as in RESULTS.md)
#     query150     feed150 mix (~150 events per REQ), 4 x 8 for 30 s over 100k events (pre-filled)
#     connections  15,000 connections with one subscription each      fanout    1,000 subscribers, 200 events at 50/s
#     startup      exec to first accepted TCP connection, empty DB, 5 runs
#     1M events, 20,000 authors (run only when named; `all1m` names all four):
#     fill1m       ingest 1M events into an empty DB, 16 x 64, a progress row per 100k events
#     ingest1m     16 x 64, 200k new events into a pre-filled 1M-event DB
#     query1m      feed150 mix, 4 x 8 for 30 s over the pre-filled 1M-event DB
#     fanout1m     the fanout scenario on the pre-filled 1M-event DB
#
#   --compare BIN  after each scenario on Relay, run it on BIN with a fresh DB: strfry (detected by
#                  `BIN --version`; it gets a generated strfry.conf equal to perf/perf-config.json) or
#                  a Relay binary (same perf-config.json); then write the Relay / BIN ratio table.
#   --at REV       build Relay at git revision REV (git worktree + dotnet publish into
#                  ${TMPDIR:-/tmp}/relay-at-<sha>, kept for reuse) and compare with it.
#   --label NAME   name of the other relay in file names and tables (default: strfry, other, at-<sha>).
#   --smoke        tiny counts and a 6k-event corpus, reports in perf/results/smoke/: checks the
#                  tooling in a minute, measures nothing.
#
#   Pre-filled DBs (query150, ingest1m, query1m, fanout1m) are made once per relay binary and events
#   file and cached in perf/results/prefill/: by `BIN import --no-verify` of a JSONL export of the
#   corpus when the binary has an import command (strfry; Relay once `relay import` exists), else by
#   the ingest scenario over WebSockets. PREFILL=import|ingest forces one way.
#   Environment: EVENTS (200k-event file), EVENTS_1M (1.2M events, 20,000 authors; generated if absent),
#   PERF_PORT (default 7777, perf-config.json's).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

COMPARE_BIN="" AT_REV="" OTHER_LABEL="" SMOKE=0
scenarios=()
while [ $# -gt 0 ]; do
  case "$1" in
    --compare) COMPARE_BIN=${2:?--compare needs a binary}; shift 2 ;;
    --compare=*) COMPARE_BIN=${1#*=}; shift ;;
    --at) AT_REV=${2:?--at needs a git revision}; shift 2 ;;
    --at=*) AT_REV=${1#*=}; shift ;;
    --label) OTHER_LABEL=${2:?--label needs a name}; shift 2 ;;
    --label=*) OTHER_LABEL=${1#*=}; shift ;;
    --smoke) SMOKE=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1 (see --help)"; exit 2 ;;
    all1m) scenarios+=(fill1m ingest1m query1m fanout1m); shift ;;
    *) scenarios+=("$1"); shift ;;
  esac
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=(commit ingest16 ingest1 query query150 connections fanout startup)
if [ -n "$COMPARE_BIN" ] && [ -n "$AT_REV" ]; then echo "--compare and --at exclude each other"; exit 2; fi

RESULTS=perf/results
DB=$RESULTS/db                        # the db of perf/perf-config.json; strfry's generated config points here too
CONFIG=perf/perf-config.json
PORT=${PERF_PORT:-7777}              # perf-config.json's port; for another one Relay gets a copy of it
URL=ws://127.0.0.1:$PORT
PREFILL=${PREFILL:-auto}
EVENTS=${EVENTS:-$RESULTS/events-200k.bin}
EVENTS_1M=${EVENTS_1M:-$RESULTS/events-1m2-20k.bin}
REPORTS=$RESULTS
N_INGEST16=200000 N_INGEST1=20000 N_PRELOAD=100000 QUERY_DURATION=30s
N_CONNECTIONS=15000 FANOUT_SUBSCRIBERS=1000 FANOUT_EVENTS=200 FANOUT_RATE=50 STARTUP_RUNS=5
N_1M=1000000 N_INGEST1M=200000 PROGRESS_EVERY=100000
if [ "$SMOKE" = 1 ]; then
  REPORTS=$RESULTS/smoke
  EVENTS=$RESULTS/events-smoke-6k.bin EVENTS_1M=$RESULTS/events-smoke-6k.bin
  N_INGEST16=3000 N_INGEST1=500 N_PRELOAD=3000 QUERY_DURATION=3s
  N_CONNECTIONS=200 FANOUT_SUBSCRIBERS=20 FANOUT_EVENTS=20 STARTUP_RUNS=2
  N_1M=4000 N_INGEST1M=1000 PROGRESS_EVERY=1000
fi
mkdir -p "$RESULTS" "$REPORTS"
# strfry runs with nofiles = 0 (keeps this limit); 15,000 connections need it raised to the hard limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "== building the AOT relay and the load tool (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
dotnet publish src/Relay.Server -c Release -o publish/relay >/dev/null
dotnet build perf/Relay.Load -c Release >/dev/null
LOAD=(dotnet perf/Relay.Load/bin/Release/net10.0/relay-load.dll)

if [ -n "$AT_REV" ]; then
  sha=$(git rev-parse --verify "$AT_REV^{commit}")
  at_dir=${TMPDIR:-/tmp}/relay-at-${sha:0:10}
  if [ ! -x "$at_dir/publish/relay" ]; then
    echo "== building Relay at $AT_REV (${sha:0:10}) into $at_dir"
    rm -rf "$at_dir"; mkdir -p "$at_dir"
    git worktree add --detach "$at_dir/src" "$sha" >/dev/null 2>&1
    if ! (cd "$at_dir/src" && dotnet publish src/Relay.Server -c Release -o "$at_dir/publish") >"$at_dir/build.log" 2>&1; then
      git worktree remove --force "$at_dir/src"; echo "build at $AT_REV failed: $at_dir/build.log"; exit 1
    fi
    git worktree remove --force "$at_dir/src"
  fi
  COMPARE_BIN=$at_dir/publish/relay
  OTHER_LABEL=${OTHER_LABEL:-at-${sha:0:10}}
fi

OTHER_KIND=""
if [ -n "$COMPARE_BIN" ]; then
  [ -x "$COMPARE_BIN" ] || { echo "--compare: $COMPARE_BIN is not an executable"; exit 2; }
  COMPARE_BIN=$(realpath "$COMPARE_BIN")
  if "$COMPARE_BIN" --version 2>/dev/null | grep -q '^strfry'; then OTHER_KIND=strfry; else OTHER_KIND=relay; fi
  [ -n "$OTHER_LABEL" ] || { [ "$OTHER_KIND" = strfry ] && OTHER_LABEL=strfry || OTHER_LABEL=other; }
  echo "== comparing with $OTHER_KIND binary $COMPARE_BIN ($("$COMPARE_BIN" --version 2>/dev/null | head -1)) as '$OTHER_LABEL'"
fi

# strfry's equivalent of perf/perf-config.json: same address, DB directory, map size and ping
# interval; everything else is left at strfry's defaults, which perf-config.json also keeps.
STRFRY_CONF=$RESULTS/strfry-perf.conf
cat > "$STRFRY_CONF" <<EOF
# Generated by perf/run-scenarios.sh from perf/perf-config.json; all other keys are strfry's defaults.
# nofiles = 0: keep the inherited open-files limit (strfry's default 524288 is above the hard limit here).
db = "$ROOT/$DB/"
dbParams {
    mapsize = 68719476736
}
relay {
    bind = "127.0.0.1"
    port = $PORT
    nofiles = 0
    autoPingSeconds = 55
}
EOF

ensure_events() { # $1 file, $2 count, $3 authors
  [ -f "$1" ] && return 0
  echo "== generating $2 signed events, $3 authors -> $1 (once)"
  "${LOAD[@]}" generate --out "$1" --count "$2" --authors "$3" --seed 1
}

# --- the relay under test: "relay" is this tree's build, "other" the --compare/--at binary ---
SIDE="" KIND="" NAME="" BIN="" SUFFIX="" LOG="" SERVER_PID="" PROBE=()
RELAY_ARGS=(--config "$CONFIG")
if [ "$PORT" != 7777 ]; then   # a copy of perf-config.json on another port (older Relays have no --set)
  sed "s/\"port\": 7777/\"port\": $PORT/" "$CONFIG" > "$RESULTS/perf-config-$PORT.json"
  RELAY_ARGS=(--config "$RESULTS/perf-config-$PORT.json")
fi
use_side() {
  SIDE=$1
  if [ "$1" = relay ]; then KIND=relay NAME=Relay BIN=publish/relay/relay SUFFIX="" LOG=$REPORTS/relay.log
  else KIND=$OTHER_KIND NAME=$OTHER_LABEL BIN=$COMPARE_BIN SUFFIX=".$OTHER_LABEL" LOG=$REPORTS/$OTHER_LABEL.log; fi
}
sides() { if [ -n "$COMPARE_BIN" ]; then echo relay other; else echo relay; fi; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

start_server() { # [keep]: serve the DB as it is instead of a fresh one
  if port_open; then echo "port $PORT is already in use: stop that server first"; exit 1; fi
  [ "${1:-}" = keep ] || rm -rf "$DB"
  mkdir -p "$DB"   # strfry does not create its DB directory
  if [ "$KIND" = strfry ]; then "$BIN" --config="$STRFRY_CONF" relay >>"$LOG" 2>&1 &
  else "$BIN" "${RELAY_ARGS[@]}" 2>>"$LOG" & fi
  SERVER_PID=$!
  PROBE=(--pid "$SERVER_PID" --db-dir "$DB")   # the load tool samples this process and its data.mdb
  for _ in $(seq 1 3000); do
    port_open && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "$KIND exited at start; see $LOG"; tail -5 "$LOG"; exit 1; }
    sleep 0.01
  done
  echo "$KIND did not listen on $PORT within 30 s; see $LOG"; exit 1
}
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 200); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap stop_server EXIT

has_import() {
  case "$PREFILL" in import) return 0 ;; ingest) return 1 ;; esac
  [ "$KIND" = strfry ] && return 0
  "$BIN" --help 2>&1 | grep -qE '^\s+import(\s|$)'
}

# Leaves $DB holding the first $2 events of file $1, from a cache made once per binary + file + count.
prefill() {
  local events=$1 count=$2 key cache jsonl t0 t1
  # This tree's binary changes with every commit (its version names the commit): key it by the src/ tree.
  if [ "$SIDE" = relay ] && git diff --quiet HEAD -- src 2>/dev/null; then key="relay-src$(git rev-parse --short=12 HEAD:src)"
  else key="$KIND-$(md5sum < "$BIN" | cut -c1-12)"; fi
  key="$key-$(basename "$events" .bin)-$count"
  cache=$RESULTS/prefill/$key
  if [ ! -f "$cache/data.mdb" ]; then
    rm -rf "$DB"; mkdir -p "$DB"
    if has_import; then
      jsonl=$RESULTS/$(basename "$events" .bin)-$count.jsonl
      [ -f "$jsonl" ] || "${LOAD[@]}" export --events "$events" --count "$count" --out "$jsonl"
      echo "== [$NAME] pre-filling a DB with $count events: import --no-verify"
      t0=$(date +%s%N)
      if [ "$KIND" = strfry ]; then "$BIN" --config="$STRFRY_CONF" import --no-verify < "$jsonl" >>"$LOG" 2>&1
      else "$BIN" "${RELAY_ARGS[@]}" import --no-verify < "$jsonl" 2>>"$LOG"; fi
      t1=$(date +%s%N)
      echo "prefill $key: import of $count events in $(( (t1 - t0) / 1000000 )) ms = $(( count * 1000000000 / (t1 - t0 + 1) )) events/s; data.mdb $(stat -c %s "$DB/data.mdb") bytes" \
        | tee "$REPORTS/prefill-$key.txt"
    else
      echo "== [$NAME] pre-filling a DB with $count events: ingest over WebSockets (no import command)"
      start_server
      "${LOAD[@]}" ingest --url "$URL" --events "$events" --connections 16 --window 64 --count "$count" --duration 7200s --timeout 60s \
        --progress-every "$PROGRESS_EVERY" "${PROBE[@]}" --report-dir "$REPORTS" --name "prefill-$key"
      stop_server
    fi
    mkdir -p "$cache"; cp -a "$DB/." "$cache/"; rm -f "$cache/lock.mdb"
  fi
  rm -rf "$DB"; mkdir -p "$DB"; cp -a "$cache/." "$DB/"
}

metrics() { curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^(relay_process_allocated_bytes_total|relay_gc_collections_total|strfry_write_events_total|relay_process_working_set_bytes)' || true; }

run_scenario() { # $1 scenario, with use_side done
  local s=$1 name=$1$SUFFIX
  case "$s" in
    commit)
      [ "$SIDE" = relay ] || return 0   # measures this disk through this tree's EventStore, not a relay
      echo "== durable LMDB commit latency on this disk"
      "${LOAD[@]}" commit-latency --dir "$RESULTS/commit-db" --count 100 --batch 64 --report-dir "$REPORTS" --name commit-latency
      ;;
    ingest16)
      ensure_events "$EVENTS" 200000 5000
      start_server
      echo "== [$NAME] ingest: 16 connections, window 64, $N_INGEST16 events"
      metrics > "$REPORTS/$name.metrics.before"
      "${LOAD[@]}" ingest --url "$URL" --events "$EVENTS" --connections 16 --window 64 --count "$N_INGEST16" --duration 120s \
        --metrics-url "http://127.0.0.1:$PORT/metrics" "${PROBE[@]}" --report-dir "$REPORTS" --name "$name"
      metrics > "$REPORTS/$name.metrics.after"
      stop_server
      ;;
    ingest1)
      ensure_events "$EVENTS" 200000 5000
      start_server
      echo "== [$NAME] ingest: 1 connection, window 64, $N_INGEST1 events"
      "${LOAD[@]}" ingest --url "$URL" --events "$EVENTS" --connections 1 --window 64 --count "$N_INGEST1" --duration 60s \
        "${PROBE[@]}" --report-dir "$REPORTS" --name "$name"
      stop_server
      ;;
    query)
      ensure_events "$EVENTS" 200000 5000
      start_server
      echo "== [$NAME] query (default mix): ingest $N_PRELOAD, then 4 connections x window 8 for $QUERY_DURATION"
      "${LOAD[@]}" ingest --url "$URL" --events "$EVENTS" --connections 16 --window 64 --count "$N_PRELOAD" --duration 120s \
        --report-dir "$REPORTS" --name "query-preload$SUFFIX"
      "${LOAD[@]}" query --url "$URL" --events "$EVENTS" --connections 4 --window 8 --duration "$QUERY_DURATION" \
        "${PROBE[@]}" --report-dir "$REPORTS" --name "$name"
      stop_server
      ;;
    query150)
      ensure_events "$EVENTS" 200000 5000
      prefill "$EVENTS" "$N_PRELOAD"
      start_server keep
      echo "== [$NAME] query (feed150 mix) over $N_PRELOAD events: 4 connections x window 8 for $QUERY_DURATION"
      "${LOAD[@]}" query --url "$URL" --events "$EVENTS" --loaded "$N_PRELOAD" --mix feed150 --connections 4 --window 8 \
        --duration "$QUERY_DURATION" "${PROBE[@]}" --report-dir "$REPORTS" --name "$name"
      stop_server
      ;;
    connections)
      start_server
      echo "== [$NAME] connections: $N_CONNECTIONS idle connections with one subscription each"
      "${LOAD[@]}" connections --url "$URL" --count "$N_CONNECTIONS" --subscribe --pid "$SERVER_PID" --hold 10s --report-dir "$REPORTS" --name "$name"
      stop_server
      ;;
    fanout|fanout1m)
      if [ "$s" = fanout1m ]; then ensure_events "$EVENTS_1M" 1200000 20000; prefill "$EVENTS_1M" "$N_1M"; start_server keep
      else start_server; fi
      echo "== [$NAME] $s: $FANOUT_SUBSCRIBERS subscribers, $FANOUT_EVENTS events at $FANOUT_RATE/s"
      "${LOAD[@]}" fanout --url "$URL" --subscribers "$FANOUT_SUBSCRIBERS" --events "$FANOUT_EVENTS" --rate "$FANOUT_RATE" \
        "${PROBE[@]}" --report-dir "$REPORTS" --name "$name"
      stop_server
      ;;
    startup)
      echo "== [$NAME] startup: exec to first accepted TCP connection, empty DB ($STARTUP_RUNS runs)"
      local runs=() i t0 t1
      for i in $(seq 1 "$STARTUP_RUNS"); do
        rm -rf "$DB"; mkdir -p "$DB"
        t0=$(date +%s%N)
        if [ "$KIND" = strfry ]; then "$BIN" --config="$STRFRY_CONF" relay >>"$LOG" 2>&1 &
        else "$BIN" "${RELAY_ARGS[@]}" 2>>"$LOG" & fi
        SERVER_PID=$!
        until port_open; do kill -0 "$SERVER_PID" 2>/dev/null || { echo "$KIND exited at start; see $LOG"; exit 1; }; done
        t1=$(date +%s%N)
        runs+=($(( (t1 - t0) / 1000 )))
        echo "startup run $i: ${runs[-1]} us"
        stop_server
      done | tee "$REPORTS/$name.txt"
      mapfile -t runs < <(grep -o '[0-9]* us$' "$REPORTS/$name.txt" | cut -d' ' -f1 | sort -n)
      printf '{"scenario":"startup","name":"%s","counters":{"startup median (us)":%s,"startup min (us)":%s,"startup max (us)":%s},"ratesPerSecond":{},"latencyMs":{}}\n' \
        "$name" "${runs[$(( ${#runs[@]} / 2 ))]}" "${runs[0]}" "${runs[-1]}" > "$REPORTS/$name.json"
      ;;
    fill1m)
      ensure_events "$EVENTS_1M" 1200000 20000
      start_server
      echo "== [$NAME] fill: $N_1M events into an empty DB, 16 connections x window 64"
      "${LOAD[@]}" ingest --url "$URL" --events "$EVENTS_1M" --connections 16 --window 64 --count "$N_1M" --duration 3h --timeout 60s \
        --progress-every "$PROGRESS_EVERY" "${PROBE[@]}" --report-dir "$REPORTS" --name "$name"
      stop_server
      ;;
    ingest1m)
      ensure_events "$EVENTS_1M" 1200000 20000
      prefill "$EVENTS_1M" "$N_1M"
      start_server keep
      echo "== [$NAME] ingest: 16 connections, window 64, $N_INGEST1M new events into a $N_1M-event DB"
      "${LOAD[@]}" ingest --url "$URL" --events "$EVENTS_1M" --from "$N_1M" --count "$N_INGEST1M" --connections 16 --window 64 \
        --duration 300s "${PROBE[@]}" --report-dir "$REPORTS" --name "$name"
      stop_server
      ;;
    query1m)
      ensure_events "$EVENTS_1M" 1200000 20000
      prefill "$EVENTS_1M" "$N_1M"
      start_server keep
      echo "== [$NAME] query (feed150 mix) over $N_1M events: 4 connections x window 8 for $QUERY_DURATION"
      "${LOAD[@]}" query --url "$URL" --events "$EVENTS_1M" --loaded "$N_1M" --mix feed150 --connections 4 --window 8 \
        --duration "$QUERY_DURATION" "${PROBE[@]}" --report-dir "$REPORTS" --name "$name"
      stop_server
      ;;
    *) echo "unknown scenario $s"; exit 2 ;;
  esac
}

if [ "$SMOKE" = 1 ] && [ ! -f "$EVENTS" ]; then
  "${LOAD[@]}" generate --out "$EVENTS" --count 6000 --authors 300 --seed 1
fi

for s in "${scenarios[@]}"; do
  for side in $(sides); do
    use_side "$side"
    run_scenario "$s"
  done
done

if [ -n "$COMPARE_BIN" ]; then
  compared=()
  for s in "${scenarios[@]}"; do [ "$s" = commit ] || compared+=("$s"); done
  out=$REPORTS/compare-$(date +%Y-%m-%d-%H%M).md
  "${LOAD[@]}" compare --dir "$REPORTS" --other "$OTHER_LABEL" --scenarios "$(IFS=,; echo "${compared[*]}")" --out "$out" \
    --this-label Relay --other-label "$OTHER_LABEL" \
    --description "Relay: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo '+changes') ($ROOT/publish/relay/relay). $OTHER_LABEL: $COMPARE_BIN ($("$COMPARE_BIN" --version 2>/dev/null | head -1)). Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
fi
