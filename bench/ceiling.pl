#!/usr/bin/perl
# bench/ceiling.pl CAPTURE_LOG ID1 DIR < "id ver" lines
#
# Makes the pgbench scripts of the ceiling from what PostgreSQL logged
# (log_statement = all) for one list request made by user ID1: each
# "execute NAME: SQL" with its "DETAIL: parameters: $1 = '...', ..." line.
#
# The statements stay exactly as the worker prepared them, parameters
# included: pgbench -M prepared turns each :variable into a parameter and
# prepares each statement once per connection, as a worker does.  pgbench
# has no string variables but the -D ones given on its command line, so
# there is one script per user (at most 128, pgbench's limit), DIR/uN.sql,
# whose user id and token version are the variables idN and verN; the
# other parameters keep their logged values (pN_K).  DIR/vars holds the -D
# options.  The statements are sent as the worker sends them: in one
# round trip (\startpipeline ... \endpipeline), since a read's
# authentication check goes with its first query (src/db.c, db_guard).
# pgbench also takes a :name inside a literal for a variable
# (to_char's 'HH24:MI:SS'): those colons are spelled U&'\003A', which the
# server reads as the same constant when it parses the statement.
#
# DIR/explain.sql: the same statements prepared under their logged text and
# run once each with EXPLAIN (ANALYZE, BUFFERS) and the logged parameters:
# the generic plans a worker runs, and what each costs the server.
use strict;
use warnings;

my ($capture, $id1, $dir) = @ARGV;
open my $in, '<', $capture or die "$capture: $!\n";
my (@stmts, $sql);
while (<$in>) {
    if (/LOG:  execute \S+: (.*)/) {
        $sql = $1;
    } elsif (/DETAIL:  parameters: (.*)/ && defined $sql) {
        push @stmts, [ $sql, { $1 =~ /\$(\d+) = '([^']*)'/g } ];
        undef $sql;
    }
}
die "no statements in $capture\n" unless @stmts;

{
    open my $x, '>', "$dir/explain.sql" or die "$dir/explain.sql: $!\n";
    print $x "SET plan_cache_mode = force_generic_plan;\n";
    for my $s (0 .. $#stmts) {
        my ($text, $p) = @{ $stmts[$s] };
        my @args = map { my $v = $p->{$_}; $v =~ s/'/''/g; "'$v'" } sort { $a <=> $b } keys %$p;
        print $x "PREPARE q$s AS $text;\n";
        print $x "\\o /dev/null\n";
        print $x "EXECUTE q$s(", join(', ', @args), ");\n" for 1 .. 5;    # warm, and past the custom plans
        print $x "\\o\n";
        print $x "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE q$s(", join(', ', @args), ");\n";
    }
    close $x;
}

my %vars;
my $n = 0;
while (my $line = <STDIN>) {
    my ($id, $ver) = split ' ', $line;
    last if ++$n > 128;
    $vars{"id$n"} = $id;
    $vars{"ver$n"} = $ver;
    open my $out, '>', "$dir/u$n.sql" or die "$dir/u$n.sql: $!\n";
    print $out "\\startpipeline\n";
    for my $s (0 .. $#stmts) {
        my ($text, $p) = @{ $stmts[$s] };
        my ($verk) = $text =~ /token_version = \$(\d+)\b/;
        $text =~ s{'([^']*)'}{ my $l = $1; $l =~ /:/ ? "U&'" . ($l =~ s/:/\\003A/gr) . "'" : "'$l'" }ge;
        $text =~ s{\$(\d+)\b}{
            my $k = $1;
            if ($p->{$k} eq $id1) { ":id$n" }
            elsif (defined $verk && $k == $verk) { ":ver$n" }
            else { $vars{"p${s}_$k"} = $p->{$k}; ":p${s}_$k" }
        }ge;
        print $out "$text;\n";
    }
    print $out "\\endpipeline\n";
    close $out;
}
open my $v, '>', "$dir/vars" or die "$dir/vars: $!\n";
print $v map { "-D $_=$vars{$_}\n" } sort keys %vars;
