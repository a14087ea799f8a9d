#!/bin/sh
# Write-policy plugin that breaks the protocol on request: content "wrong id" gets an answer for
# another event, "unknown action" an action that does not exist, "long answer" an answer line longer
# than strfry's 8192-byte limit; the rest is accepted.
while IFS= read -r line; do
    id=${line#*\"id\":\"}
    id=${id%%\"*}
    case $line in
        *'wrong id'*) printf '{"id":"%s","action":"accept"}\n' 0000000000000000000000000000000000000000000000000000000000000000 ;;
        *'unknown action'*) printf '{"id":"%s","action":"maybe"}\n' "$id" ;;
        *'long answer'*) printf '{"id":"%s","action":"reject","msg":"%s"}\n' "$id" "$(printf '%9000s' '' | tr ' ' x)" ;;
        *) printf '{"id":"%s","action":"accept"}\n' "$id" ;;
    esac
done
