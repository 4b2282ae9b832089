#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# promql-names.pl METRICS DASHBOARD.json: check that every query of a
# Grafana dashboard names series and labels that a /metrics scrape
# (METRICS, Prometheus text format) exports. Prints one line per problem
# and exits 1 if there is any; prints "checked N queries" otherwise.
# Target labels that Prometheus adds at scrape time (instance, job) and
# a histogram's le are allowed everywhere.
use strict;
use warnings;

my ($metrics, $dash) = @ARGV;
die "usage: promql-names.pl METRICS DASHBOARD\n" unless $dash;

# series name -> { label -> { value -> 1 } }
my %series;
open my $m, '<', $metrics or die "cannot read '$metrics': $!\n";
while (<$m>) {
    next if /^#/ || !/\S/;
    my ($name, $labels) = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s/ or next;
    $series{$name} //= {};
    while (defined $labels && $labels =~ /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g) {
        $series{$name}{$1}{$2} = 1;
    }
}
close $m;

# The queries: every "expr" string of the JSON (no JSON module needed:
# the values are plain strings with \" escapes).
open my $d, '<', $dash or die "cannot read '$dash': $!\n";
my $json = do { local $/; <$d> };
close $d;
my @exprs;
while ($json =~ /"expr"\s*:\s*"((?:[^"\\]|\\.)*)"/g) {
    (my $e = $1) =~ s/\\(.)/$1/g;
    push @exprs, $e;
}
my %free = (instance => 1, job => 1, le => 1);
my @bad;
for my $e (@exprs) {
    my %used;    # metric names in this query
    while ($e =~ /\b((?:hookd|process)_[a-zA-Z0-9_]+)/g) {
        my $n = $1;
        $used{$n} = 1;
        push @bad, "'$n' is not exported (in: $e)" unless exists $series{$n};
    }
    while ($e =~ /\b((?:hookd|process)_[a-zA-Z0-9_]+)\{([^}]*)\}/g) {
        my ($n, $sel) = ($1, $2);
        next unless exists $series{$n};
        while ($sel =~ /([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"([^"]*)"/g) {
            my ($l, $op, $v) = ($1, $2, $3);
            next if $free{$l};
            if (!exists $series{$n}{$l}) {
                push @bad, "'$n' has no label '$l' (in: $e)";
            } elsif ($op eq '=' && !exists $series{$n}{$l}{$v}) {
                push @bad, "'$n' has no series with $l=\"$v\" (in: $e)";
            }
        }
    }
    while ($e =~ /\b(?:by|without)\s*\(([^)]*)\)/g) {
        for my $l (split /\s*,\s*/, $1) {
            $l =~ s/^\s+|\s+$//g;
            next if $l eq '' || $free{$l};
            my $found = grep { exists $series{$_}{$l} } keys %used;
            push @bad, "no series of this query has the label '$l' (in: $e)" unless $found;
        }
    }
}
push @bad, "no query found in '$dash'" unless @exprs;
print "$_\n" for @bad;
exit 1 if @bad;
printf "checked %d queries\n", scalar @exprs;
