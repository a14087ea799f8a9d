#!/bin/sh
# Rebuilds data.mdb.gz and expected.dump.gz with Debian's LMDB 0.9 tools (apt-get install
# lmdb-utils; mdb_load/mdb_dump 0.9.24 on Debian 12). Not needed by the tests, which use the
# committed files.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mdb_load -V | grep -q 'LMDB 0.9' || { echo "needs LMDB 0.9's mdb_load" >&2; exit 1; }
python3 "$here/gen.py" "$work"
mkdir "$work/db"
for name in plain big ints dups fixed empty; do
    mdb_load -f "$work/$name.txt" -s "$name" "$work/db"
done
: > "$work/expected.dump"
for name in big dups empty fixed ints plain; do
    echo "# $name" >> "$work/expected.dump"
    mdb_dump -s "$name" "$work/db" >> "$work/expected.dump"
done
mdb_stat -a "$work/db" > "$here/mdb_stat.txt"
gzip -9n < "$work/db/data.mdb" > "$here/data.mdb.gz"
gzip -9n < "$work/expected.dump" > "$here/expected.dump.gz"
