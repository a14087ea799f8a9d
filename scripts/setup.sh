#!/usr/bin/env bash
# Installs what Relay's build and tests need that a fresh Debian machine with the .NET SDK and
# node/npm lacks: gcc (LMDB is compiled from source by the build), libsecp256k1 (the fast BIP-340
# verifier), and the interop test's npm packages (nostr-tools). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v ar >/dev/null 2>&1 || need+=(binutils)
if ! ldconfig -p 2>/dev/null | grep -q 'libsecp256k1\.so\.1 '; then need+=(libsecp256k1-1); fi
if ! ldconfig -p 2>/dev/null | grep -q 'libssl\.so\.3 '; then need+=(libssl3); fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -d tests/interop/node_modules/nostr-tools ]; then
  echo "setup: installing the interop test's npm packages"
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: ok"
