#!/usr/bin/perl
# Write-policy plugin (strfry's protocol) for a read-only relay: every event is refused. The message
# has no NIP-01 prefix on purpose; the relay adds one. Core perl only (perl-base has no JSON module):
# the event id is the first "id":"<64 hex>" of the line, since quotes inside JSON strings are escaped.
use strict;
use warnings;
$| = 1;
while (my $line = <STDIN>) {
    my ($id) = $line =~ /"id":"([0-9a-f]{64})"/ or next;
    print qq({"id":"$id","action":"reject","msg":"this relay is read-only"}\n);
}
