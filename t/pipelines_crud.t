#!/usr/bin/env perl
# Pipelines: start, end (completed, failed), the bodies they take, the
# state machine (only a running pipeline ends; twice is a 409 that changes
# nothing), 404s, the list, and Idempotency-Key on start.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use BP::Harness;
use BP::Fixtures qw(make_user auth race random_uuid);
use BP::Util qw(error_is);

my $h = BP::Harness->new(workers => 4);
my $t = $h->t;
my $alice = make_user($h);
my $bob   = make_user($h);

my $RFC3339 = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

sub start {
    my ($u, $body, %hdr) = @_;
    $t->post_ok('/api/v1/pipelines', auth($u, %hdr), json => $body);
    return $t->tx->res->json // {};
}

sub finish {
    my ($u, $id, $body) = @_;
    $t->patch_ok("/api/v1/pipelines/$id", auth($u), json => $body);
    return $t->tx->res->json // {};
}

sub usage_row {
    my ($u) = @_;
    my ($r) = $h->psql(q{SELECT articles_generated, total_cost::text FROM api_usage
                          WHERE user_id = $1 AND month = date_trunc('month', now() AT TIME ZONE 'UTC')::date},
                       $u->{id});
    return $r ? "$r->[0] $r->[1]" : 'none';
}

sub npipes { $h->psql('SELECT count(*) FROM pipelines WHERE user_id = $1', $_[0]{id}) }

$t->post_ok('/api/v1/articles', auth($alice), json => { title => 'Alice article' })->status_is(201);
my $art = $t->tx->res->json->{id};
$t->post_ok('/api/v1/articles', auth($bob), json => { title => 'Bob article' })->status_is(201);
my $bob_art = $t->tx->res->json->{id};

# ---------------------------------------------------------------- start

my $p1 = start($alice, {});
$t->status_is(201)->header_is(Location => "/api/v1/pipelines/$p1->{id}")
  ->header_is('X-Usage-Remaining-Cost' => '50.0000')->header_is('X-Usage-Remaining-Articles' => '99');
is_deeply([ sort keys %$p1 ],
          [ sort qw(id article_id status estimated_cost total_cost started_at completed_at error_message) ],
          'the pipeline has exactly the fields of API.md');
is($p1->{status}, 'running', 'status running');
is($p1->{estimated_cost}, '0.0000', 'estimated_cost defaults to "0.0000"');
is($p1->{total_cost}, '0.0000', 'total_cost "0.0000"');
is($p1->{article_id}, undef, 'article_id null');
is($p1->{completed_at}, undef, 'completed_at null');
is($p1->{error_message}, undef, 'error_message null');
like($p1->{started_at}, $RFC3339, 'started_at RFC 3339');

my $p2 = start($alice, { article_id => $art, estimated_cost => '1.25' });
$t->status_is(201)->header_is('X-Usage-Remaining-Cost' => '48.7500', 'the estimate is reserved')
  ->header_is('X-Usage-Remaining-Articles' => '98');
is($p2->{article_id}, $art, 'article_id');
is($p2->{estimated_cost}, '1.2500', 'money with 4 decimals');
my $p3 = start($alice, { article_id => uc $art, estimated_cost => 0.5 });
$t->status_is(201);
is($p3->{article_id}, $art, 'an upper-case UUID is taken, written lower-case');
is($p3->{estimated_cost}, '0.5000', 'a JSON number as money');
start($alice, { article_id => undef })->{id} or fail('article_id null');
$t->status_is(201, 'article_id null is no article');

my $n = npipes($alice);
start($alice, { article_id => $bob_art });
error_is($t, 400, 'validation_failed', 'article_id', "another user's article");
start($alice, { article_id => random_uuid() });
error_is($t, 400, 'validation_failed', 'article_id', 'an article that does not exist');
start($alice, { article_id => 'not-a-uuid' });
error_is($t, 400, 'validation_failed', 'article_id', 'not a UUID');
start($alice, { article_id => 5 });
error_is($t, 400, 'validation_failed', 'article_id', 'a number');
for my $bad ('1e3', '-1', '0.00001', '1000000', '1,5', ' 1', '', 'abc', '1.', '.5', '+1') {
    start($alice, { estimated_cost => $bad });
    error_is($t, 400, 'validation_failed', 'estimated_cost', "estimated_cost '$bad'");
}
for my $bad (undef, Mojo::JSON->true, [], {}, -0.5) {
    start($alice, { estimated_cost => $bad });
    error_is($t, 400, 'validation_failed', 'estimated_cost', 'estimated_cost ' . Mojo::JSON::encode_json($bad));
}
$t->post_ok('/api/v1/pipelines', { %{ auth($alice) }, 'Content-Type' => 'application/json' }, '{"estimated_cost":1e2}');
error_is($t, 400, 'validation_failed', 'estimated_cost', 'an exponent in a JSON number');
for my $f (qw(id status user_id total_cost started_at completed_at error_message foo)) {
    start($alice, { $f => 'x' });
    error_is($t, 400, 'validation_failed', $f, "start refuses the field $f");
}
is(npipes($alice), $n, 'refused starts created nothing');
start($alice, { estimated_cost => '999999.9999' });
error_is($t, 402, 'usage_limit_exceeded', undef, 'the largest estimate is valid money, and over the limit');

# ---------------------------------------------------------------- end: completed

is(usage_row($alice), 'none', 'no usage before any run ended');
my $e2 = finish($alice, $p2->{id}, { status => 'completed', total_cost => '0.0420' });
$t->status_is(200)->header_is('X-Usage-Remaining-Cost' => '49.4580', 'cost recorded, estimate released')
  ->header_is('X-Usage-Remaining-Articles' => '96', '... one completed, three still in progress');
is($e2->{status}, 'completed', 'completed');
is($e2->{total_cost}, '0.0420', 'total_cost');
is($e2->{estimated_cost}, '1.2500', 'the estimate is kept');
like($e2->{completed_at}, $RFC3339, 'completed_at set');
is($e2->{article_id}, $art, 'article_id kept');
is(usage_row($alice), '1 0.0420', 'usage: one article, 0.0420');
$t->get_ok("/api/v1/pipelines/$p2->{id}", auth($alice))->status_is(200);
is_deeply($t->tx->res->json, $e2, 'GET shows the ended pipeline');

# A second end, of either kind, is a 409 and changes nothing.
for my $again ({ status => 'completed', total_cost => '0.0420' }, { status => 'completed', total_cost => '5' },
               { status => 'failed', error_message => 'late' }) {
    finish($alice, $p2->{id}, $again);
    error_is($t, 409, 'invalid_transition', undef, 'ending twice: ' . Mojo::JSON::encode_json($again));
    $t->get_ok("/api/v1/pipelines/$p2->{id}", auth($alice));
    is_deeply($t->tx->res->json, $e2, '... the pipeline is unchanged');
    is(usage_row($alice), '1 0.0420', '... and so is the usage');
}

# completed with an article_id: the run's article is set.
$t->post_ok('/api/v1/articles', auth($alice), json => { title => 'Made by p1' })->status_is(201);
my $art2 = $t->tx->res->json->{id};
finish($alice, $p1->{id}, { status => 'completed', total_cost => 1, article_id => $bob_art });
error_is($t, 400, 'validation_failed', 'article_id', "completing with another user's article");
finish($alice, $p1->{id}, { status => 'completed', total_cost => 1, article_id => random_uuid() });
error_is($t, 400, 'validation_failed', 'article_id', 'completing with an article that does not exist');
$t->get_ok("/api/v1/pipelines/$p1->{id}", auth($alice))->json_is('/status' => 'running', 'a refused end changes nothing');
is(usage_row($alice), '1 0.0420', '... nor the usage');
my $e1 = finish($alice, $p1->{id}, { status => 'completed', total_cost => 1, article_id => $art2 });
$t->status_is(200);
is($e1->{article_id}, $art2, 'completed with article_id sets it');
is($e1->{total_cost}, '1.0000', 'a JSON integer as money');
is(usage_row($alice), '2 1.0420', 'usage: two articles');
my $e3 = finish($alice, $p3->{id}, { status => 'completed', total_cost => 0, article_id => undef });
$t->status_is(200);
is($e3->{article_id}, undef, 'completed with article_id null clears it');
is(usage_row($alice), '3 1.0420', 'a free run counts as an article');

# ---------------------------------------------------------------- end: failed

my $f1 = start($alice, { estimated_cost => 2 });
my $ef = finish($alice, $f1->{id}, { status => 'failed', error_message => 'LLM timeout' });
$t->status_is(200);
is($ef->{status}, 'failed', 'failed');
is($ef->{error_message}, 'LLM timeout', 'error_message');
is($ef->{total_cost}, '0.0000', 'no total_cost: 0');
like($ef->{completed_at}, $RFC3339, 'completed_at set');
is(usage_row($alice), '3 1.0420', 'a failed run counts no article');
my $f2 = start($alice, {});
finish($alice, $f2->{id}, { status => 'failed', error_message => "it broke: \"quotes\"\n\x{2603}", total_cost => '0.0105' });
$t->status_is(200)->json_is('/total_cost' => '0.0105')->json_is('/error_message' => "it broke: \"quotes\"\n\x{2603}");
is(usage_row($alice), '3 1.0525', 'the cost of a failed run is recorded');
finish($alice, $f2->{id}, { status => 'completed', total_cost => '0.0105' });
error_is($t, 409, 'invalid_transition', undef, 'a failed run cannot complete');

# ---------------------------------------------------------------- end: bodies

my $r = start($alice, {});
my @bad = (
    [ {}, 'status' ],
    [ { status => 'running' }, 'status' ],
    [ { status => 'cancelled', total_cost => 1 }, 'status' ],
    [ { status => undef }, 'status' ],
    [ { status => 'completed' }, 'total_cost' ],
    [ { status => 'completed', total_cost => '-1' }, 'total_cost' ],
    [ { status => 'completed', total_cost => '1e2' }, 'total_cost' ],
    [ { status => 'completed', total_cost => '0.00001' }, 'total_cost' ],
    [ { status => 'completed', total_cost => undef }, 'total_cost' ],
    [ { status => 'completed', total_cost => 1, error_message => 'x' }, 'error_message' ],
    [ { status => 'completed', total_cost => 1, article_id => 'x' }, 'article_id' ],
    [ { status => 'failed' }, 'error_message' ],
    [ { status => 'failed', error_message => '' }, 'error_message' ],
    [ { status => 'failed', error_message => undef }, 'error_message' ],
    [ { status => 'failed', error_message => 'x' x 10001 }, 'error_message' ],
    [ { status => 'failed', error_message => 'x', article_id => $art }, 'article_id' ],
    [ { status => 'failed', error_message => 'x', total_cost => 'abc' }, 'total_cost' ],
    [ { status => 'completed', total_cost => 1, estimated_cost => 1 }, 'estimated_cost' ],
    [ { status => 'completed', total_cost => 1, id => $r->{id} }, 'id' ],
    [ { status => 'completed', total_cost => 1, completed_at => '2026-01-01T00:00:00Z' }, 'completed_at' ],
);
for my $case (@bad) {
    finish($alice, $r->{id}, $case->[0]);
    error_is($t, 400, 'validation_failed', $case->[1], 'end body ' . Mojo::JSON::encode_json($case->[0]));
}
$t->get_ok("/api/v1/pipelines/$r->{id}", auth($alice))->json_is('/status' => 'running', 'refused ends change nothing');
finish($alice, $r->{id}, { status => 'failed', error_message => 'x' x 10000 });
$t->status_is(200, 'an error message of 10000 characters');

# ---------------------------------------------------------------- 404s

my $bp = start($bob, { article_id => $bob_art });
$t->status_is(201);
for my $id ($bp->{id}, random_uuid(), 'nope', "$bp->{id}0") {
    $t->get_ok("/api/v1/pipelines/$id", auth($alice));
    error_is($t, 404, 'not_found', undef, "GET pipeline $id");
    finish($alice, $id, { status => 'failed', error_message => 'x' });
    error_is($t, 404, 'not_found', undef, "PATCH pipeline $id");
}
$t->get_ok("/api/v1/pipelines/$bp->{id}", auth($bob))->status_is(200)->json_is('/status' => 'running',
    "bob's pipeline is untouched");
for my $m (qw(DELETE PUT POST)) {
    my $tx = $t->ua->build_tx($m => $h->url("/api/v1/pipelines/$bp->{id}") => auth($bob) => json => {});
    $t->request_ok($tx);
    error_is($t, 405, 'method_not_allowed', undef, "$m on a pipeline");
}

# Deleting the article keeps the run, with article_id null.
$t->delete_ok("/api/v1/articles/$bob_art", auth($bob))->status_is(204);
$t->get_ok("/api/v1/pipelines/$bp->{id}", auth($bob))->status_is(200)->json_is('/article_id' => undef);

# ---------------------------------------------------------------- list

{
    my $u = make_user($h, max_articles_per_month => 1000);
    my @made;
    push @made, start($u, {})->{id} for 1 .. 23;
    finish($u, $_, { status => 'completed', total_cost => '0.0001' }) for @made[0 .. 9];
    finish($u, $_, { status => 'failed', error_message => 'e' }) for @made[10 .. 14];
    # ties on started_at: groups of three share it
    $h->psql(q{UPDATE pipelines p SET started_at = timestamptz '2026-03-01 12:00:00.5+00'
                                               + (s.rn / 3) * interval '1 minute'
                 FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM pipelines WHERE user_id = $1) s
                WHERE p.id = s.id}, $u->{id});
    my $walk = sub {
        my ($q, $limit) = @_;
        my (@ids, $cursor, $pages);
        do {
            $t->get_ok("/api/v1/pipelines?limit=$limit$q" . ($cursor ? "&cursor=$cursor" : ''), auth($u))->status_is(200);
            push @ids, map { $_->{id} } @{ $t->tx->res->json->{items} };
            $cursor = $t->tx->res->json->{next_cursor};
            $pages++;
        } while ($cursor && $pages < 100);
        return (\@ids, $pages);
    };
    my $expected = sub {
        my ($st) = @_;
        [ map { $_->[0] } $h->psql(q{SELECT id FROM pipelines WHERE user_id = $1 AND ($2::text IS NULL OR status = $2)
                                     ORDER BY started_at DESC, id DESC}, $u->{id}, $st) ];
    };
    my ($ids, $pages) = $walk->('', 5);
    is($pages, 5, '23 pipelines in pages of 5: 5 pages');
    is_deeply($ids, $expected->(), 'every pipeline once, newest first (ties by id)');
    ($ids) = $walk->('', 2);
    is_deeply($ids, $expected->(), 'pages of 2');
    for my $st (qw(running completed failed)) {
        my ($sids) = $walk->("&status=$st", 3);
        is_deeply($sids, $expected->($st), "status=$st");
    }
    $t->get_ok('/api/v1/pipelines', auth($u))->status_is(200);
    is(scalar @{ $t->tx->res->json->{items} }, 20, 'default limit 20');
    $t->get_ok('/api/v1/pipelines?status=done', auth($u));
    error_is($t, 400, 'validation_failed', 'status');
    $t->json_is('/error/message', 'status must be one of: running, completed, failed',
        'the message names the statuses');
    $t->get_ok('/api/v1/pipelines?limit=101', auth($u));
    error_is($t, 400, 'validation_failed', 'limit');
    $t->get_ok('/api/v1/pipelines?cursor=xyz', auth($u));
    error_is($t, 400, 'validation_failed', 'cursor');
    $t->get_ok('/api/v1/pipelines?limit=100', auth($bob))->status_is(200);
    is(scalar @{ $t->tx->res->json->{items} }, 1, 'bob sees his one pipeline only');
}

# ---------------------------------------------------------------- Idempotency-Key

{
    my $u = make_user($h);
    my $first = start($u, { estimated_cost => '0.3' }, 'Idempotency-Key' => 'run-1');
    $t->status_is(201);
    my $raw  = $t->tx->res->body;
    my $cost = $t->tx->res->headers->header('X-Usage-Remaining-Cost');
    is($cost, '49.7000', 'remaining cost after the first start');
    start($u, { estimated_cost => '0.3' }, 'Idempotency-Key' => 'run-1');
    $t->status_is(201)->header_is('X-Usage-Remaining-Cost' => '49.7000', 'the replay carries the first usage headers')
      ->header_is('X-Usage-Remaining-Articles' => '99')->header_is(Location => "/api/v1/pipelines/$first->{id}");
    is($t->tx->res->body, $raw, 'the replay is the first answer');
    is(npipes($u), 1, 'a retried start never starts a run twice');
    finish($u, $first->{id}, { status => 'completed', total_cost => '0.1' });
    start($u, { estimated_cost => '0.3' }, 'Idempotency-Key' => 'run-1');
    is($t->tx->res->body, $raw, 'replayed as it was, after the run ended');
    start($u, { estimated_cost => '0.4' }, 'Idempotency-Key' => 'run-1');
    error_is($t, 409, 'conflict', undef, 'the same key with another body');
    $t->post_ok('/api/v1/articles', auth($u, 'Idempotency-Key' => 'cross'), json => { title => 'x' })->status_is(201);
    start($u, {}, 'Idempotency-Key' => 'cross');
    error_is($t, 409, 'conflict', undef, 'a key used on another path');
    is(npipes($u), 1, 'nothing started');

    # A refused start (402) is not kept: retried with the same key later.
    $h->psql('UPDATE users SET max_articles_per_month = 1 WHERE id = $1', $u->{id});
    start($u, {}, 'Idempotency-Key' => 'run-2');
    error_is($t, 402, 'usage_limit_exceeded');
    $h->psql('UPDATE users SET max_articles_per_month = 2 WHERE id = $1', $u->{id});
    start($u, {}, 'Idempotency-Key' => 'run-2');
    $t->status_is(201, 'after a 402 the same key starts the run');
    $h->psql('UPDATE users SET max_articles_per_month = NULL WHERE id = $1', $u->{id});

    # Concurrent starts with one key: one run.
    my $n0 = npipes($u);
    my @r = race($h, 12, sub {
        my ($ua) = @_;
        return $ua->post($h->url('/api/v1/pipelines'), auth($u, 'Idempotency-Key' => 'same-time'),
            json => { estimated_cost => '0.0100' });
    });
    is_deeply([ map { $_->{code} } @r ], [ (201) x 12 ], 'twelve concurrent starts with one key: all 201')
        or diag(join "\n", map { "$_->{code} $_->{body}" } @r);
    my %ids = map { ($_->{json}{id} // '') => 1 } @r;
    is(scalar keys %ids, 1, '... one pipeline id');
    my %hdr = map { ($_->{headers}{'x-usage-remaining-cost'} // '') => 1 } @r;
    is(scalar keys %hdr, 1, '... one X-Usage-Remaining-Cost');
    is(npipes($u), $n0 + 1, '... one run started');

    # And different keys at once: one run each.
    @r = race($h, 6, sub {
        my ($ua, $i) = @_;
        return $ua->post($h->url('/api/v1/pipelines'), auth($u, 'Idempotency-Key' => "many-$i"), json => {});
    });
    is_deeply([ map { $_->{code} } @r ], [ (201) x 6 ], 'six concurrent starts with six keys: all 201');
    is(npipes($u), $n0 + 7, '... six runs');
}

done_testing;
