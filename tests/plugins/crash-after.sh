#!/bin/sh
# Write-policy plugin that accepts N events, then exits with status 3, as a plugin with a fatal bug
# would. Each start is appended to STARTLOG, so a test can count restarts.
# Usage: crash-after.sh N STARTLOG
echo "started $$" >> "$2"
count=0
while IFS= read -r line; do
    id=${line#*\"id\":\"}
    id=${id%%\"*}
    printf '{"id":"%s","action":"accept"}\n' "$id"
    count=$((count + 1))
    if [ "$count" -ge "$1" ]; then
        echo "crash-after.sh: giving up after $count events" >&2
        exit 3
    fi
done
