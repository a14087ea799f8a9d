#!/usr/bin/env bash
# Installs what Relay's build and tests need that a fresh Debian machine with the .NET SDK and
# node/npm lacks: gcc (LMDB is compiled from source by the build), libsecp256k1 (the fast BIP-340
# verifier), shellcheck (the Ops tests lint the shell scripts) and the interop test's npm packages
# (nostr-tools). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# The linker cache is read once into a variable and searched there. `ldconfig -p | grep -q` under
# pipefail fails now and then: grep exits at the first match, ldconfig dies of SIGPIPE, and an
# installed library looked missing (then apt-get ran, needing root and the network).
ld_cache=$(ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true)
has_lib() { [[ $ld_cache == *$'\t'"$1 "* ]]; }

need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v ar >/dev/null 2>&1 || need+=(binutils)
has_lib libsecp256k1.so.1 || need+=(libsecp256k1-1)
has_lib libssl.so.3 || need+=(libssl3)
# The Ops tests lint the shell scripts.
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
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
