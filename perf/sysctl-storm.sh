#!/usr/bin/env bash
# Measures what scripts/sysctl-tuning.sh buys during a reconnect storm: N clients connecting at
# once, as after a relay restart or a network blip. Runs the storm with the host's current kernel
# settings ("before"), applies the tuning, runs it again ("after"), and restores the settings it
# found (unless --keep-tuning). Reports connections held, connect latency (TCP + WebSocket
# upgrade: what a client waits to be accepted), the kernel's accept-queue counters and the relay's
# open files and memory mappings. Needs root and a quiet machine (it changes kernel settings and
# loads the CPU); --measure-only runs one storm on the settings as they are, without root.
#
#   sudo perf/sysctl-storm.sh --count 30000 --concurrency 5000
#   perf/sysctl-storm.sh --measure-only --count 200            # try it out, changes nothing
#
# Options: --count N (20000) --concurrency C (= count: everyone at once) --hold 10s
#          --port P (17777) --measure-only --keep-tuning
# Reports: perf/results/storm-<phase>.{json,md}, summary in perf/results/storm-summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

count=20000; concurrency=""; hold=10s; port=17777; measure_only=false; keep_tuning=false
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count=$2; shift ;;
    --concurrency) concurrency=$2; shift ;;
    --hold) hold=$2; shift ;;
    --port) port=$2; shift ;;
    --measure-only) measure_only=true ;;
    --keep-tuning) keep_tuning=true ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "sysctl-storm: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
concurrency=${concurrency:-$count}
if [ "$measure_only" = false ] && [ "$(id -u)" -ne 0 ]; then
  echo "sysctl-storm: before/after needs root to change kernel settings; use --measure-only to run one storm as things are" >&2
  exit 2
fi

RESULTS=perf/results
mkdir -p "$RESULTS"
SUMMARY=$RESULTS/storm-summary.txt
: >"$SUMMARY"
TUNING=scripts/sysctl-tuning.sh

# Both the load tool and the relay hold one file per connection (plus their own).
want_files=$((count + 4096))
if [ "$(id -u)" -eq 0 ] && [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$want_files" ]; then
  ulimit -Hn "$want_files"
fi
if [ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge "$want_files" ]; then ulimit -Sn "$want_files"; else ulimit -Sn "$(ulimit -Hn)"; fi
if [ "$(ulimit -Sn)" -lt "$want_files" ]; then
  echo "sysctl-storm: only $(ulimit -Sn) open files allowed here; $count connections may hit that limit before any kernel setting does" >&2
fi

echo "== building the AOT relay and the load tool"
dotnet publish src/Relay.Server -c Release -o publish/relay >/dev/null
dotnet build perf/Relay.Load -c Release >/dev/null
LOAD=(dotnet perf/Relay.Load/bin/Release/net10.0/relay-load.dll)
RELAY=publish/relay/relay

RELAY_PID=""
SAVED=""
stop_relay() {
  if [ -n "$RELAY_PID" ]; then
    kill "$RELAY_PID" 2>/dev/null || true
    wait "$RELAY_PID" 2>/dev/null || true
    RELAY_PID=""
  fi
}
restore_settings() {
  [ -n "$SAVED" ] || return 0
  echo "== restoring the kernel settings found at the start"
  local key value path
  while IFS='=' read -r key value; do
    path=/proc/sys/${key//.//}
    [ "$(tr '\t' ' ' <"$path")" != "$value" ] || continue
    printf '%s\n' "$value" >"$path" 2>/dev/null || echo "could not restore $key"
  done <"$SAVED"
  rm -f "$SAVED"
  SAVED=""
}
cleanup() {
  stop_relay
  if [ "$keep_tuning" = false ]; then restore_settings; fi
  rm -rf "$RESULTS/storm-db" "$RESULTS/storm-config.json"
}
trap cleanup EXIT

start_relay() {
  rm -rf "$RESULTS/storm-db"
  printf '{"db": "%s/storm-db/", "dbParams": {"mapsize": 1073741824}, "relay": {"bind": "127.0.0.1", "port": %s, "nofiles": %s}}\n' \
    "$RESULTS" "$port" "$want_files" >"$RESULTS/storm-config.json"
  "$RELAY" --config "$RESULTS/storm-config.json" 2>>"$RESULTS/storm-relay.log" &
  RELAY_PID=$!
  for _ in $(seq 1 500); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.01
  done
  echo "sysctl-storm: the relay did not start (see $RESULTS/storm-relay.log)" >&2
  exit 1
}

# The kernel's counters of connections it could not queue (TcpExt in /proc/net/netstat).
tcp_counters() {
  awk '/^TcpExt:/ { if (!names) { split($0, names_a); names = 1 } else { for (i = 2; i <= NF; i++) v[names_a[i]] = $i } }
       END { printf "ListenOverflows=%d ListenDrops=%d TCPReqQFullDrop=%d SyncookiesSent=%d\n",
             v["ListenOverflows"], v["ListenDrops"], v["TCPReqQFullDrop"], v["SyncookiesSent"] }' /proc/net/netstat
}

delta() { # delta "A=1 B=2" "A=5 B=2" -> "A=+4 B=+0"
  local out="" a b
  read -r -a a <<<"$1"; read -r -a b <<<"$2"
  for i in "${!a[@]}"; do out+="${a[$i]%%=*}=+$(( ${b[$i]#*=} - ${a[$i]#*=} )) "; done
  echo "${out% }"
}

run_phase() {
  local phase=$1
  echo "== storm ($phase): $count connections, $concurrency connecting at once, held $hold"
  start_relay
  local before after load_pid maps=0 fds=0 m f
  before=$(tcp_counters)
  "${LOAD[@]}" connections --url "ws://127.0.0.1:$port" --count "$count" --concurrency "$concurrency" --hold "$hold" \
    --pid "$RELAY_PID" --duration 300s --report-dir "$RESULTS" --name "storm-$phase" &
  load_pid=$!
  # The relay's peak open files and memory mappings while the connections are held.
  while kill -0 "$load_pid" 2>/dev/null; do
    m=$(wc -l <"/proc/$RELAY_PID/maps" 2>/dev/null || echo 0)
    f=$(find "/proc/$RELAY_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    [ "$m" -le "$maps" ] || maps=$m
    [ "$f" -le "$fds" ] || fds=$f
    sleep 1
  done
  wait "$load_pid" || true
  after=$(tcp_counters)
  stop_relay
  {
    echo "[$phase]"
    # shellcheck disable=SC2016 # JavaScript template strings, not shell expansions
    node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const c = r.counters, lat = r.latencyMs["connect (TCP + upgrade)"] || {};
      console.log(`held ${c["open after hold"]} of ${c["requested"]} (failed to open: ${c["failed to open"]})`);
      console.log(`connect ms: p50 ${lat.p50} p99 ${lat.p99} max ${lat.max} (${r.ratesPerSecond["connections opened"]}/s opened)`);
      const failures = r.groups["connect failures"];
      if (failures) console.log("connect failures: " + JSON.stringify(failures));
    ' "$RESULTS/storm-$phase.json"
    echo "kernel: $(delta "$before" "$after")"
    echo "relay at peak: $fds open files, $maps memory mappings (vm.max_map_count: $(cat /proc/sys/vm/max_map_count))"
    echo
  } | tee -a "$SUMMARY"
}

echo "== kernel settings now"
bash "$TUNING" --check | tee -a "$SUMMARY" || true
echo >>"$SUMMARY"

if [ "$measure_only" = true ]; then
  run_phase current
else
  if bash "$TUNING" --check >/dev/null; then
    echo "note: every setting already meets the recommendation, so 'before' is already tuned" | tee -a "$SUMMARY"
  fi
  SAVED=$(mktemp)
  while read -r key; do
    path=/proc/sys/${key//.//}
    if [ -r "$path" ]; then printf '%s=%s\n' "$key" "$(tr '\t' ' ' <"$path")" >>"$SAVED"; fi
  done < <(bash "$TUNING" --keys)
  run_phase before
  echo "== applying scripts/sysctl-tuning.sh"
  bash "$TUNING" | tee -a "$SUMMARY"
  run_phase after
fi
echo "summary: $SUMMARY"
