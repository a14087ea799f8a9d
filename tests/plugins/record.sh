#!/bin/sh
# Write-policy plugin that appends every request line, as received, to FILE and accepts the event.
# Usage: record.sh FILE
while IFS= read -r line; do
    printf '%s\n' "$line" >> "$1"
    id=${line#*\"id\":\"}
    id=${id%%\"*}
    printf '{"id":"%s","action":"accept","msg":""}\n' "$id"
done
