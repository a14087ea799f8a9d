#!/usr/bin/perl
# Write-policy plugin that answers only once it holds three requests, then answers all three in
# order: it works only if the relay sends requests before the previous answers are in.
use strict;
use warnings;
$| = 1;
my @ids;
while (my $line = <STDIN>) {
    my ($id) = $line =~ /"id":"([0-9a-f]{64})"/ or next;
    push @ids, $id;
    next if @ids < 3;
    print qq({"id":"$_","action":"accept"}\n) for @ids;
    @ids = ();
}
