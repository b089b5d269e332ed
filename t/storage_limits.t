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

# is_deeply without a test: the details of a refusal, compared quietly.
sub is_deeply_q {
    my ($got, $want) = @_;
    return ref $got eq 'HASH' && join(',', map { "$_=" . ($got->{$_} // '') } sort keys %$got)
        eq join(',', map { "$_=$want->{$_}" } sort keys %$want);
}

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

# ---------------------------------------------------------------- the reason of a 409

# The insert says why it inserted nothing, from the state it acted on:
# the limit, or the explicit slug taken.  When both hold the limit is the
# answer (docs/API.md): the slug is not tried.
my $LIMIT = { limit => 'stored_articles', used => 3, max => 3 };
sub details_are {
    my ($name) = @_;
    is_deeply($t->tx->res->json->{error}{details}, $LIMIT, "$name: the details") or diag($t->tx->res->body);
}
my $s = make_user($h);
$t->post_ok('/api/v1/articles', auth($s), json => { title => 'Taken', slug => 'taken' })->status_is(201);
$t->post_ok('/api/v1/articles', auth($s), json => { title => 'Second' })->status_is(201);
$t->post_ok('/api/v1/articles', auth($s), json => { title => 'Again', slug => 'taken' });
error_is($t, 409, 'slug_taken', 'slug', 'below the limit, a taken explicit slug: slug_taken');
$t->post_ok('/api/v1/articles', auth($s, 'Idempotency-Key' => 'slug-1'), json => { title => 'Again', slug => 'taken' });
error_is($t, 409, 'slug_taken', 'slug', 'the same with an Idempotency-Key');
$t->post_ok('/api/v1/articles', auth($s), json => { title => 'Third', slug => 'third' })->status_is(201);
$t->post_ok('/api/v1/articles', auth($s), json => { title => 'Free', slug => 'free' });
error_is($t, 409, 'article_limit_reached', undef, 'at the limit, a free explicit slug: article_limit_reached');
details_are('a free explicit slug');
$t->post_ok('/api/v1/articles', auth($s), json => { title => 'Taken' });
error_is($t, 409, 'article_limit_reached', undef, 'at the limit, an automatic slug: article_limit_reached');
details_are('an automatic slug');
$t->post_ok('/api/v1/articles', auth($s), json => { title => 'Again', slug => 'taken' });
error_is($t, 409, 'article_limit_reached', undef,
         'at the limit and the slug taken, both: article_limit_reached, not slug_taken');
details_are('both');
$t->post_ok('/api/v1/articles', auth($s, 'Idempotency-Key' => 'both-1'), json => { title => 'Again', slug => 'taken' });
error_is($t, 409, 'article_limit_reached', undef, 'both, with an Idempotency-Key: article_limit_reached');
details_are('both, with an Idempotency-Key');
is($h->psql(q{SELECT count(*) FROM articles WHERE user_id = $1}, $s->{id}), 3, 'still 3 stored');

# N concurrent creates at MAX - 1: exactly one is stored, every other one
# is told the limit (with its details), none slug_taken.
for my $slugs ('explicit', 'automatic') {
    my $c = make_user($h);
    $t->post_ok('/api/v1/articles', auth($c), json => { title => "Before $_" })->status_is(201) for 1 .. 2;
    my @got = race($h, 6, sub {
        my ($ua, $i) = @_;
        return $ua->post($h->url('/api/v1/articles'), $c->{headers},
                         json => { title => 'Same title', $slugs eq 'explicit' ? (slug => "race-$i") : () });
    });
    my @ok = grep { $_->{code} == 201 } @got;
    my @limit = grep { $_->{code} == 409 && ($_->{json}{error}{code} // '') eq 'article_limit_reached' } @got;
    is(scalar(@ok), 1, "6 concurrent creates ($slugs slugs) at 2 of 3: one 201")
      or diag(join ' ', map { "$_->{code} $_->{body}" } @got);
    is(scalar(@limit), 5, 'the 5 others article_limit_reached')
      or diag(join ' ', map { "$_->{code} $_->{body}" } @got);
    is(scalar(grep { !is_deeply_q($_->{json}{error}{details}, $LIMIT) } @limit), 0, 'each with used 3, max 3');
    is($h->psql(q{SELECT count(*) FROM articles WHERE user_id = $1}, $c->{id}), 3, '3 in the database');
}

# Creates at the limit with free slugs while articles are deleted: a create
# is stored or refused for the limit, never told its free slug is taken
# (the reason is the insert's own, not a count after other requests
# committed).  Several rounds, each from 3 articles again.
{
    my $d = make_user($h);
    my (@creates, $deleted, $stored);
    for my $round (1 .. 4) {
        $h->psql(q{DELETE FROM articles WHERE user_id = $1}, $d->{id});
        my @ids = map {
            $t->post_ok('/api/v1/articles', auth($d), json => { title => "Round $round $_" })->status_is(201);
            $t->tx->res->json->{id};
        } 1 .. 3;
        my @got = race($h, 8, sub {
            my ($ua, $i) = @_;
            return $i < 3
              ? $ua->delete($h->url("/api/v1/articles/$ids[$i]"), $d->{headers})
              : $ua->post($h->url('/api/v1/articles'), $d->{headers},
                          json => { title => "New $round $i", slug => "new-$round-$i" });
        });
        $deleted += grep { $_->{code} == 204 } @got[0 .. 2];
        push @creates, @got[3 .. 7];
        my $made = grep { $_->{code} == 201 } @got[3 .. 7];
        $stored += $made;
        ok($h->psql(q{SELECT count(*) FROM articles WHERE user_id = $1}, $d->{id}) <= 3, "round $round: at most 3 stored");
    }
    is($deleted, 12, 'every delete done');
    my @wrong = grep {
        !($_->{code} == 201
          || ($_->{code} == 409 && ($_->{json}{error}{code} // '') eq 'article_limit_reached'
              && is_deeply_q($_->{json}{error}{details}, $LIMIT)))
    } @creates;
    is(scalar(@wrong), 0, 'creates with free slugs during deletes: 201 or article_limit_reached, never slug_taken')
      or diag(join ' ', map { "$_->{code} $_->{body}" } @wrong);
    ok($stored >= 1, "some were stored ($stored of 20)");
}

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
