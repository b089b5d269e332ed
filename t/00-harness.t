#!/usr/bin/env perl
# Smoke test of the test harness itself (t/lib/BP/Harness.pm) against the
# real binary: the whole stack comes up, answers through nginx, and goes away.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use BP::Harness;
use BP::Util qw(error_is no_store_ok);

# The suite runs with the same Mojolicious on every machine: the pure-Perl
# JSON encoder and the poll reactor, whatever optional modules are installed.
ok(!Mojo::JSON::JSON_XS(), 'Mojo::JSON does not use Cpanel::JSON::XS');
is(ref Mojo::IOLoop->singleton->reactor, 'Mojo::Reactor::Poll', 'Mojo::IOLoop runs on Mojo::Reactor::Poll');
is(BP::Harness::pin_problem(), undef, 'the harness sees the pin');

my $h = BP::Harness->new(workers => 2);
note(sprintf 'set-up took %.2f s', $h->setup_seconds);
cmp_ok($h->setup_seconds, '<', 15, 'set-up is quick');

# Through nginx, over TLS.
my $t = $h->t;
$t->get_ok('/api/v1/health')->status_is(200)
  ->header_like('Content-Type' => qr{^application/json})
  ->json_is('/status' => 'ok')->json_is('/database' => 'ok');
no_store_ok($t);
like($t->tx->res->headers->header('X-Request-Id') // '', qr/^[0-9a-f]{32}$/, 'nginx sends its request id');
my $rid = $t->tx->res->headers->header('X-Request-Id') // 'none';
like($h->log, qr/\Q$rid\E/, 'the access-log line carries the request id');
like($h->url('/api/v1/health'), qr{^https://127\.0\.0\.1:\d+/api/v1/health$}, 'url()');

# Unknown paths under /api/v1/ are the application's JSON 404.
$t->get_ok('/api/v1/no-such-thing');
error_is($t, 404, 'not_found');

# Static files and the redirect are nginx's.
$t->get_ok('/')->status_is(200)->content_like(qr/blogposter/i);
my $plain = $h->new_ua->get("http://127.0.0.1:" . $h->http_port . "/api/v1/health?x=1")->res;
is($plain->code, 301, 'plain HTTP redirects');
is($plain->headers->location, $h->url('/api/v1/health?x=1'), '... to the same URL over HTTPS');

# Bodies over nginx's own limit get the API's JSON 413, not nginx's HTML.
$t->post_ok('/api/v1/articles', { 'Content-Type' => 'application/json' }, 'x' x (1048576 + 70000));
error_is($t, 413, 'payload_too_large');

# SQL.
is($h->psql('select 1'), 1, 'psql in scalar context');
is_deeply([ $h->psql('select $1::int + 1, $2::text', 41, 'x') ], [ [ 42, 'x' ] ], 'psql with bind values');
is($h->psql('select current_database()'), 'blogposter', 'the test database');

# Processes.
ok(kill(0, $h->master_pid), 'master is running');
my @w = $h->wait_workers(2);
is(scalar @w, 2, 'worker_pids: WORKERS workers');
my ($st, $out, $err) = $h->run_bp('migrate', '--status');
is($st, 0, 'run_bp: migrate --status exits 0') or diag($out, $err);

# The database goes away and comes back.
$h->stop_pg('fast');
$t->get_ok('/api/v1/health')->status_is(503);
no_store_ok($t);
$h->start_pg;
$h->wait_until(sub { $t->ua->get($h->url('/api/v1/health'))->res->code == 200 }, 20, 'health 200 again');
pass('health answers 200 after PostgreSQL restarted');

# The application goes away: nginx answers with the JSON 502.
my $master = $h->master_pid;
is($h->stop_bp, 0, 'blogposter exits 0 on SIGTERM');
ok(!kill(0, $master), 'master is gone');
ok(!(grep { kill 0, $_ } @w), 'workers are gone');
is_deeply([ $h->stray_pids ], [], 'no stray processes');
$t->get_ok('/api/v1/health');
error_is($t, 502, 'service_unavailable');
ok($t->tx->res->headers->header('Retry-After'), 'with Retry-After');

# And comes back.
$h->start_bp(WORKERS => 3);
is(scalar $h->wait_workers(3), 3, 'start_bp with another WORKERS');
$t->get_ok('/api/v1/health')->status_is(200);

done_testing;
