#!/usr/bin/env python3
"""Writes mdb_load input (bytevalue format) for each named database of the LMDB 0.9 fixture.

Data is deterministic and offset-sensitive (every byte depends on its position), so a reader that
is off by one byte anywhere reads different values. Usage: gen.py OUTDIR
"""
import os, struct, sys

out = sys.argv[1]

def pattern(seed, n):
    return bytes(((seed * 131 + j * 7 + (j >> 8) * 13) % 251) for j in range(n))

def write(name, flags, pairs):
    with open(os.path.join(out, name + ".txt"), "w") as f:
        f.write("VERSION=3\nformat=bytevalue\ntype=btree\nmapsize=268435456\n")
        for flag in flags:
            f.write(flag + "=1\n")
        f.write("HEADER=END\n")
        for k, v in pairs:
            f.write(" " + k.hex() + "\n " + v.hex() + "\n")
        f.write("DATA=END\n")

# Long keys make branch pages hold few entries: 6000 of them need three levels of pages.
write("plain", [], [(b"key-%06d-" % i + pattern(i, 180), pattern(i + 1, (i * 37) % 300)) for i in range(6000)])

# Values from just under a page to several hundred kilobytes live on overflow pages.
write("big", [], [(b"big-%03d" % i, pattern(i, 2000 + i * 9973)) for i in range(40)])

# Native-endian u64 keys, as strfry's levId tables; fed in shuffled order.
ints = [(struct.pack("<Q", (i * 7919) % 5003 + 1), pattern(i, 20 + i % 90)) for i in range(5003)]
write("ints", ["integerkey"], ints)

# Duplicates: a few per key stay in a sub-page inside the leaf; thousands under one key move to a
# sub-database.
dups = []
for i in range(300):
    for d in range(1 + i % 5):
        dups.append((b"dupkey-%04d" % i, b"value-%02d-" % d + pattern(i * 10 + d, 10 + d)))
for d in range(3000):
    dups.append((b"dupkey-many", b"many-%05d" % d))
write("dups", ["dupsort"], dups)

# strfry's index layout: dupsort + dupfixed + integerdup, u64 levIds as values (LEAF2 pages).
fixed = []
for i in range(200):
    for d in range(1 + i % 7):
        fixed.append((b"idx-%04d" % i, struct.pack("<Q", i * 100 + d)))
for d in range(2500):
    fixed.append((b"idx-many", struct.pack("<Q", d * 3 + 1)))
write("fixed", ["dupsort", "dupfixed", "integerdup"], fixed)

write("empty", [], [])
