#!/usr/bin/perl
# Write-policy plugin that prints junk on stdout around its answers (banners, debug text, JSON that
# is not an object, half a line, blank lines) and chatters on stderr. Only its answers count.
use strict;
use warnings;
$| = 1;
print "noisy.pl starting up\n";
print STDERR "noisy.pl: hello from stderr\n";
while (my $line = <STDIN>) {
    my ($id) = $line =~ /"id":"([0-9a-f]{64})"/ or next;
    print "debug: got an event\n";
    print "[1,2,3]\n";
    print "\"just a string\"\n";
    print "{\"id\":\n";
    print "\n";
    print qq({"id":"$id","action":"accept"} trailing words\n);
    print STDERR "noisy.pl: answered $id\n";
    print qq({"id":"$id","action":"accept","msg":""}\n);
}
