#!/usr/bin/perl
# bench/report.pl RESULTS WALSTATS key=value...: the table of bench/run.
#
# RESULTS: round name req/s p50_us p99_us non2xx socket_errors peak_rss_kib
# WALSTATS: round name requests wal_records wal_bytes wal_syncs sync_ms wal_writes
# A scenario with a ceiling of its own (ceiling:create for create,
# create@pgbouncer, create~unnamed and create~async; ceiling:pipeline for
# pipeline...) is set against it in /ceiling and /bound; the others against
# the list's (ceiling).
# Names ending in @1M were measured against the copy grown to 1,000,000
# articles (--big); in @pgbouncer through PgBouncer, ~unnamed with
# DB_POOL_MODE=transaction straight to PostgreSQL (--pooler pgbouncer);
# NAME×M against WORKERS = M x the CPUs (--workers-sweep), NAME~delay with
# commit_delay and commit_siblings (--commit-delay).
use strict;
use utf8;
use warnings;
binmode STDOUT, ':encoding(UTF-8)';

my ($results, $walstats, @kv) = @ARGV;
my %info = map { split /=/, $_, 2 } @kv;

sub median { my @s = sort { $a <=> $b } @_; @s % 2 ? $s[$#s / 2] : ($s[@s / 2 - 1] + $s[@s / 2]) / 2 }
sub min_ { (sort { $a <=> $b } @_)[0] }
sub max_ { (sort { $b <=> $a } @_)[0] }

my (%r, @order);
open my $fh, '<:encoding(UTF-8)', $results or die "$results: $!\n";
while (<$fh>) {
    chomp;
    my ($round, $name, $rps, $p50, $p99, $bad, $sock, $rss, $cpu) = split /\t/;
    my $set = 'main';
    push @order, "$set/$name" unless $r{"$set/$name"};
    push @{ $r{"$set/$name"} }, { rps => $rps, p50 => $p50, p99 => $p99, err => $bad + $sock, rss => $rss,
        cpu => [ split m{/}, $cpu // '' ] };
}
my %m;    # medians
for my $k (keys %r) {
    my @x = @{ $r{$k} };
    $m{$k} = {
        rps => median(map { $_->{rps} } @x), min => min_(map { $_->{rps} } @x), max => max_(map { $_->{rps} } @x),
        p50 => median(map { $_->{p50} } @x), p99 => median(map { $_->{p99} } @x),
        err => eval { my $s = 0; $s += $_->{err} for @x; $s }, rss => max_(map { $_->{rss} } @x), n => scalar @x,
        cpu => join('/', map { my $i = $_; my @v = grep { defined && /\d/ } map { $_->{cpu}[$i] } @x;
                               @v ? sprintf('%.0f', median(@v)) : '-' } 0 .. 3),
    };
}

my $together;    # floor~together/floor + ceiling~together/ceiling

# the ceiling of a scenario: its own (ceiling:BASE) if measured, or the list's
sub ceiling_of {
    my ($set, $name) = @_;
    (my $base = $name) =~ s/[@~].*//;
    $base =~ s/^ceiling://;
    return $m{"$set/ceiling:$base"} ? "ceiling:$base" : 'ceiling';
}

sub table {
    my ($set) = @_;
    my $fl = $m{"$set/floor"}{rps};
    my $ce = $m{"$set/ceiling"}{rps};
    my $bound = $fl && $ce ? 1 / (1 / $fl + 1 / $ce) : undef;
    printf "%-17s %24s %8s %8s %7s %8s %7s %7s %10s  %s\n", 'scenario', 'req/s median (min-max)', 'p50 ms', 'p99 ms',
        'errors', '/ceiling', '/floor', '/bound', 'worker RSS', 'CPU us/req c/n/a/pg';
    for my $k (grep { m{^$set/} } @order) {
        my $x = $m{$k};
        (my $name = $k) =~ s{.*/}{};
        my $lat = $name eq 'crypt';
        my $c = $m{ "$set/" . ceiling_of($set, $name) }{rps};
        my $b = $fl && $c ? 1 / (1 / $fl + 1 / $c) : undef;
        printf "%-17s %24s %8s %8s %7d %8s %7s %7s %10s  %s\n", $name,
            sprintf('%.0f (%.0f-%.0f)', $x->{rps}, $x->{min}, $x->{max}),
            $lat ? '-' : sprintf('%.2f', $x->{p50} / 1000), $lat ? '-' : sprintf('%.2f', $x->{p99} / 1000),
            $x->{err},
            $c ? sprintf('%.2f', $x->{rps} / $c) : '-',
            $fl ? sprintf('%.2f', $x->{rps} / $fl) : '-',
            $b ? sprintf('%.2f', $x->{rps} / $b) : '-',
            $x->{rss} ? sprintf('%.1f MiB', $x->{rss} / 1024) : '-', $x->{cpu};
    }
    printf "%-17s %24.0f   = 1 / (1/floor + 1/ceiling)\n", 'combined bound', $bound if $bound;
    my ($tf, $tc) = map { $m{"$set/$_~together"} } qw(floor ceiling);
    if ($bound && $tf && $tc) {
        $together = $tf->{rps} / $fl + $tc->{rps} / $ce;
        printf "%-17s %24.2f   = floor~together/floor + ceiling~together/ceiling: the share of their\n"
            . "%-17s %24s     separate rates the two keep side by side (the bound assumes 1.00)\n",
            'side by side', $together, '', '';
    }
    print "CPU us/req: CPU time per request of client (wrk, pgbench) / nginx / responder (blogposter or floor) / PostgreSQL\n";
    my $sum = sub { my $t = 0; $t += $_ for grep { /\d/ } split m{/}, ($m{"$set/$_[0]"} // {})->{cpu} // ''; $t };
    printf "CPU per list request %d us; floor + ceiling %d + %d = %d us (x%.2f)\n", $sum->('list'), $sum->('floor'),
        $sum->('ceiling'), $sum->('floor') + $sum->('ceiling'), $sum->('list') / ($sum->('floor') + $sum->('ceiling'))
        if $m{"$set/list"} && $sum->('floor') && $sum->('ceiling');
    printf "EXPLAIN ANALYZE of the list request's statements (generic plans, bench/var/explain.txt): %s ms\n", $info{explain}
        if $info{explain} && $set eq 'main';
    return $bound;
}

printf "blogposter bench, %s: %s CPUs (%s), load average before / after %s\n", $info{date}, $info{cpus}, $info{cpu}, $info{load};
printf "%d rounds x %d s, %d connections (%d wrk threads), %d workers, %d users x %d articles, fastcgi_keep_conn %s, floor body %d bytes\n",
    @info{qw(rounds duration conns)}, $info{threads} || $info{conns}, @info{qw(workers users per_user)}, $info{keep_conn},
    $info{floor_bytes} // 2048;
printf "NAME×M: WORKERS = M x %d CPUs (%s)\n", $info{cpus}, join(', ', map { "×$_ = " . $_ * $info{cpus} } split ' ', $info{sweep})
    if $info{sweep};
printf "NAME~delay: commit_delay = %d us, commit_siblings = %d\n", @info{qw(delay siblings)} if $info{delay};
print "\n";
my $bound = table('main');

my @check;
sub check { my ($ok, $what) = @_; push @check, sprintf "  %-8s %s", $ok ? 'met' : 'NOT met', $what }
sub have { my @k = @_; !grep { !$m{"main/$_"} } @k }
if ($bound && have('list')) {
    my $l = $m{'main/list'};
    check($l->{rps} >= 0.8 * $bound, sprintf 'list >= 0.8 of the combined bound: %.2f', $l->{rps} / $bound);
    push @check, sprintf "  %-8s list against the bound times the side-by-side share: %.2f / %.2f = %.2f", 'info',
        $l->{rps} / $bound, $together, $l->{rps} / $bound / $together if $together;
    check($l->{p99} <= 2 * $l->{p50}, sprintf 'list p99 <= 2 x p50: %.2f ms / %.2f ms = %.2f', $l->{p99} / 1000, $l->{p50} / 1000, $l->{p99} / $l->{p50});
    # the same ratio for what does no work (floor) and for PostgreSQL alone
    # (ceiling), at the same connection count: a floor above 2 is the machine's
    push @check, sprintf "  %-8s p99 / p50 of %s", 'info', join ', ', map { sprintf '%s %.2f', $_, $m{"main/$_"}{p99} / $m{"main/$_"}{p50} }
        grep { $m{"main/$_"} && $m{"main/$_"}{p50} } qw(floor ceiling list), map { "list×$_" } split ' ', $info{sweep} // '';
}
if (have(qw(list list_apikey))) {
    my $x = $m{'main/list_apikey'}{rps} / $m{'main/list'}{rps};
    check(abs($x - 1) <= 0.1, sprintf 'list_apikey within 10%% of list: %.2f', $x);
}
for my $s (qw(create pipeline)) {
    next unless have($s, "ceiling:$s");
    my $x = $m{"main/$s"}{rps} / $m{"main/ceiling:$s"}{rps};
    check($x >= 0.8, sprintf '%s / its ceiling >= 0.8: %.0f / %.0f = %.2f', $s, $m{"main/$s"}{rps},
        $m{"main/ceiling:$s"}{rps}, $x);
}
if (have(qw(list get))) {
    my $x = $m{'main/get'}{rps} / $m{'main/list'}{rps};
    check($x >= 1, sprintf 'get >= list: %.2f', $x);
}
# --pooler pgbouncer: through PgBouncer in transaction mode, and the
# unnamed statements of DB_POOL_MODE=transaction alone (straight to
# PostgreSQL), each against the same scenario direct with named ones.
for my $s (qw(list get create pipeline)) {
    if (have($s, "$s\@pgbouncer")) {
        my $x = $m{"main/$s\@pgbouncer"}{rps} / $m{"main/$s"}{rps};
        if ($s eq 'list') { check($x >= 0.75, sprintf 'list through PgBouncer >= 0.75 of list direct: %.2f', $x) }
        else { push @check, sprintf "  %-8s %s through PgBouncer / direct: %.2f", 'info', $s, $x }
    }
    push @check, sprintf "  %-8s %s with unnamed statements (DB_POOL_MODE=transaction, direct) / named: %.2f", 'info', $s,
        $m{"main/$s~unnamed"}{rps} / $m{"main/$s"}{rps} if have($s, "$s~unnamed");
}
if (have(qw(login crypt))) {
    my $x = $m{'main/login'}{rps} / $m{'main/crypt'}{rps};
    check($x >= 0.9, sprintf 'login >= 0.9 of crypt_rn/s in %d processes: %.0f / %.0f = %.2f', $info{workers},
        $m{'main/login'}{rps}, $m{'main/crypt'}{rps}, $x);
}
if ($info{rss_1k}) {
    my $d = $info{rss_100k} - $info{rss_1k};
    check($d <= 1024, sprintf 'worker RSS after 100,000 requests within 1 MiB of after 1,000: %.1f -> %.1f MiB (%+d KiB; %.1f MiB at the end)',
        $info{rss_1k} / 1024, $info{rss_100k} / 1024, $d, $info{rss_end} / 1024);
}

# WAL, per request, for the writing scenarios.
my %w;
if (open my $wf, '<:encoding(UTF-8)', $walstats) {
    while (<$wf>) {
        chomp;
        my ($round, $name, $n, $rec, $bytes, $syncs, $ms, $writes) = split /\t/;
        my $x = $w{$name} //= {};
        $x->{n} += $n; $x->{rec} += $rec; $x->{bytes} += $bytes; $x->{syncs} += $syncs; $x->{ms} += $ms;
        $x->{writes} += $writes // 0;
    }
}
if (%w) {
    print "\nWAL per request (pg_stat_wal; ~async: synchronous_commit=off, for comparison only)\n";
    print "  (syncs: wal_sync, the WAL flushes; writes: wal_write, the write() calls of WAL)\n";
    printf "  %-17s %9s %9s %10s %10s %12s %12s\n", 'scenario', 'records', 'bytes', 'syncs', 'writes', 'ms per sync',
        'sync ms/req';
    for my $name (grep { $w{$_} } map { s{^main/}{}r } @order) {
        my $x = $w{$name};
        printf "  %-17s %9.1f %9.0f %10.3f %10.3f %12.3f %12.3f\n", $name, $x->{rec} / $x->{n}, $x->{bytes} / $x->{n},
            $x->{syncs} / $x->{n}, $x->{writes} / $x->{n}, $x->{syncs} ? $x->{ms} / $x->{syncs} : 0, $x->{ms} / $x->{n};
    }
    for my $s (qw(create pipeline)) {
        next unless $m{"main/$s"} && $m{"main/$s~async"};
        printf "  %s: %.0f req/s with synchronous_commit=on, %.0f with off (x%.2f)\n", $s,
            $m{"main/$s"}{rps}, $m{"main/$s~async"}{rps}, $m{"main/$s~async"}{rps} / $m{"main/$s"}{rps};
    }
}

# --workers-sweep / --commit-delay: each scenario against its own row at
# WORKERS = the CPUs (×1) when there is one, else the main row
if ($info{sweep} || $info{delay}) {
    print "\nWORKERS and commit_delay (against ×1, else the main row; WAL syncs per request from pg_stat_wal)\n";
    printf "  %-17s %8s %6s %8s %8s %8s %10s\n", 'scenario', 'req/s', '/×1', 'p50 ms', 'p99 ms', 'p99/p50', 'syncs/req';
    for my $s (qw(list create pipeline)) {
        my $ref = $m{"main/$s×1"} // $m{"main/$s"} or next;
        for my $k (grep { m{^main/\Q$s\E(?:×\d+)?(?:~delay)?$} } @order) {
            my $x = $m{$k};
            (my $name = $k) =~ s{.*/}{};
            printf "  %-17s %8.0f %6.2f %8.2f %8.2f %8.2f %10s\n", $name, $x->{rps}, $x->{rps} / $ref->{rps},
                $x->{p50} / 1000, $x->{p99} / 1000, $x->{p50} ? $x->{p99} / $x->{p50} : 0,
                $w{$name} ? sprintf('%.3f', $w{$name}{syncs} / $w{$name}{n}) : '-';
        }
    }
}

if ($m{'main/list@1M'} && have('list')) {
    my ($a, $b) = ($m{'main/list'}, $m{'main/list@1M'});
    check($b->{p50} <= 1.2 * $a->{p50}, sprintf 'list median latency at %d articles <= 1.2 x at %d: %.2f ms / %.2f ms = %.2f (req/s %.2f; the ceiling %.2f)',
        $info{articles_big}, $info{articles}, $b->{p50} / 1000, $a->{p50} / 1000, $b->{p50} / $a->{p50},
        $b->{rps} / $a->{rps}, $m{'main/ceiling@1M'} ? $m{'main/ceiling@1M'}{rps} / $m{'main/ceiling'}{rps} : 0);
}
if ($m{'main/search@1M'} && $m{'main/list@1M'}) {
    my ($a, $b) = ($m{'main/list@1M'}, $m{'main/search@1M'});
    check($b->{p50} <= 2 * $a->{p50}, sprintf 'title search median latency at %d articles <= 2 x the plain list: %.2f ms / %.2f ms = %.2f (req/s %.2f)',
        $info{articles_big}, $b->{p50} / 1000, $a->{p50} / 1000, $b->{p50} / $a->{p50}, $b->{rps} / $a->{rps});
}
print "\nTargets:\n", join("\n", @check), "\n" if @check;
