#!/usr/bin/env bash
# Host tuning for a relay that holds tens of thousands of WebSocket connections, directly or behind
# nginx. Run it on the host (not inside a container: there /proc/sys is read-only and the settings
# belong to the host anyway). See --help.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/sysctl-tuning.sh [MODE] [--persist] [--root DIR]

Modes:
  (none)      apply: raise every setting that falls short of the recommendation (needs root).
              A setting that is already better is never lowered, so running it again changes nothing.
  --check     read-only: print current vs recommended per key; exit 0 when every key the kernel has
              meets the recommendation, 1 otherwise.
  --dry-run   print what apply (and --persist) would change; change nothing.
  --persist   apply, then write /etc/sysctl.d/90-relay.conf (survives reboots) and a systemd drop-in
              /etc/systemd/system/relay.service.d/90-limits.conf with LimitNOFILE.
  --root DIR  act on DIR/proc/sys and DIR/etc instead of /proc/sys and /etc (tests, images);
              also $RELAY_SYSCTL_ROOT.
  --keys      print the keys this script manages, one per line (to save and restore them).
  -h, --help  this text.

"Meets" depends on the key: limits and queues must be at least the recommendation, timeouts and
per-socket buffers at most, the port range at least as wide, tcp_tw_reuse exactly 1.
Keys the kernel lacks (e.g. nf_conntrack_max without the conntrack module) are reported and skipped;
a read-only /proc/sys (containers) is reported, not fatal.

What goes with it: the relay process needs an open-files limit above its connection count.
Set LimitNOFILE in the unit (--persist writes a drop-in; deploy/relay.service has it) and
relay.nofiles in the config (the relay raises its soft limit up to the hard one). Both are capped
by fs.nr_open. Environment: RELAY_LIMIT_NOFILE (default 1048576), RELAY_SERVICE (default relay).

Exit codes: 0 done / all ok, 1 --check found keys to change, 2 usage error.
EOF
}

# key | rule | recommendation | why. Rules: ge = at least, le = every field at most,
# eq = exactly, range = a "low high" port range at least as wide.
RECOMMENDATIONS=(
  "fs.file-max|ge|2097152|open files system-wide: every client is one socket (two behind nginx)"
  "fs.nr_open|ge|1048576|ceiling of a process's open-files limit: LimitNOFILE and relay.nofiles cannot pass it"
  "net.core.somaxconn|ge|65535|caps every listen() backlog: clients reconnecting at once after a restart queue here"
  "net.ipv4.tcp_max_syn_backlog|ge|65535|half-open connections kept during a reconnect storm"
  "net.core.netdev_max_backlog|ge|16384|packets queued per CPU (loopback too): a SYN burst past it is dropped"
  "net.ipv4.ip_local_port_range|range|10240 65535|behind nginx each client is one nginx->relay connection from an ephemeral port: the default range allows ~28k"
  "net.ipv4.tcp_fin_timeout|le|15|orphaned FIN_WAIT_2 sockets of vanished clients are freed after 15 s, not 60"
  "net.ipv4.tcp_tw_reuse|eq|1|nginx may reuse TIME_WAIT ports for new upstream connections (kernel default 2 covers loopback only)"
  "net.ipv4.tcp_keepalive_time|le|300|sockets with keep-alive on (relay.enableTcpKeepalive, nginx so_keepalive) notice dead peers in minutes, not 2 h"
  "net.ipv4.tcp_keepalive_intvl|le|30|seconds between keep-alive probes"
  "net.ipv4.tcp_keepalive_probes|le|5|unanswered probes before the socket is dropped"
  "net.ipv4.tcp_rmem|le|4096 16384 4194304|clients send small messages: a 16 KiB starting receive buffer (not 128 KiB) bounds kernel memory per connection; autotuning still grows bulk senders"
  "net.ipv4.tcp_wmem|le|4096 16384 4194304|the kernel default; a host tuned for bulk transfer (16 MiB+) lets every slow subscriber pin that much kernel memory"
  "net.netfilter.nf_conntrack_max|ge|262144|with a firewall or Docker, each proxied client is two tracked connections; a full table drops new ones"
)
# Considered and left out:
#   vm.max_map_count: LMDB maps the whole database as one mapping; an idle relay has ~130 mappings
#     against a default limit of 65530.
#   net.core.rmem_default/wmem_default: apply to non-TCP sockets; TCP starts from tcp_rmem/tcp_wmem.
#   net.core.rmem_max/wmem_max: only cap SO_RCVBUF/SO_SNDBUF set by hand, which neither the relay
#     nor the nginx site does.
#   net.ipv4.tcp_syncookies: on by default; keep it on.

CONF_NAME=90-relay.conf
LIMIT_NOFILE=${RELAY_LIMIT_NOFILE:-1048576}
SERVICE=${RELAY_SERVICE:-relay}

mode=apply
persist=false
root=${RELAY_SYSCTL_ROOT:-/}
while [ $# -gt 0 ]; do
  case "$1" in
    --check) mode=check ;;
    --dry-run) mode=dry-run ;;
    --persist) persist=true ;;
    --root)
      [ $# -ge 2 ] || { echo "sysctl-tuning: --root needs a directory" >&2; exit 2; }
      root=$2; shift ;;
    --root=*) root=${1#--root=} ;;
    -h|--help) usage; exit 0 ;;
    --keys) for entry in "${RECOMMENDATIONS[@]}"; do echo "${entry%%|*}"; done; exit 0 ;;
    *) echo "sysctl-tuning: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$mode" = check ] && [ "$persist" = true ]; then
  echo "sysctl-tuning: --check is read-only; it does not combine with --persist" >&2; exit 2
fi
root=${root%/}
if [ ! -d "$root/proc/sys" ]; then
  echo "sysctl-tuning: $root/proc/sys is not a directory" >&2; exit 2
fi

key_path() { printf '%s/proc/sys/%s' "$root" "${1//.//}"; }

# Normalises whitespace: the kernel separates fields with tabs.
read_key() {
  local path
  local -a fields
  path=$(key_path "$1")
  [ -r "$path" ] || return 1
  read -r -a fields <"$path" || [ ${#fields[@]} -gt 0 ] || return 1
  printf '%s' "${fields[*]}"
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# Compares unsigned decimal strings of any length (fs.file-max can exceed what bash arithmetic holds).
# Prints -1, 0 or 1.
num_cmp() {
  local a=$1 b=$2
  a=${a#"${a%%[!0]*}"}; b=${b#"${b%%[!0]*}"}
  a=${a:-0}; b=${b:-0}
  if [ ${#a} -ne ${#b} ]; then
    if [ ${#a} -lt ${#b} ]; then echo -1; else echo 1; fi
  elif [[ $a < $b ]]; then echo -1
  elif [[ $a > $b ]]; then echo 1
  else echo 0
  fi
}

# meets RULE CURRENT RECOMMENDED: success when CURRENT is at least as good as RECOMMENDED.
meets() {
  local rule=$1 i
  local -a cur rec
  read -r -a cur <<<"$2"
  read -r -a rec <<<"$3"
  [ ${#cur[@]} -eq ${#rec[@]} ] || return 1
  for i in "${!cur[@]}"; do is_uint "${cur[$i]}" || return 1; done
  case "$rule" in
    eq) [ "${cur[*]}" = "${rec[*]}" ] ;;
    ge) [ "$(num_cmp "${cur[0]}" "${rec[0]}")" -ge 0 ] ;;
    le)
      for i in "${!rec[@]}"; do [ "$(num_cmp "${cur[$i]}" "${rec[$i]}")" -le 0 ] || return 1; done ;;
    range)
      [ "$(num_cmp "${cur[0]}" "${rec[0]}")" -le 0 ] && [ "$(num_cmp "${cur[1]}" "${rec[1]}")" -ge 0 ] ;;
    *) return 1 ;;
  esac
}

# The value apply leaves behind: the recommendation where the current value falls short, else the
# current value, field by field (so a better setting is never lowered).
target_value() {
  local rule=$1 i
  local -a cur rec out
  read -r -a cur <<<"$2"
  read -r -a rec <<<"$3"
  if [ "$rule" = eq ] || [ ${#cur[@]} -ne ${#rec[@]} ]; then printf '%s' "${rec[*]}"; return; fi
  for i in "${!rec[@]}"; do
    if ! is_uint "${cur[$i]}"; then printf '%s' "${rec[*]}"; return; fi
  done
  out=("${rec[@]}")
  case "$rule" in
    ge) [ "$(num_cmp "${cur[0]}" "${rec[0]}")" -lt 0 ] || out[0]=${cur[0]} ;;
    le) for i in "${!rec[@]}"; do [ "$(num_cmp "${cur[$i]}" "${rec[$i]}")" -gt 0 ] || out[i]=${cur[$i]}; done ;;
    range)
      [ "$(num_cmp "${cur[0]}" "${rec[0]}")" -gt 0 ] || out[0]=${cur[0]}
      [ "$(num_cmp "${cur[1]}" "${rec[1]}")" -lt 0 ] || out[1]=${cur[1]} ;;
  esac
  printf '%s' "${out[*]}"
}

describe() {
  case "$1" in
    ge) printf '>= %s' "$2" ;;
    le) printf '<= %s' "$2" ;;
    eq) printf '= %s' "$2" ;;
    range) printf '%s or wider' "$2" ;;
  esac
}

not_writable_reason() {
  if [ "$(id -u)" -ne 0 ]; then echo "not writable: run as root"
  else echo "not writable: /proc/sys is read-only here (a container?): set it on the host"
  fi
}

row() { printf '%-32s %-24s %-28s %s\n' "$1" "$2" "$3" "$4"; }

row key current recommended status
n_ok=0; n_change=0; n_absent=0; n_set=0; n_failed=0
persist_lines=()
for entry in "${RECOMMENDATIONS[@]}"; do
  IFS='|' read -r key rule rec why <<<"$entry"
  want=$(describe "$rule" "$rec")
  if ! current=$(read_key "$key"); then
    row "$key" "-" "$want" "absent (this kernel lacks it): skipped"
    n_absent=$((n_absent + 1))
    persist_lines+=("# $why" "-$key = $rec")
    continue
  fi
  target=$(target_value "$rule" "$current" "$rec")
  persist_lines+=("# $why" "$key = $target")
  if meets "$rule" "$current" "$rec"; then
    row "$key" "$current" "$want" "ok"
    n_ok=$((n_ok + 1))
    continue
  fi
  path=$(key_path "$key")
  case "$mode" in
    check)
      row "$key" "$current" "$want" "needs change: $why"
      n_change=$((n_change + 1)) ;;
    dry-run)
      if [ -w "$path" ]; then row "$key" "$current" "$want" "would set $target"
      else row "$key" "$current" "$want" "would set $target, but $(not_writable_reason)"; fi
      n_change=$((n_change + 1)) ;;
    apply)
      if [ -w "$path" ] && { printf '%s\n' "$target" >"$path"; } 2>/dev/null; then
        after=$(read_key "$key" || echo "?")
        if meets "$rule" "$after" "$rec"; then
          row "$key" "$current" "$want" "set $after"; n_set=$((n_set + 1))
        else
          row "$key" "$current" "$want" "written, but the kernel holds $after"; n_failed=$((n_failed + 1))
        fi
      else
        row "$key" "$current" "$want" "$(not_writable_reason)"; n_failed=$((n_failed + 1))
      fi ;;
  esac
done

# Writes FILE with CONTENT unless it already holds exactly that (dry-run: only says what it would do).
write_file() {
  local file=$1 content=$2
  if [ -f "$file" ] && [ "$(<"$file")" = "$content" ]; then
    echo "$file: unchanged"
  elif [ "$mode" = dry-run ]; then
    echo "would write $file:"
    printf '%s\n' "$content" | sed 's/^/    /'
  else
    mkdir -p "$(dirname "$file")"
    printf '%s\n' "$content" >"$file"
    echo "wrote $file"
    wrote_file=true
  fi
}

if [ "$persist" = true ]; then
  echo
  sysctl_conf=$(printf '%s\n' "# Written by Relay's scripts/sysctl-tuning.sh --persist; run it again rather than editing." \
    "# A leading '-' lets the boot skip a key the kernel lacks." "" "${persist_lines[@]}")
  write_file "$root/etc/sysctl.d/$CONF_NAME" "$sysctl_conf"
  limits_conf=$(printf '%s\n' "# Written by Relay's scripts/sysctl-tuning.sh --persist: one file per connection." \
    "# Keep relay.nofiles in the config at or below this; both are capped by fs.nr_open." "[Service]" "LimitNOFILE=$LIMIT_NOFILE")
  wrote_file=false
  write_file "$root/etc/systemd/system/$SERVICE.service.d/90-limits.conf" "$limits_conf"
  if [ "$wrote_file" = true ]; then
    if [ "$root" = "" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
      systemctl daemon-reload && echo "systemd reloaded: restart $SERVICE.service to give it the new limit"
    else
      echo "then: systemctl daemon-reload and restart $SERVICE.service to give it the new limit"
    fi
  fi
fi

echo
case "$mode" in
  check)
    echo "check: $n_ok ok, $n_change need a change, $n_absent absent"
    [ "$n_change" -eq 0 ] || exit 1 ;;
  dry-run) echo "dry run: $n_ok ok, $n_change would change, $n_absent absent; nothing was changed" ;;
  apply)
    echo "apply: $n_ok already ok, $n_set set, $n_failed not set, $n_absent absent"
    [ "$persist" = true ] || echo "Not persisted: run with --persist to keep these over a reboot." ;;
esac
echo "The relay also needs an open-files limit above its connection count: LimitNOFILE=$LIMIT_NOFILE in the unit, relay.nofiles in the config."
