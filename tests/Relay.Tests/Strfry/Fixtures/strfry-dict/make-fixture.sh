#!/bin/sh
# Rebuilds data.mdb.gz: a strfry database (strfry f8a56a8, LMDB 0.9.24) whose payloads are partly
# raw and partly zstd-compressed with two trained dictionaries, and export.jsonl.gz, what
# `strfry export` prints for it. Needs the strfry binary (see /work/notes/strfry.md) and an
# events file made by `perf/Relay.Load -- generate --count 3000 --seed 7 --authors 300`.
# Usage: make-fixture.sh STRFRY EVENTS.bin STRFRY.conf
set -eu
strfry=$1; events=$2; conf=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/db"
sed -e "s|^db = .*|db = \"$work/db/\"|" "$conf" > "$work/strfry.conf"
python3 - "$events" "$work/events.jsonl" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
pos, n = 48, 0
with open(sys.argv[2], 'wb') as out:
    while pos < len(data) and n < 600:
        (length,) = struct.unpack_from('<I', data, pos)
        out.write(data[pos + 4:pos + 4 + length] + b'\n')
        pos += 4 + length
        n += 1
PY
s() { "$strfry" --config="$work/strfry.conf" "$@"; }
s import < "$work/events.jsonl"
s dict train --filter '{"kinds":[1]}' --dictSize 8000
s dict train --filter '{"kinds":[7]}' --dictSize 2000
s dict compress --dictId 1 --filter '{"kinds":[1],"limit":150}'
s dict compress --dictId 2 --filter '{"kinds":[7]}'
s dict stats
s export > "$work/export.jsonl"
gzip -9n < "$work/db/data.mdb" > "$here/data.mdb.gz"
gzip -9n < "$work/export.jsonl" > "$here/export.jsonl.gz"
