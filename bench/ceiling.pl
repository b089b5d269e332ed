#!/usr/bin/perl
# bench/ceiling.pl [options] ID1 DIR CAPTURE... < "id ver" lines
#
# Makes the pgbench scripts of a ceiling from what PostgreSQL logged
# (log_statement = all) for one scenario made by user ID1.  Each CAPTURE
# file holds the log lines of one HTTP request, in order (the pipeline
# scenario is two: start, then complete): each "execute NAME: SQL" with
# its "DETAIL: parameters: $1 = '...', ..." line, and the statements of
# the simple protocol ("statement: BEGIN", "statement: COMMIT"), whose
# name is their text.
#
# The statements stay exactly as the worker prepared them, parameters
# included: pgbench -M prepared turns each :variable into a parameter and
# prepares each statement once per connection, as a worker does.  pgbench
# has no string variables but the -D ones given on its command line, so
# there is one script per user (at most 128, pgbench's limit), DIR/uN.sql,
# whose user id and token version are the variables idN and verN; the
# other parameters keep their logged values (pN_K).  DIR/vars holds the
# -D values, one NAME=VALUE a line; DIR/requests the number of requests
# one script stands for (one per CAPTURE), by which bench/run multiplies
# pgbench's rate.  A NULL parameter becomes the constant NULL (pgbench
# cannot send a NULL): the planner may fold what depends on it, so the
# ceiling does at most the worker's work there.  pgbench also takes a
# :name inside a literal for a variable (to_char's 'HH24:MI:SS'): those
# colons are spelled U&'\003A', which the server reads as the same
# constant when it parses the statement.
#
# Options:
#   --split NAMES  the round trips: the statements (comma-separated names;
#                  BEGIN and COMMIT by their text) that start a new one
#                  within a request.  Default: none, a request is one round
#                  trip (\startpipeline ... \endpipeline), as a read sends
#                  its authentication check with its first query (src/db.c,
#                  db_guard).  "all": one round trip per statement.  A new
#                  request always starts a new round trip.
#   --skip NAMES   statements left out (what a worker does between
#                  requests, e.g. its housekeeping).
#   --param NAME:K=TEXT  parameter $K of statement NAME is written TEXT
#                  (repeatable): a value that must differ per pgbench
#                  transaction (":uniq", a number no other transaction of
#                  the run has: 7 then 17 digits), or one the scenario
#                  takes from an earlier answer (an SQL expression, which
#                  may use the statement's $N).
#   --explain FILE the same statements prepared under their logged text
#                  and run once each with EXPLAIN (ANALYZE, BUFFERS) and the
#                  logged parameters: the generic plans a worker runs, and
#                  what each costs the server (reads only: it runs them).
use strict;
use warnings;
use Getopt::Long;

my ($split, $skip, @param, $explain) = ('', '');
GetOptions('split=s' => \$split, 'skip=s' => \$skip, 'param=s' => \@param, 'explain=s' => \$explain)
    or die "usage: ceiling.pl [--split NAMES] [--skip NAMES] [--param NAME:K=TEXT]... [--explain FILE] ID1 DIR CAPTURE...\n";
my ($id1, $dir, @captures) = @ARGV;
die "ceiling.pl: no capture\n" unless @captures;
my %split = map { $_ => 1 } grep { length } split /,/, $split;
my %skip = map { $_ => 1 } grep { length } split /,/, $skip;
my %param;    # "NAME:K" => text
for (@param) {
    /^([^:]+):(\d+)=(.*)$/s or die "ceiling.pl: --param NAME:K=TEXT, not $_\n";
    $param{"$1:$2"} = $3;
}

# The requests: each a list of statements [name, sql, {K => value or undef}].
my @requests;
for my $capture (@captures) {
    open my $in, '<', $capture or die "$capture: $!\n";
    my @stmts;
    while (<$in>) {
        if (/LOG:  execute (\S+): (.*)/) {
            push @stmts, [ $1, $2, {} ];
        } elsif (/LOG:  statement: (.*?);?$/) {
            push @stmts, [ $1, $1, {} ];
        } elsif (/DETAIL:  parameters: (.*)/ && @stmts) {
            my $d = $1;
            while ($d =~ /\$(\d+) = (?:'((?:[^']|'')*)'|(NULL))/g) {
                my ($k, $v) = ($1, $2);
                $v =~ s/''/'/g if defined $v;
                $stmts[-1][2]{$k} = $v;
            }
        }
    }
    close $in;
    @stmts = grep { !$skip{ $_->[0] } } @stmts;
    die "no statements in $capture\n" unless @stmts;
    push @requests, \@stmts;
}

if ($explain) {
    open my $x, '>', $explain or die "$explain: $!\n";
    print $x "SET plan_cache_mode = force_generic_plan;\n";
    my $s = 0;
    for my $st (map { @$_ } @requests) {
        my ($name, $text, $p) = @$st;
        next unless %$p;    # BEGIN, COMMIT
        my @args = map { my $v = $p->{$_}; defined $v ? do { $v =~ s/'/''/g; "'$v'" } : 'NULL' } sort { $a <=> $b } keys %$p;
        print $x "PREPARE q$s AS $text;\n";
        print $x "\\o /dev/null\n";
        print $x "EXECUTE q$s(", join(', ', @args), ");\n" for 1 .. 5;    # warm, and past the custom plans
        print $x "\\o\n";
        print $x "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE q$s(", join(', ', @args), ");\n";
        $s++;
    }
    close $x;
}

my $uniq = grep { /:uniq\b/ } values %param;
my %vars;
$vars{n} = 0 if $uniq;
my $n = 0;
while (my $line = <STDIN>) {
    my ($id, $ver) = split ' ', $line;
    last if ++$n > 128;
    $vars{"id$n"} = $id;
    $vars{"ver$n"} = $ver;
    open my $out, '>', "$dir/u$n.sql" or die "$dir/u$n.sql: $!\n";
    # :uniq: a per-client counter (pgbench keeps a client's variables from
    # one transaction to the next) under the client's own prefix
    print $out "\\set n :n + 1\n\\set uniq 700000000000000000 + :client_id * 1000000000 + :n\n" if $uniq;
    my $s = 0;
    for my $req (@requests) {
        my @trips = ([]);    # the round trips of this request
        for my $st (@$req) {
            push @trips, [] if @{ $trips[-1] } && ($split eq 'all' || $split{ $st->[0] });
            push @{ $trips[-1] }, $st;
        }
        for my $trip (@trips) {
            print $out "\\startpipeline\n" if @$trip > 1;
            for my $st (@$trip) {
                my ($name, $text, $p) = @$st;
                my ($verk) = $text =~ /token_version = \$(\d+)\b/;
                $text =~ s{'([^']*)'}{ my $l = $1; $l =~ /:/ ? "U&'" . ($l =~ s/:/\\003A/gr) . "'" : "'$l'" }ge;
                # the parameters written otherwise first: their text may use $N
                $text =~ s{\$(\d+)\b}{ $param{"$name:$1"} // "\$$1" }ge;
                $text =~ s{\$(\d+)\b}{
                    my $k = $1;
                    if (!defined $p->{$k}) { 'NULL' }
                    elsif ($p->{$k} eq $id1) { ":id$n" }
                    elsif (defined $verk && $k == $verk) { ":ver$n" }
                    else { $vars{"p${s}_$k"} = $p->{$k}; ":p${s}_$k" }
                }ge;
                print $out "$text;\n";
                $s++;
            }
            print $out "\\endpipeline\n" if @$trip > 1;
        }
    }
    close $out;
}
open my $v, '>', "$dir/vars" or die "$dir/vars: $!\n";
print $v map { "$_=$vars{$_}\n" } sort keys %vars;
close $v;
open my $r, '>', "$dir/requests" or die "$dir/requests: $!\n";
print $r scalar(@requests), "\n";
