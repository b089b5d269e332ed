#!/usr/bin/env perl
# Storage that does not only grow: expired idempotency keys and revoked
# tokens are deleted by the workers in small batches (no cron), an
# account's rows go with it, one account stores at most
# MAX_STORED_ARTICLES_PER_USER articles (also under concurrent creates),
# and nginx limits writes per client address with JSON 429s.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use BP::Harness;
use BP::Fixtures qw(make_user auth race);
use BP::Util qw(error_is);

my $h = BP::Harness->new(workers => 2, env => { MAX_STORED_ARTICLES_PER_USER => 3 });
my $t = $h->t;

# ---------------------------------------------------------------- the article limit

my $u = make_user($h);
for my $i (1 .. 3) {
    $t->post_ok('/api/v1/articles', auth($u), json => { title => "Article $i" })->status_is(201);
}
$t->post_ok('/api/v1/articles', auth($u), json => { title => 'One too many' });
error_is($t, 409, 'article_limit_reached', undef, 'the 4th article: 409');
is_deeply($t->tx->res->json->{error}{details}, { limit => 'stored_articles', used => 3, max => 3 }, 'details')
  or diag($t->tx->res->body);
is($h->psql(q{SELECT count(*) FROM articles WHERE user_id = $1}, $u->{id}), 3, 'nothing stored');

$t->post_ok('/api/v1/articles', auth($u, 'Idempotency-Key' => 'limit-1'), json => { title => 'Keyed' });
error_is($t, 409, 'article_limit_reached', undef, 'with an Idempotency-Key too');
is($h->psql(q{SELECT count(*) FROM idempotency_keys WHERE user_id = $1}, $u->{id}), 0, 'which is not kept');

my $other = make_user($h);
$t->post_ok('/api/v1/articles', auth($other), json => { title => 'Theirs' })->status_is(201, 'another account is not affected');

my $first = $h->psql(q{SELECT id FROM articles WHERE user_id = $1 ORDER BY created_at LIMIT 1}, $u->{id});
$t->delete_ok("/api/v1/articles/$first", auth($u))->status_is(204);
$t->post_ok('/api/v1/articles', auth($u), json => { title => 'Room again' })->status_is(201, 'after a delete: room for one');
$t->patch_ok("/api/v1/articles/" . $t->tx->res->json->{id}, auth($u), json => { title => 'Edited' })
  ->status_is(200, 'updates are not limited');

# Concurrent creates never pass the limit.
my $r = make_user($h);
my @res = race($h, 8, sub {
    my ($ua, $i) = @_;
    return $ua->post($h->url('/api/v1/articles'), $r->{headers}, json => { title => "Race $i" });
});
my @codes = sort map { $_->{code} } @res;
is(scalar(grep { $_ == 201 } @codes), 3, '8 concurrent creates, 3 stored') or diag("@codes");
is(scalar(grep { $_ == 409 } @codes), 5, 'the others 409');
is($h->psql(q{SELECT count(*) FROM articles WHERE user_id = $1}, $r->{id}), 3, 'exactly 3 in the database');

# ---------------------------------------------------------------- expired rows

my $p = make_user($h);
$h->psql(q{INSERT INTO idempotency_keys (user_id, key, request_hash, status, response_body, created_at)
           SELECT $1, 'old-' || g, sha256('x'), 201, repeat('x', 1000), now() - interval '25 hours'
             FROM generate_series(1, 150) g}, $p->{id});
$h->psql(q{INSERT INTO idempotency_keys (user_id, key, request_hash, status, response_body)
           VALUES ($1, 'fresh', sha256('x'), 201, '{}')}, $p->{id});
$h->psql(q{INSERT INTO revoked_tokens (jti, user_id, expires_at)
           SELECT 'expired-' || g, $1, now() - interval '1 minute' FROM generate_series(1, 120) g}, $p->{id});
$h->psql(q{INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ('current', $1, now() + interval '1 day')},
         $p->{id});

my $old = sub { $h->psql(q{SELECT count(*) FROM idempotency_keys WHERE created_at < now() - interval '24 hours'}) };
my $dead = sub { $h->psql(q{SELECT count(*) FROM revoked_tokens WHERE expires_at < now()}) };
my $n = 0;
while (($old->() > 0 || $dead->() > 0) && $n < 1000) {
    $h->ua->get($h->url('/api/v1/articles'), $p->{headers}) for 1 .. 10;
    $n += 10;
}
is($old->(), 0, "expired idempotency keys deleted by the workers (after $n requests)");
is($dead->(), 0, 'expired revoked tokens too');
ok($n <= 600, 'within a few hundred requests');
is($h->psql(q{SELECT count(*) FROM idempotency_keys WHERE key = 'fresh'}), 1, 'a current key stays');
is($h->psql(q{SELECT count(*) FROM revoked_tokens WHERE jti = 'current'}), 1, 'a current revoked token stays');

# An account's rows go with the account.
$t->post_ok('/api/v1/articles', auth($p, 'Idempotency-Key' => 'mine'), json => { title => 'Keyed' })->status_is(201);
ok($h->psql(q{SELECT count(*) FROM idempotency_keys WHERE user_id = $1}, $p->{id}) >= 2, 'the account has keys');
$h->psql(q{DELETE FROM users WHERE id = $1}, $p->{id});
is($h->psql(q{SELECT count(*) FROM idempotency_keys WHERE user_id = $1}, $p->{id}), 0, 'deleted with the account');
is($h->psql(q{SELECT count(*) FROM revoked_tokens WHERE user_id = $1}, $p->{id}), 0, 'revoked tokens too');

# check-config shows the limit.
my (undef, $out) = $h->run_bp('check-config');
like($out, qr/^MAX_STORED_ARTICLES_PER_USER=3$/m, 'check-config prints MAX_STORED_ARTICLES_PER_USER');

# ---------------------------------------------------------------- nginx: writes

{
    my $n = BP::Harness->new(nginx => { WRITE_RATE => '1r/m', WRITE_BURST => 2 });
    my $w = make_user($n);
    my @c;
    my $last;
    for my $i (1 .. 5) {
        $last = $n->new_ua->post($n->url('/api/v1/articles'), $w->{headers}, json => { title => "Burst $i" });
        push @c, $last->res->code;
    }
    is("@c", '201 201 201 429 429', 'a burst of writes: 429 past the limit');
    like($last->res->headers->content_type // '', qr{^application/json}, 'the 429 is JSON');
    is(eval { $last->res->json->{error}{code} }, 'too_many_requests', 'with the API error code');
    ok($last->res->headers->header('Retry-After'), 'and Retry-After');
    is(join(' ', map { $n->new_ua->get($n->url('/api/v1/articles'), $w->{headers})->res->code } 1 .. 5),
       '200 200 200 200 200', 'reads are not limited');
}

done_testing;
