#!/usr/bin/env bash
# Host tuning for a relay holding tens of thousands of WebSocket connections. Run as root; prints
# what it sets. Persist by copying the printed lines into /etc/sysctl.d/90-relay.conf.
set -euo pipefail
settings=(
  "fs.file-max=2097152"                 # system-wide open files (each connection is one)
  "fs.nr_open=1048576"                  # per-process ceiling for RLIMIT_NOFILE (relay.nofiles)
  "net.core.somaxconn=65535"            # accept backlog for connection bursts after a restart
  "net.ipv4.tcp_max_syn_backlog=65535"
  "net.core.netdev_max_backlog=16384"
  "net.ipv4.ip_local_port_range=1024 65535"   # for nginx -> relay upstream connections
  "net.ipv4.tcp_fin_timeout=15"
  "net.ipv4.tcp_tw_reuse=1"
  "net.ipv4.tcp_keepalive_time=300"     # notice dead mobile clients sooner
  "net.ipv4.tcp_rmem=4096 16384 4194304"      # small default buffers: most connections are idle
  "net.ipv4.tcp_wmem=4096 16384 4194304"
  "vm.max_map_count=262144"             # LMDB maps the database; large DBs need many mappings
)
for s in "${settings[@]}"; do
  sysctl -w "$s"
done
echo
echo "Also raise the relay's file limit: LimitNOFILE=1048576 in its systemd unit, and relay.nofiles in config.json."
