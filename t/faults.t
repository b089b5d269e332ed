#!/usr/bin/env perl
# Faults under load. Client processes send a steady mix of article creates
# and updates, pipeline starts and ends, and reads, and log every request
# and its answer; meanwhile this process kills workers with kill -9 at
# random moments, restarts PostgreSQL (fast, then immediate), sends SIGHUP
# twice and finally SIGTERM. Afterwards the database is compared with what
# the clients were told:
#   - every write acknowledged with 2xx is there exactly once, with its
#     values (articles by their unique title, updates, ended pipelines with
#     their status and total_cost);
#   - a write answered with a 4xx is not there; one answered otherwise
#     (502, 503, no answer) is there whole or not at all, never half-done:
#     an update's three fields come from one request, and api_usage equals,
#     per user and UTC month, the sum over the pipelines ended in it;
#   - the service answers a protected read within 5 s of PostgreSQL being
#     back;
#   - no worker ended other than by the test's kill -9 or SIGTERM (the
#     master's log), and the master exits 0.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use BP::Harness;
use BP::Fixtures qw(make_user auth);
use List::Util qw(shuffle sum0);
use Mojo::JSON qw(decode_json encode_json);
use POSIX ();
use Time::HiRes qw(sleep time);

my $T0      = time;
my $CLIENTS = 4;
my $LOAD_S  = 24;       # how long the clients send (they stop by themselves)
my $TIMEOUT = 10;       # client request timeout

my $h = BP::Harness->new(workers => 3, env => {
    MAX_MONTHLY_COST_PER_USER       => '999999.00',
    MAX_ARTICLES_PER_USER_PER_MONTH => 1000000000,
    EMBEDDING_DIM                   => 4,
});
my @users = map { make_user($h) } 1 .. 2;
my $probe = make_user($h);    # only for the recovery probes
my $dir   = $h->tmpdir;
my $master = $h->master_pid;
$h->wait_workers;

# ---------------------------------------------------------------- clients

sub client {
    my ($c, $deadline) = @_;
    my $u  = $users[ $c % @users ];
    my $ua = $h->new_ua;
    $ua->connect_timeout(5)->request_timeout($TIMEOUT)->inactivity_timeout($TIMEOUT);
    open my $log, '>', "$dir/client-$c.jsonl" or die "client log: $!";
    my $n = 0;
    my (@articles, @running);    # acknowledged articles, pipelines that may still run
    my %title_of;
    my $send = sub {
        my ($op, $method, $path, $body, %rec) = @_;
        my $t0 = time;
        my $tx = $ua->build_tx($method => $h->url($path) => auth($u) => (defined $body ? (json => $body) : ()));
        $tx = $ua->start($tx);
        my $res  = $tx->res;
        my $code = $res->code // 0;
        my $json = $code ? eval { decode_json($res->body) } : undef;
        my $rec  = { c => $c, n => ++$n, op => $op, code => $code, t => $t0 - $T0, dt => time - $t0, %rec };
        $rec->{err}    = $tx->error->{message} if !$code && $tx->error;
        $rec->{ecode}  = $json->{error}{code} if ref $json eq 'HASH' && ref $json->{error} eq 'HASH';
        $rec->{id}   //= $json->{id} if ref $json eq 'HASH' && $code >= 200 && $code < 300 && $json->{id};
        print $log encode_json($rec), "\n";
        return ($rec, $json);
    };
    my $k = 0;
    while (time < $deadline && !-e "$dir/stop") {
        my $r = rand;
        if ($r < 0.30 || !@articles) {
            my $title = sprintf 'fault c%d n%d %08x', $c, $n + 1, int rand 0xffffffff;
            my ($rec) = $send->(create => POST => '/api/v1/articles',
                { title => $title, meta_description => 'm0', primary_keyword => 'k0', seo_score => 0 }, title => $title);
            if ($rec->{code} == 201) { push @articles, $rec->{id}; $title_of{ $rec->{id} } = $title }
        } elsif ($r < 0.50) {
            my $id = $articles[ rand @articles ];
            $k++;
            $send->(update => PATCH => "/api/v1/articles/$id",
                { meta_description => "u$c-$k", primary_keyword => "k$c-$k", seo_score => $k % 101 },
                article => $id, k => $k);
        } elsif ($r < 0.65 || !@running) {
            my $body = { estimated_cost => '0.0100' };
            $body->{article_id} = $articles[ rand @articles ] if rand() < 0.3;
            my ($rec) = $send->(pstart => POST => '/api/v1/pipelines', $body);
            push @running, $rec->{id} if $rec->{code} == 201;
        } elsif ($r < 0.80) {
            my $i    = int rand @running;
            my $id   = $running[$i];
            my $cost = sprintf '0.%04d', 1 + int rand 9999;
            my $ok   = rand() < 0.6;
            my $body = $ok ? { status => 'completed', total_cost => $cost }
                           : { status => 'failed', total_cost => $cost, error_message => "failed c$c" };
            my ($rec) = $send->(pend => PATCH => "/api/v1/pipelines/$id", $body,
                pipeline => $id, status => $body->{status}, total_cost => $cost);
            # Ended, or known to have ended before (409): done with it.
            # Otherwise (no answer, 502, 503) it is tried again later:
            # a retried end never counts twice.
            splice @running, $i, 1 if $rec->{code} == 200 || $rec->{code} == 409 || $rec->{code} == 404;
        } else {
            my $w = rand;
            if ($w < 0.4) {
                my $id = $articles[ rand @articles ];
                my ($rec, $json) = $send->(read_article => GET => "/api/v1/articles/$id", undef, article => $id);
                if ($rec->{code} == 200 && ($json->{title} // '') ne $title_of{$id}) {
                    print $log encode_json({ c => $c, op => 'mismatch', article => $id, got => $json->{title} }), "\n";
                }
            } elsif ($w < 0.7) {
                $send->(list => GET => '/api/v1/articles?limit=10');
            } elsif ($w < 0.85) {
                $send->(usage => GET => '/api/v1/usage');
            } else {
                $send->(list_pipelines => GET => '/api/v1/pipelines?limit=10');
            }
        }
    }
    close $log;
}

my $deadline = time + $LOAD_S;
my @kids;
for my $c (0 .. $CLIENTS - 1) {
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
        my $ok = eval { client($c, $deadline); 1 };
        print STDERR "client $c: $@" unless $ok;
        POSIX::_exit($ok ? 0 : 1);
    }
    push @kids, $pid;
}

# ---------------------------------------------------------------- faults

my (@killed, @faults, @recovery);
my $pua = $h->new_ua->request_timeout(2)->connect_timeout(2);

sub fault { my ($what) = @_; push @faults, sprintf('%5.1f s %s', time - $T0, $what) }

sub kill_worker {
    my @w = $h->worker_pids or return;
    my $pid = $w[ rand @w ];
    kill 'KILL', $pid or return;
    push @killed, $pid;
    fault("kill -9 worker $pid");
}

# Stops PostgreSQL (clients get 503s meanwhile), starts it again, and
# measures from start_pg's return to the first 200 on a protected read.
my (@outages, $t_term);
sub restart_pg {
    my ($mode) = @_;
    my $t_stop = time - $T0;
    $h->stop_pg($mode);
    fault("PostgreSQL stopped ($mode)");
    sleep 0.8;
    $h->start_pg;
    my $t0 = time;
    my $code = 0;
    while (time - $t0 < 15) {
        $code = $pua->get($h->url('/api/v1/usage'), auth($probe))->res->code // 0;
        last if $code == 200;
        sleep 0.02;
    }
    my $dt = time - $t0;
    push @recovery, [ $mode, $dt, $code ];
    push @outages, [ $t_stop, time - $T0 ];
    fault(sprintf 'PostgreSQL started again; first 200 after %.2f s', $dt);
}

sub at { my ($s) = @_; my $w = $T0 + $s - time; sleep $w if $w > 0 }
sub jitter { $_[0] + rand($_[1]) }

my $L = $deadline - $LOAD_S - $T0;    # when the load started, from $T0
at($L + jitter(1.0, 1.0));  kill_worker();
at($L + jitter(2.5, 1.0));  kill_worker();
at($L + 4.0);               restart_pg('fast');
at($L + jitter(7.0, 1.0));  kill_worker();
at($L + 9.0);               $h->signal_bp('HUP'); fault('SIGHUP');
sleep(0.1 + rand 0.4);      kill_worker();    # during the rolling restart
at($L + 12.0);              restart_pg('immediate');
at($L + jitter(15.0, 1.0)); kill_worker(); sleep rand 0.3; kill_worker();
at($L + 17.0);              $h->signal_bp('HUP'); fault('SIGHUP');
at($L + jitter(19.0, 1.0)); kill_worker();
at($L + 21.5);              $h->signal_bp('TERM'); fault('SIGTERM'); $t_term = time - $T0;

my $status = $h->stop_bp(timeout => 30);
is($status, 0, 'after SIGTERM the master exits 0');
is_deeply([ $h->stray_pids ], [], 'no worker outlived the master');

# Clients stop at their deadline (their requests now fail fast: 502).
my $kid_fail = 0;
for my $pid (@kids) {
    my $end = time + $TIMEOUT + 10;
    sleep 0.1 while waitpid($pid, POSIX::WNOHANG()) == 0 && time < $end;
    if (kill 0, $pid) { kill 'KILL', $pid; waitpid $pid, 0; $kid_fail++ }
    elsif ($?) { $kid_fail++ }
}
is($kid_fail, 0, "the $CLIENTS clients ran and stopped by themselves");

# ---------------------------------------------------------------- what the clients were told

my @recs;
for my $c (0 .. $CLIENTS - 1) {
    open my $fh, '<', "$dir/client-$c.jsonl" or next;
    push @recs, map { decode_json($_) } <$fh>;
}
my @mismatch = grep { $_->{op} eq 'mismatch' } @recs;
@recs = grep { $_->{op} ne 'mismatch' } @recs;
my %by_status;
$by_status{ $_->{code} }++ for @recs;
my $acked   = sub { $_[0]{code} >= 200 && $_[0]{code} < 300 };
my $refused = sub { $_[0]{code} >= 400 && $_[0]{code} < 500 };

ok(@recs > 500, scalar(@recs) . ' requests sent');
is(scalar @mismatch, 0, 'a read never returned another title than the one acknowledged')
    or diag(encode_json(\@mismatch));
my @app500 = grep { $_->{code} == 500 } @recs;
is(scalar @app500, 0, 'no 500 answer') or diag(encode_json([ @app500[0 .. ($#app500 > 4 ? 4 : $#app500)] ]));
my @bad4xx = grep { $refused->($_) && !($_->{op} eq 'pend' && $_->{code} == 409) } @recs;
is(scalar @bad4xx, 0, 'no 4xx other than 409 for the retried end of a pipeline that had ended')
    or diag(encode_json([ @bad4xx[0 .. ($#bad4xx > 4 ? 4 : $#bad4xx)] ]));
# Before SIGTERM a 502 comes only from a kill -9 (the request the killed
# worker was serving), a 503 only from a PostgreSQL outage (its workers
# retry the connection with a backoff of at most 1 s: 2 s of margin).
my @early502 = grep { $_->{code} == 502 && $_->{t} + $_->{dt} < $t_term } @recs;
ok(@early502 <= @killed, scalar(@early502) . ' answers 502 before SIGTERM: no more than the ' . scalar(@killed) . ' kills')
    or diag(encode_json(\@early502));
my @stray503 = grep { my $r = $_; $r->{code} == 503 && !grep { $r->{t} + $r->{dt} >= $_->[0] && $r->{t} <= $_->[1] + 2 } @outages } @recs;
is(scalar @stray503, 0, 'no 503 outside the PostgreSQL outages') or diag(encode_json([ @stray503[0 .. ($#stray503 > 4 ? 4 : $#stray503)] ]));
my @last503 = map { my $o = $_; my ($l) = sort { $b <=> $a } map { $_->{t} + $_->{dt} } grep { $_->{code} == 503 && $_->{t} <= $o->[1] + 2 && $_->{t} + $_->{dt} >= $o->[0] } @recs; ($l // $o->[1]) - $o->[1] } @outages;
my @reads404 = grep { $_->{op} eq 'read_article' && $_->{code} == 404 } @recs;
is(scalar @reads404, 0, 'an acknowledged article is never missing on a read');

my $uids = [ map { $_->{id} } @users ];
my $db = $h->dbh;

# --- articles: created exactly once
my %db_articles;    # id => row
for my $row (@{ $db->selectall_arrayref(
        q{SELECT id, title, meta_description, primary_keyword, seo_score, user_id FROM articles WHERE user_id = ANY($1)},
        { Slice => {} }, $uids) }) {
    $db_articles{ $row->{id} } = $row;
}
my %titles_db;
$titles_db{ $_->{title} }++ for values %db_articles;
my @creates = grep { $_->{op} eq 'create' } @recs;
my @acked_creates = grep { $acked->($_) } @creates;
my (@lost, @dup_or_wrong, @refused_there, @half);
for my $r (@acked_creates) {
    my $row = $db_articles{ $r->{id} };
    push @lost, $r->{title} unless $row;
    push @dup_or_wrong, $r->{title} if ($titles_db{ $r->{title} } // 0) != 1 || ($row && $row->{title} ne $r->{title});
}
is(scalar @lost, 0, scalar(@acked_creates) . ' acknowledged creates: each is in the database') or diag("@lost[0..5]");
is(scalar @dup_or_wrong, 0, '... exactly once, under its id') or diag("@dup_or_wrong[0..5]");
my %sent = map { $_->{title} => $_ } @creates;
my @phantom = grep { !$sent{$_} } keys %titles_db;
is(scalar @phantom, 0, 'no article the clients did not send');
my @twice = grep { $titles_db{$_} > 1 } keys %titles_db;
is(scalar @twice, 0, 'no article twice');
for my $r (grep { $refused->($_) } @creates) { push @refused_there, $r->{title} if $titles_db{ $r->{title} } }
is(scalar @refused_there, 0, 'no refused create is there');
my @amb_creates = grep { !$acked->($_) && !$refused->($_) } @creates;
my $amb_created = grep { $titles_db{ $_->{title} } } @amb_creates;

# --- updates: the last acknowledged value, or a later unacknowledged one; never a mix
my %upd;    # article => [records in order]
push @{ $upd{ $_->{article} } }, $_ for sort { $a->{c} <=> $b->{c} || $a->{n} <=> $b->{n} } grep { $_->{op} eq 'update' } @recs;
my (@wrong_upd, @mixed);
my $acked_updates = 0;
for my $id (keys %upd) {
    my $row = $db_articles{$id} or next;
    my @u = @{ $upd{$id} };
    my $last_ack = -1;
    for my $i (0 .. $#u) { $last_ack = $i if $acked->($u[$i]) }
    $acked_updates += grep { $acked->($_) } @u;
    my %allowed = map { ($_->{k} => 1) } grep { !$refused->($_) } @u[ ($last_ack < 0 ? 0 : $last_ack) .. $#u ];
    $allowed{0} = 1 if $last_ack < 0;
    my ($k) = ($row->{meta_description} // '') =~ /^u\d+-(\d+)$/;
    $k //= 0 if ($row->{meta_description} // '') eq 'm0';
    my ($pk) = ($row->{primary_keyword} // '') =~ /^k\d+-(\d+)$/;
    $pk //= 0 if ($row->{primary_keyword} // '') eq 'k0';
    push @mixed, $id unless defined $k && defined $pk && $k == $pk && $row->{seo_score} == $k % 101;
    push @wrong_upd, "$id: has $row->{meta_description}, allowed " . join(',', sort keys %allowed)
        unless defined $k && $allowed{$k};
}
is(scalar @wrong_upd, 0, "$acked_updates acknowledged updates: each article holds its last acknowledged update (or a later unanswered one)")
    or diag(join "\n", @wrong_upd[0 .. ($#wrong_upd > 5 ? 5 : $#wrong_upd)]);
is(scalar @mixed, 0, 'no article holds fields of two different updates');

# --- pipelines
my %db_pipes;
for my $row (@{ $db->selectall_arrayref(
        q{SELECT id, user_id, status, total_cost::text AS total_cost, completed_at IS NOT NULL AS ended FROM pipelines WHERE user_id = ANY($1)},
        { Slice => {} }, $uids) }) {
    $db_pipes{ $row->{id} } = $row;
}
my @starts = grep { $_->{op} eq 'pstart' } @recs;
my @acked_starts = grep { $acked->($_) } @starts;
my @lost_p = grep { !$db_pipes{ $_->{id} } } @acked_starts;
is(scalar @lost_p, 0, scalar(@acked_starts) . ' acknowledged pipeline starts: each is in the database');
my %known = map { $_->{id} => 1 } @acked_starts;
my @amb_starts = grep { !$acked->($_) && !$refused->($_) } @starts;
my $unknown_p = grep { !$known{$_} } keys %db_pipes;
ok($unknown_p <= @amb_starts, "pipelines nobody was told about ($unknown_p) come from unanswered starts (" . scalar(@amb_starts) . ')');

my %ends;
push @{ $ends{ $_->{pipeline} } }, $_ for sort { $a->{c} <=> $b->{c} || $a->{n} <=> $b->{n} } grep { $_->{op} eq 'pend' } @recs;
my (@bad_end, @twice_end, @bad_409);
my $acked_ends = 0;
for my $id (keys %ends) {
    my @e   = @{ $ends{$id} };
    my $row = $db_pipes{$id};
    my @ok  = grep { $_->{code} == 200 } @e;
    $acked_ends += @ok;
    push @twice_end, $id if @ok > 1;
    if (@ok) {
        push @bad_end, "$id: told $ok[0]{status} $ok[0]{total_cost}, has $row->{status} $row->{total_cost}"
            unless $row && $row->{status} eq $ok[0]{status} && $row->{total_cost} eq $ok[0]{total_cost} && $row->{ended};
    } else {
        my @amb = grep { !$refused->($_) } @e;
        my $fine = $row && ($row->{status} eq 'running' && !$row->{ended}
            || grep { $row->{status} eq $_->{status} && $row->{total_cost} eq $_->{total_cost} && $row->{ended} } @amb);
        push @bad_end, "$id: has $row->{status} $row->{total_cost}, none of the unanswered ends" unless $fine;
    }
    # A 409 says it had ended before: by an earlier request of ours.
    for my $i (0 .. $#e) {
        next unless $e[$i]{code} == 409;
        push @bad_409, $id unless grep { !$refused->($_) } @e[ 0 .. $i - 1 ];
    }
}
is(scalar @bad_end, 0, "$acked_ends acknowledged pipeline ends: status and total_cost as told; unanswered ones whole or not at all")
    or diag(join "\n", @bad_end[0 .. ($#bad_end > 5 ? 5 : $#bad_end)]);
is(scalar @twice_end, 0, 'no pipeline was ended twice');
is(scalar @bad_409, 0, 'a 409 on an end only after an earlier unanswered end of ours');

# --- usage: api_usage is the sum over the ended pipelines, per user and UTC month
my @usage_diff = $h->psql(q{
    WITH p AS (
        SELECT user_id, date_trunc('month', completed_at AT TIME ZONE 'UTC')::date AS month,
               sum(total_cost) AS cost, count(*) FILTER (WHERE status = 'completed') AS n
          FROM pipelines WHERE status IN ('completed', 'failed') AND user_id = ANY($1)
         GROUP BY 1, 2)
    SELECT coalesce(p.user_id, u.user_id), coalesce(p.month, u.month), p.cost, u.total_cost, p.n, u.articles_generated
      FROM p FULL JOIN (SELECT * FROM api_usage WHERE user_id = ANY($1)) u
        ON u.user_id = p.user_id AND u.month = p.month
     WHERE p.cost IS DISTINCT FROM u.total_cost OR p.n IS DISTINCT FROM u.articles_generated}, $uids);
is(scalar @usage_diff, 0, 'api_usage equals the sum of the ended pipelines, per user and month (no half-done end)')
    or diag(join "\n", map { join ' ', map { $_ // 'NULL' } @$_ } @usage_diff);
my $ended_db = grep { $_->{status} ne 'running' } values %db_pipes;
my ($usage_total) = $h->psql('SELECT coalesce(sum(total_cost), 0) FROM api_usage WHERE user_id = ANY($1)', $uids);
ok($ended_db > 0, "$ended_db pipelines ended in the database, usage total $usage_total");
is($h->psql(q{SELECT count(*) FROM pipelines WHERE (status = 'running') <> (completed_at IS NULL)}), 0,
   'every pipeline is running without an end, or ended with one');

# --- recovery after PostgreSQL restarts
for my $r (@recovery) {
    my ($mode, $dt, $code) = @$r;
    ok($code == 200 && $dt < 5, sprintf 'restart -m %s: a protected read answers 200 %.2f s after PostgreSQL is back', $mode, $dt);
}

# --- the master's log: workers died only by our kill -9 (or exited when told)
my $log = $h->log;
my %mine = map { $_ => 1 } @killed;
my @killed_log = $log =~ /worker (\d+) killed by signal (\d+)/g;
my (@not_mine, %seen_kill);
while (my ($pid, $sig) = splice @killed_log, 0, 2) {
    push @not_mine, "$pid by $sig" unless $mine{$pid} && $sig == 9;
    $seen_kill{$pid} = 1;
}
is(scalar @not_mine, 0, 'the only workers killed are the ones the test killed with -9') or diag("@not_mine");
ok(keys(%seen_kill) >= @killed - 2, scalar(keys %seen_kill) . ' of our ' . scalar(@killed) . ' kills were logged by the master');
my @exits = $log =~ /(worker \d+ exited with status \d+)/g;
is(scalar @exits, 0, 'no worker exited on its own') or diag("@exits");
unlike($log, qr/still busy after/, 'SIGTERM: every worker finished in time');
like($log, qr/replacing workers one at a time/, 'the master did the rolling restarts');

# ---------------------------------------------------------------- figures

my $writes_acked = @acked_creates + $acked_updates + @acked_starts + $acked_ends;
diag(sprintf 'faults.t: %d requests from %d clients in %.1f s; %d faults injected (%d kill -9, 2 PostgreSQL restarts, 2 SIGHUP, 1 SIGTERM)',
    scalar @recs, $CLIENTS, $LOAD_S, scalar @faults, scalar @killed);
diag(sprintf 'faults.t: acknowledged writes checked: %d (creates %d, updates %d, pipeline starts %d, ends %d); unanswered creates %d (%d of them stored whole)',
    $writes_acked, scalar @acked_creates, $acked_updates, scalar @acked_starts, $acked_ends, scalar @amb_creates, $amb_created);
diag('faults.t: answers by status: ' . join(', ', map { ($_ || 'none') . " x$by_status{$_}" } sort { $a <=> $b } keys %by_status));
diag(sprintf 'faults.t: recovery after PostgreSQL restarts: %s (first 200 on a protected read after start_pg returned; the last 503 to a client %s from that first 200)',
    join(', ', map { sprintf '%s %.2f s', @$_[0, 1] } @recovery), join(', ', map { sprintf '%+.2f s', $_ } @last503));
note("faults:\n" . join "\n", @faults);
note(sprintf 'faults.t: %.1f s in all', time - $T0);

done_testing;
