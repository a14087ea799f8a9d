#!/bin/sh
# Write-policy plugin (strfry's protocol) in plain POSIX sh: events that contain WORD (default
# "spam") are shadow-rejected (the client hears OK, nothing is stored), everything else accepted.
# Usage: shadow-word.sh [WORD]
word=${1:-spam}
while IFS= read -r line; do
    # The first "id":"..." of the line is the event's: quotes inside JSON strings are escaped.
    id=${line#*\"id\":\"}
    id=${id%%\"*}
    case $line in
        *"$word"*) printf '{"id":"%s","action":"shadowReject","msg":""}\n' "$id" ;;
        *) printf '{"id":"%s","action":"accept"}\n' "$id" ;;
    esac
done
