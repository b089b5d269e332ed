#!/usr/bin/env perl
# Several app hosts behind one nginx: three `blogposter serve` instances on
# TCP at distinct loopback addresses (127.0.0.2, .3, .4), each with its own
# WORKERS and FASTCGI_ALLOWED_ADDRS=127.0.0.1 (the address nginx connects
# from), all on the same database, in one upstream with passive health
# checks (max_fails, fail_timeout).
#   - all three answer;
#   - one instance is killed whole (SIGKILL to its process group: master
#     and workers) under a mixed load of creates with unique titles and
#     reads: reads go on being answered (a GET that fails on the dead host
#     is retried on another), every create acknowledged with 201 is stored
#     exactly once, and an unacknowledged one is there whole or not at all
#     (nginx does not retry a POST it has sent: it answers 502);
#   - started again, the instance gets requests again once fail_timeout
#     has passed.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use BP::Harness;
use BP::Fixtures qw(make_user auth);
use BP::Util qw(json_bytes);
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep time);

my @ADDRS   = ('127.0.0.2', '127.0.0.3', '127.0.0.4');
my @WORKERS = (2, 1, 2);
my $FAIL_TIMEOUT = 2;

# A port free on every one of the addresses.
sub free_port {
    PORT: for (1 .. 200) {
        my $port = 15000 + int rand 17000;
        for my $a ('127.0.0.1', @ADDRS) {
            my $s = IO::Socket::INET->new(LocalAddr => $a, LocalPort => $port, Proto => 'tcp', Listen => 1, ReuseAddr => 1)
                or next PORT;
            close $s;
        }
        return $port;
    }
    die "no free port\n";
}

my $port = free_port();
my $h = BP::Harness->new(
    start_bp => 0,
    servers  => [ map { "$_:$port max_fails=1 fail_timeout=${FAIL_TIMEOUT}s" } @ADDRS ],
);
my $dir  = $h->tmpdir;
my $JSON = { 'Content-Type' => 'application/json' };

like(BP::Harness::_slurp("$dir/nginx/conf/blogposter.conf"),
     qr/^    server 127\.0\.0\.2:$port max_fails=1 fail_timeout=2s; server 127\.0\.0\.3:$port [^\n]*; server 127\.0\.0\.4:$port [^\n]*;$/m,
     'the upstream lists the three app hosts');

# ---------------------------------------------------------------- instances

my @pid;    # master pid of each instance (its process group)

sub app_log { BP::Harness::_slurp("$dir/app$_[0].log") // '' }

sub start_app {
    my $i = shift;
    $pid[$i] = BP::Harness::_spawn(
        cmd => [ $h->_bp_cmd('serve') ],
        env => $h->bp_env(LISTEN => "$ADDRS[$i]:$port", WORKERS => $WORKERS[$i], FASTCGI_ALLOWED_ADDRS => '127.0.0.1'),
        out => "$dir/app$i.log",
        cwd => $dir,
    );
    $h->wait_until(sub {
        my $s = IO::Socket::INET->new(PeerAddr => $ADDRS[$i], PeerPort => $port, Proto => 'tcp', Timeout => 1);
        $s && close $s;
    }, 20, "instance $i on $ADDRS[$i]:$port");
}

sub kill_app {
    my $i = shift;
    my $p = delete $pid[$i] or return;
    kill 'KILL', -$p;
    waitpid($p, 0);
    $h->wait_until(sub { !grep { (stat "/proc/$_")[0] && _pgrp($_) == $p } _pids() }, 10, "instance $i gone");
}

sub _pids { opendir my $d, '/proc' or return (); grep { /^\d+$/ } readdir $d }
sub _pgrp {
    open my $fh, '<', "/proc/$_[0]/stat" or return -1;
    my $s = <$fh> // return -1;
    return (split ' ', substr($s, rindex($s, ')') + 2))[2];
}

END { kill 'KILL', -$_ for grep { defined } @pid; }

start_app($_) for 0 .. $#ADDRS;

# Requests answered by instance $i since its log had $from bytes.
sub answered {
    my ($i, $from) = @_;
    my $log = app_log($i);
    return scalar(() = substr($log, $from // 0) =~ /\baccess rid=\S+ \S+ \S+ \d+ /g);
}

my $u = make_user($h);
{
    my $ua = $h->new_ua;
    my $ok = 0;
    for (1 .. 30) { $ok++ if ($ua->get($h->url('/api/v1/articles?limit=1'), auth($u))->res->code // 0) == 200 }
    is($ok, 30, 'requests through the upstream are answered');
    my @n = map { answered($_) } 0 .. $#ADDRS;
    ok(!grep({ $_ == 0 } @n), "every instance answered some (@n)");
}

# ---------------------------------------------------------------- one killed under load

my $LOAD_S = 7;
my @kids;
my $t0 = time;
for my $c (1 .. 4) {
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        my $ua = $h->new_ua;
        $ua->connect_timeout(5)->request_timeout(20);
        open my $log, '>', "$dir/client-$c.log" or die $!;
        $log->autoflush(1);
        my $end = time + $LOAD_S;
        my $n = 0;
        while (time < $end) {
            $n++;
            if ($c <= 2) {
                my $title = "multi $c-$n";
                my $tx = $ua->post($h->url('/api/v1/articles'), { %{ auth($u) }, %$JSON },
                    json_bytes({ title => $title, content_markdown => "body of $title", primary_keyword => "kw $c-$n" }));
                printf {$log} "W\t%s\t%s\n", $tx->res->code // 0, $title;
            } else {
                my $tx = $ua->get($h->url('/api/v1/articles?limit=5'), auth($u));
                printf {$log} "R\t%s\t-\n", $tx->res->code // 0;
            }
        }
        close $log;
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
sleep 2;
kill_app(0);
my $killed_at = time - $t0;
sleep 2;
my $mark = length app_log(0);
start_app(0);
my $restarted_at = time - $t0;
waitpid($_, 0) for @kids;
note(sprintf 'instance 0 killed at %.1f s, started again at %.1f s of a %d s load', $killed_at, $restarted_at, $LOAD_S);

my (%code, %acked, %unacked);
for my $c (1 .. 4) {
    open my $fh, '<', "$dir/client-$c.log" or die $!;
    while (<$fh>) {
        chomp;
        my ($kind, $code, $title) = split /\t/;
        $code{$kind}{$code}++;
        next unless $kind eq 'W';
        if ($code == 201) { $acked{$title} = 1 } else { $unacked{$title} = $code }
    }
}
for my $k (qw(R W)) {
    note(($k eq 'R' ? 'reads' : 'creates') . ': ' . join ', ', map { "$_ x$code{$k}{$_}" } sort keys %{ $code{$k} });
}
# nginx met the dead host (and so retried elsewhere what it answered).
my @met = grep { /upstream: "fastcgi:\/\/127\.0\.0\.2:$port"/ } split /\n/, $h->nginx_error_log;
ok(@met > 0, 'nginx met the killed instance (' . scalar(@met) . ' errors logged) and passed on');
note("nginx: $_") for @met[0 .. ($#met < 2 ? $#met : 2)];
my $reads     = 0; $reads += $_ for values %{ $code{R} };
my $read_errs = $reads - ($code{R}{200} // 0);
ok($reads > 20, "reads went on ($reads)");
ok($read_errs <= 2, "reads kept being answered: $read_errs of $reads not 200 around the kill");
ok(($code{W}{201} // 0) > 10, 'creates were acknowledged (' . ($code{W}{201} // 0) . ')');
is(join(',', grep { !/^(201|502)$/ } sort keys %{ $code{W} }), '', 'no create answered other than 201 or 502');
note('unacknowledged creates: ' . (join(', ', map { "$_ ($unacked{$_})" } sort keys %unacked) || 'none'));

my %stored;
for my $r ($h->psql(q{SELECT title, count(*), min(content_markdown), min(primary_keyword), min(slug)
                        FROM articles WHERE user_id = $1 AND title LIKE 'multi %' GROUP BY title}, $u->{id})) {
    $stored{ $r->[0] } = $r;
}
my @lost  = grep { !$stored{$_} } sort keys %acked;
my @twice = grep { $stored{$_}[1] > 1 } sort keys %stored;
my @stray = grep { !$acked{$_} && !exists $unacked{$_} } sort keys %stored;
my @half;
for my $title (sort keys %stored) {
    my (undef, undef, $body, $kw, $slug) = @{ $stored{$title} };
    my ($n) = $title =~ /^multi (\d+-\d+)$/;
    push @half, $title unless ($body // '') eq "body of $title" && ($kw // '') eq "kw $n" && ($slug // '') eq "multi-$n";
}
is(scalar @lost,  0, 'every acknowledged create is stored') or diag("lost: @lost");
is(scalar @twice, 0, '... exactly once (no create stored twice)') or diag("twice: @twice");
is(scalar @stray, 0, 'nothing stored that no client sent') or diag("stray: @stray");
is(scalar @half,  0, 'every stored article is whole (body, keyword, slug)') or diag("half: @half");
my @done = grep { $stored{$_} } sort keys %unacked;
note(scalar(@done) . ' unacknowledged create(s) were carried out whole, ' . (keys(%unacked) - @done) . ' not at all');

# ---------------------------------------------------------------- back in the upstream

{
    sleep $FAIL_TIMEOUT + 0.5;
    my $ua = $h->new_ua;
    my $ok = 0;
    for (1 .. 30) { $ok++ if ($ua->get($h->url('/api/v1/articles?limit=1'), auth($u))->res->code // 0) == 200 }
    is($ok, 30, 'all answered after the restart');
    my $n = answered(0, $mark);
    ok($n > 0, "the restarted instance gets requests again ($n in its access log)");
}

# Stopped as an operator would: SIGTERM, each finishes its request.
for my $i (0 .. $#ADDRS) {
    my $p = delete $pid[$i] or next;
    kill 'TERM', $p;
    my $deadline = time + 20;
    my $r = 0;
    while (time < $deadline) { $r = waitpid($p, POSIX::WNOHANG()); last if $r == $p; sleep 0.05 }
    is($r == $p ? $? >> 8 : -1, 0, "instance $i exits 0 on SIGTERM");
}
my @reports = BP::Harness::_sanitizer_reports(join "\n", map { app_log($_) } 0 .. $#ADDRS);
ok(!@reports, 'no sanitizer report in the instances\' logs') or diag(join "\n", @reports);

done_testing;
