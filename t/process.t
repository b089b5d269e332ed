# The process model: PostgreSQL restarted between requests, a database
# outage, a killed worker, SIGTERM during a
# request, SIGHUP under a stream of requests, a worker killed during the
# rolling restart.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use BP::Harness;
use BP::Util qw(error_is);
use Mojo::IOLoop;
use POSIX ();
use Time::HiRes qw(sleep time);

my $h = BP::Harness->new(workers => 2);
my $t = $h->t;
my $master = $h->master_pid;
my @workers = $h->wait_workers;

# --- PostgreSQL restarted while no request came: each worker finds its
# connection ended when it next takes a request, and connects again
# before answering it (no 503 once PostgreSQL is back)
for my $mode (qw(fast immediate)) {
    $h->restart_pg($mode);
    my @codes = map { $t->get_ok("/api/v1/health?after=$mode")->tx->res->code } 1 .. 8;
    is_deeply(\@codes, [ (200) x 8 ], "after a restart -m $mode nobody saw, every request is answered 200");
}
SKIP: {
    # behind PgBouncer the worker's own connection (to PgBouncer) lives on
    skip 'the workers talk to PgBouncer, whose connections a PostgreSQL restart does not end', 1 if $h->pooler;
    like($h->log, qr/database connection lost/, 'the workers noticed the ended connections');
}

# --- database outage: 503 with Retry-After, then back with the same processes
$h->stop_pg('fast');
$t->get_ok('/api/v1/health')->status_is(503)->header_is('Retry-After' => 2)
  ->json_is({ status => 'unavailable', database => 'down' });
$t->get_ok('/api/v1/health')->status_is(503, 'still 503 on the next request');
$h->start_pg;
my $t0 = time;
$h->wait_until(sub {
    my @codes = map { $t->get_ok('/api/v1/health')->tx->res->code } 1 .. 4;
    !grep { $_ != 200 } @codes;
}, 10, 'health 200 on every worker');
ok(time - $t0 < 5, sprintf 'serving again %.1f s after PostgreSQL is back', time - $t0);
is($h->master_pid, $master, 'same master');
is_deeply([$h->worker_pids], \@workers, 'same workers: no restart needed');

# --- kill -9 of a worker: a new one serves, the master stays
kill 'KILL', $workers[0];
my @after;
$h->wait_until(sub { @after = $h->worker_pids; @after == 2 && !grep { $_ == $workers[0] } @after },
    10, 'a replacement worker');
ok(!grep({ $_ == $workers[0] } @after), 'the killed worker was replaced');
is($h->master_pid, $master, 'master still the same');
for (1 .. 4) {
    $t->get_ok('/api/v1/health')->status_is(200)
        or diag(join "\n", grep { /warning|database|started|killed/ } split /\n/, $h->log);
}
like($h->log, qr/worker $workers[0] killed by signal 9/, 'the master logged how it died');
{
    # each log line names the process that wrote it: the replacement's
    # lines carry its own pid, not its parent's or its predecessor's
    my $mark = length $h->log;
    $t->get_ok("/api/v1/health?n=$_") for 1 .. 12;
    my %pids = map { $_ => 1 } substr($h->log, $mark) =~ /worker\[(\d+)\] info: access .* \/api\/v1\/health /g;
    ok(%pids, 'the requests were logged');
    my %now = map { $_ => 1 } @after;
    is_deeply([ grep { !$now{$_} } sort keys %pids ], [], "access lines carry a live worker's pid (@{[ sort keys %pids ]})");
}
@workers = @after;

# --- SIGHUP under a stream of requests: nothing fails
my $stream = sub {
    my ($seconds) = @_;
    my ($ok, $bad, @bad) = (0, 0);
    my $ua = $h->new_ua;
    my $end = time + $seconds;
    while (time < $end) {
        my $tx = $ua->get($h->url('/api/v1/health'));
        if (($tx->res->code // 0) == 200) { $ok++ } else { $bad++; push @bad, ($tx->res->code // $tx->error->{message}) }
    }
    return ($ok, $bad, @bad);
};
pipe(my $rd, my $wr) or die;
my $kid = fork // die;
if (!$kid) {
    close $rd;
    my ($ok, $bad, @bad) = $stream->(4);
    print $wr "$ok $bad @bad[0..($#bad > 5 ? 5 : $#bad)]\n";
    close $wr;
    POSIX::_exit(0);
}
close $wr;
sleep 0.5;
$h->signal_bp('HUP');
sleep 1.5;
$h->signal_bp('HUP');
my $line = <$rd>;
waitpid($kid, 0);
my ($ok, $bad, @why) = split ' ', $line // '0 -1';
ok($ok > 10, "requests kept flowing during two rolling restarts ($ok)");
is($bad, 0, 'no request failed during SIGHUP') or diag("failures: @why");
my @new = $h->wait_workers(2);
ok(!grep({ my $w = $_; grep { $_ == $w } @workers } @new), 'every worker was replaced');
is($h->master_pid, $master, 'same master after SIGHUP');

# --- the worker being replaced dies before its replacement is ready: the
# master goes on (it once sent the retirement SIGTERM to pid 0, its own
# process group, and stopped the whole service)
{
    my @old = $h->wait_workers(2);
    my %old = map { $_ => 1 } @old;
    my $pg = $h->pg_pid;
    ok($pg && kill('STOP', $pg), 'PostgreSQL paused: a new worker waits in its connect');
    $h->signal_bp('HUP');
    $h->wait_until(sub { grep { !$old{$_} } $h->worker_pids }, 10, 'the replacement worker');
    kill 'KILL', @old;
    $h->wait_until(sub { !grep { $old{$_} } $h->worker_pids }, 10, 'the old workers reaped');
    kill 'CONT', $pg;
    my @w = eval { $h->wait_workers(2, 20) };
    sleep 0.5;    # the replacement's ready signal has been taken
    ok(kill(0, $master), 'the master is still running');
    unlike($h->log, qr/stopping/, 'and did not stop');
    @w = $h->worker_pids;
    is(scalar(grep { !$old{$_} } @w), 2, "two new workers (@w)");
    $t->get_ok('/api/v1/health')->status_is(200) for 1 .. 4;
}

# --- workers that die right after start are restarted with a growing delay
{
    my @now = $h->worker_pids;
    my %seen = map { $_ => 1 } @now;
    kill 'KILL', $now[0];
    for my $round (1 .. 5) {
        my $fresh;
        $h->wait_until(sub { ($fresh) = grep { !$seen{$_} } $h->worker_pids; $fresh }, 20,
            "a new worker (round $round)");
        $seen{$fresh} = 1;
        kill 'KILL', $fresh;    # dies within its first second
    }
    my @delays = $h->log =~ /worker died right after start; next start in (\d+) ms/g;
    # a loaded machine may let one victim live past its first second
    ok(@delays >= 3, 'early deaths were answered with a delay, not an instant restart')
        or diag("delays: @delays");
    my ($max) = sort { $b <=> $a } @delays;
    ok($max > $delays[0], "the delay grows (@delays ms)");
    my @w = $h->wait_workers(2, 20);
    $t->get_ok('/api/v1/health')->status_is(200, 'serving again after the crash loop');
    @workers = @w;
}

# --- SIGTERM during a slow request: it completes, then exit 0
my $dbh = $h->dbh;
$dbh->begin_work;
$dbh->do('LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE');
my ($code, $body, $alive_while_busy);
my $ua = $h->new_ua->request_timeout(20);
$ua->get($h->url('/api/v1/health') => sub {
    my ($ua, $tx) = @_;
    ($code, $body) = ($tx->res->code, $tx->res->body);
    Mojo::IOLoop->stop;
});
# Once a worker's query waits on the lock (the request is in flight, not
# queued), stop the server; 0.8 s later let the request finish.
my $waiting = $dbh->prepare(q{SELECT count(*) FROM pg_stat_activity
    WHERE wait_event_type = 'Lock' AND application_name = 'blogposter'});
my $poll;
$poll = Mojo::IOLoop->recurring(0.05 => sub {
    $waiting->execute;
    my ($n) = $waiting->fetchrow_array;
    return unless $n;
    Mojo::IOLoop->remove($poll);
    $h->signal_bp('TERM');
    Mojo::IOLoop->timer(0.8 => sub { $alive_while_busy = kill(0, $master); $dbh->commit });
});
Mojo::IOLoop->timer(20 => sub { Mojo::IOLoop->stop });
Mojo::IOLoop->start;
ok($alive_while_busy, 'master waits for the busy worker');
is($code, 200, 'the request in flight at SIGTERM completed');
like($body // '', qr/"status":"ok"/, 'with its answer');
my $status = $h->stop_bp;
is($status, 0, 'then blogposter exited 0');
is_deeply([$h->stray_pids], [], 'no worker outlived the master');
like($h->log, qr/stopped/, 'the master logged its stop');
unlike($h->log, qr/exited with status [1-9]|killed by signal (?!9)/, 'no worker died other than by our kill -9');

done_testing;
