#!/usr/bin/env perl
# blogposter behind PgBouncer in transaction mode (DB_POOL_MODE=transaction),
# with fewer server connections than workers, whatever BP_POOLER says:
#   - PostgreSQL's defaults are other than the worker's (TimeZone
#     America/St_Johns, DateStyle SQL, DMY): timestamps still come out in
#     UTC, RFC 3339, and a cursor pages on;
#   - the workers prepare no named statement (with 4 workers on 2 server
#     connections, a named one would be missing on the next connection);
#   - the monthly article limit holds under concurrent starts: k slots,
#     N > k concurrent starts, exactly k are 201;
#   - PgBouncer stopped and started again under a write load: 503s while it
#     is down, the service answers again within seconds, and every create
#     acknowledged with 201 is in the database exactly once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use BP::Harness;
use BP::Fixtures qw(make_user auth);
use BP::Util qw(json_bytes);
use POSIX ();
use Time::HiRes qw(sleep time);

my $h = BP::Harness->new(workers => 4, pooler => 'pgbouncer', env => {
    MAX_ARTICLES_PER_USER_PER_MONTH => 3,
    MAX_MONTHLY_COST_PER_USER       => '999999.00',
});
my $t = $h->t;
my $JSON = { 'Content-Type' => 'application/json' };

# ---------------------------------------------------------------- session state

$h->psql(q{ALTER DATABASE blogposter SET timezone = 'America/St_Johns'});
$h->psql(q{ALTER DATABASE blogposter SET datestyle = 'SQL, DMY'});
# A new PgBouncer: its first server connection, and so the values it
# reports to clients that do not ask for their own, have these defaults.
$h->stop_pooler;
$h->start_pooler;
my $u = make_user($h);
my %made;
for my $i (1 .. 5) {
    my $tries = 0;
    while (1) {
        $t->post_ok('/api/v1/articles', { %{ auth($u) }, %$JSON }, json_bytes({ title => "zone $i" }));
        last if $t->tx->res->code == 201 || ++$tries > 20;
        sleep 0.2;    # a worker whose server connection was just ended
    }
    is($t->tx->res->code, 201, "article $i created") or diag($t->tx->res->body);
    my $j = $t->tx->res->json;
    $made{ $j->{id} } = $j->{created_at};
}
my %db = map { $_->[0] => $_->[1] }
    $h->psql(q{SELECT id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                 FROM articles WHERE user_id = $1}, $u->{id});
is_deeply(\%made, \%db, 'created_at is the UTC instant the database holds, whatever its TimeZone and DateStyle');
my ($seen, $cursor, $pages) = (0, undef, 0);
while ($pages++ < 10) {
    $t->get_ok('/api/v1/articles?limit=2' . ($cursor ? "&cursor=$cursor" : ''), auth($u))->status_is(200);
    $seen += @{ $t->tx->res->json->{items} };
    last unless $cursor = $t->tx->res->json->{next_cursor};
}
is($seen, 5, 'the list pages through all five, two by two');
like($h->log, qr/database connected/, 'the workers connected through PgBouncer');
unlike($h->log, qr/prepare \w+: ERROR/, 'and never tried to prepare a statement');

# ---------------------------------------------------------------- limits race

{
    my $v = make_user($h);
    my $N = 12;
    my @kids;
    pipe(my $rd, my $wr) or die "pipe: $!";
    for my $k (1 .. $N) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            close $rd;
            my $ua = $h->new_ua;
            my $tx = $ua->post($h->url('/api/v1/pipelines'), { %{ auth($v) }, %$JSON }, '{}');
            print {$wr} ($tx->res->code // 0), "\n";
            close $wr;
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    close $wr;
    my @codes = map { chomp; $_ } <$rd>;
    waitpid($_, 0) for @kids;
    my %n;
    $n{$_}++ for @codes;
    is($n{201} // 0, 3, "$N concurrent starts, 3 slots: exactly 3 are 201") or diag(join ' ', sort @codes);
    is($n{402} // 0, $N - 3, '... and the others 402') or diag(join ' ', sort @codes);
    is($h->psql('SELECT count(*) FROM pipelines WHERE user_id = $1', $v->{id}), 3, '... and 3 are stored');
}

# ---------------------------------------------------------------- PgBouncer restarted under load

{
    my $w = make_user($h);
    my $dir = $h->tmpdir;
    my $LOAD_S = 6;
    my @kids;
    for my $c (1 .. 2) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            my $ua = $h->new_ua;
            $ua->connect_timeout(5)->request_timeout(10);
            open my $log, '>', "$dir/pooler-client-$c.log" or die $!;
            my $end = time + $LOAD_S;
            my $n = 0;
            while (time < $end) {
                my $title = "load $c-" . ++$n;
                my $tx = $ua->post($h->url('/api/v1/articles'), { %{ auth($w) }, %$JSON }, json_bytes({ title => $title }));
                printf {$log} "%s\t%s\n", $tx->res->code // 0, $title;
            }
            close $log;
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    sleep 1.5;
    $h->stop_pooler;
    my $down = time;
    sleep 1.5;
    $h->start_pooler;
    my $back;
    my $ua = $h->new_ua;
    while (time < $down + 15) {
        my $tx = $ua->get($h->url('/api/v1/articles?limit=1'), auth($w));
        if (($tx->res->code // 0) == 200) { $back = time; last }
        sleep 0.1;
    }
    waitpid($_, 0) for @kids;
    ok(defined $back, sprintf 'the service answers again %.1f s after PgBouncer is back', ($back // time) - $down - 1.5);
    my (%code, %acked, %other);
    for my $c (1 .. 2) {
        open my $fh, '<', "$dir/pooler-client-$c.log" or die $!;
        while (<$fh>) {
            chomp;
            my ($code, $title) = split /\t/;
            $code{$code}++;
            if ($code == 201) { $acked{$title} = 1 } else { $other{$title} = 1 }
        }
    }
    note('answers during the restart: ' . join ', ', map { "$_ x$code{$_}" } sort keys %code);
    ok(($code{201} // 0) > 0, 'creates were acknowledged');
    ok(($code{503} // 0) > 0, 'and some answered 503 while PgBouncer was down');
    is(join(',', grep { !/^(201|503)$/ } sort keys %code), '', 'no answer other than 201 or 503');
    my %stored = map { $_->[0] => $_->[1] }
        $h->psql(q{SELECT title, count(*) FROM articles WHERE user_id = $1 GROUP BY title}, $w->{id});
    my @lost = grep { !$stored{$_} } sort keys %acked;
    my @twice = grep { $stored{$_} > 1 } sort keys %stored;
    is(scalar @lost, 0, 'every acknowledged create is stored') or diag("lost: @lost");
    is(scalar @twice, 0, '... exactly once') or diag("twice: @twice");
}

done_testing;
