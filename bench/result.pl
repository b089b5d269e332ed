#!/usr/bin/perl
# bench/result.pl OUT TMPDIR: one line of bench/var/results.tsv from the
# output of one measurement (wrk through bench/wrk/common.lua, pgbench, or
# crypt_rate) and what bench/run measured around it (environment):
#   round name req/s p50_us p99_us non2xx socket_errors peak_rss_kib cpu
# cpu is the CPU time per request in microseconds of client/nginx/responder/
# PostgreSQL ("-" where none took part).  Also appends the WAL written per
# request of the writing scenarios to $WALFILE:
#   round name requests wal_records wal_bytes wal_syncs sync_ms wal_writes
use strict;
use warnings;

my ($out, $tmp) = @ARGV;
my $text = do { local (@ARGV, $/) = $out; <> };
my $name = $ENV{NAME};
my (%v, $n);
if ($name =~ /^ceiling/) {
    # a pgbench transaction stands for $REQS requests (ceiling:pipeline:
    # start and complete): its rate and count are multiplied, its latency
    # divided (the requests' mean within one transaction)
    my $k = $ENV{REQS} || 1;
    ($v{rps}) = $text =~ /tps = ([\d.]+) \(without/ or exit 1;
    ($n) = $text =~ /transactions actually processed: (\d+)/;
    my ($fail) = $text =~ /failed transactions: (\d+)/;
    my @l = sort { $a <=> $b } map { (split)[2] / $k } `cat $tmp/pgb.*`;
    @v{qw(p50_us p99_us non2xx socket_errors)} = ($l[int(@l * .5)], $l[int(@l * .99)], $fail // 0, 0);
    $v{rps} *= $k;
    $n *= $k;
} elsif ($name eq 'crypt') {
    ($v{rps}) = $text =~ /crypt_rn_per_s ([\d.]+)/ or exit 1;
    $n = $v{rps} * $ENV{DUR};
    @v{qw(p50_us p99_us non2xx socket_errors)} = (0, 0, 0, 0);
} else {
    my ($line) = $text =~ /^(BENCH .*)$/m or exit 1;
    %v = $line =~ /(\w+)=(\d+)/g;
    $n = $v{requests};
    $v{rps} = $n / ($v{duration_us} / 1e6);
}

# CPU per request: client (time's user + sys), then nginx, responder and
# PostgreSQL from /proc (ticks of: nginx app, floor, big; responder app,
# floor, big; PostgreSQL).
my @c0 = split ' ', $ENV{CPU0};
my @c1 = split ' ', $ENV{CPU1};
my @d = map { ($c1[$_] - $c0[$_]) / $ENV{HZ} } 0 .. 6;
my ($cu, $cs) = split ' ', $ENV{CLIENT};
# side by side (together), the clients' time is both halves': not shown
my $client = $name =~ /~together$/ ? undef : $cu + $cs;
my @cpu = $name =~ /^floor/ ? ($client, $d[1], $d[4], undef)
        : $name =~ /^ceiling/ ? ($client, undef, undef, $d[6])
        : $name eq 'crypt' ? ($cu + $cs, undef, undef, undef)
        : $name =~ /\@1M$/ ? ($cu + $cs, $d[2], $d[5], $d[6])
        : ($cu + $cs, $d[0], $d[3], $d[6]);
my $cpu = join '/', map { defined $_ && $n ? sprintf('%.0f', $_ * 1e6 / $n) : '-' } @cpu;

printf "%s\t%s\t%.1f\t%d\t%d\t%d\t%d\t%d\t%s\n", $ENV{ROUND}, $name, $v{rps}, $v{p50_us}, $v{p99_us},
    $v{non2xx}, $v{socket_errors}, $ENV{RSS}, $cpu;

if ($n && $name =~ /create|pipeline/) {
    my @a = split ' ', $ENV{WAL0};
    my @b = split ' ', $ENV{WAL1};
    open my $f, '>>', $ENV{WALFILE} or die "$ENV{WALFILE}: $!\n";
    printf $f "%s\t%s\t%d\t%d\t%d\t%d\t%.3f\t%d\n", $ENV{ROUND}, $name, $n, map { $b[$_] - $a[$_] } 0 .. 4;
}
