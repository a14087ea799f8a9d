#!/usr/bin/perl
# Write-policy plugin (strfry's protocol) that accepts everything: the cheapest possible plugin,
# used to measure what the protocol itself costs.
use strict;
use warnings;
$| = 1;
while (my $line = <STDIN>) {
    my ($id) = $line =~ /"id":"([0-9a-f]{64})"/ or next;
    print qq({"id":"$id","action":"accept"}\n);
}
