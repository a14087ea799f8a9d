#!/usr/bin/perl
# Write-policy plugin that hangs (sleeps a minute) on any event containing "please be slow" and
# accepts the others at once: the relay must time it out, kill it and carry on.
use strict;
use warnings;
$| = 1;
while (my $line = <STDIN>) {
    my ($id) = $line =~ /"id":"([0-9a-f]{64})"/ or next;
    if ($line =~ /please be slow/) {
        print STDERR "slow.pl: sleeping on $id\n";
        sleep 60;
    }
    print qq({"id":"$id","action":"accept"}\n);
}
