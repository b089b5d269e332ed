#!/usr/bin/env perl
# Articles: PATCH with If-Match. The article's ETag (its updated_at with
# microseconds) or its updated_at as the JSON shows it: a match changes
# it (200), a stale one is 409 conflict and changes nothing, none at all
# is the plain PATCH. Two changes within one second are told apart by the
# ETag.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use BP::Harness;
use BP::Fixtures qw(make_user auth random_uuid);
use BP::Util qw(error_is);

my $h = BP::Harness->new;
my $t = $h->t;
my $alice = make_user($h);
my $bob   = make_user($h);

my $ETAG = qr/^"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"$/;

$t->post_ok('/api/v1/articles', auth($alice), json => { title => 'First title' })->status_is(201);
my $a = $t->tx->res->json;
my $etag = $t->tx->res->headers->etag;
like($etag, $ETAG, 'POST answers with an ETag: updated_at with microseconds');
is(substr($etag, 1, 19), substr($a->{updated_at}, 0, 19), 'the same instant as updated_at');

$t->get_ok("/api/v1/articles/$a->{id}", auth($alice))->status_is(200)->header_is(ETag => $etag, 'GET: the same ETag');

sub title_in_db { $h->psql('SELECT title FROM articles WHERE id = $1', $a->{id}) }

# ------------------------------------------------------------ matching

$t->patch_ok("/api/v1/articles/$a->{id}", auth($alice, 'If-Match' => $etag), json => { title => 'Second title' })
  ->status_is(200)->json_is('/title', 'Second title');
my $etag2 = $t->tx->res->headers->etag;
like($etag2, $ETAG, 'the answer has the new ETag');
isnt($etag2, $etag, 'a new one');
my $updated2 = $t->tx->res->json->{updated_at};

# ------------------------------------------------------------ stale

$t->patch_ok("/api/v1/articles/$a->{id}", auth($alice, 'If-Match' => $etag), json => { title => 'Lost update' });
error_is($t, 409, 'conflict', undef, 'a stale ETag: 409 conflict');
like($t->tx->res->json->{error}{message}, qr/changed since it was loaded/, 'with a clear message');
is(title_in_db(), 'Second title', 'and nothing changed');

$t->patch_ok("/api/v1/articles/$a->{id}", auth($alice, 'If-Match' => '"2000-01-01T00:00:00Z"'), json => { title => 'Lost' });
error_is($t, 409, 'conflict', undef, 'a stale updated_at: 409');
$t->patch_ok("/api/v1/articles/$a->{id}", auth($alice, 'If-Match' => $etag), json => {});
error_is($t, 409, 'conflict', undef, 'a stale ETag with an empty body: 409 too');
is(title_in_db(), 'Second title', 'still unchanged');

# ------------------------------------------------------------ the JSON's updated_at

# Move updated_at into the middle of a second, so that its truncation differs from it.
$h->psql(q{UPDATE articles SET title = title WHERE id = $1}, $a->{id});
$h->psql(q{ALTER TABLE articles DISABLE TRIGGER articles_touch_updated_at});
$h->psql(q{UPDATE articles SET updated_at = '2026-01-02 03:04:05.678901+00' WHERE id = $1}, $a->{id});
$h->psql(q{ALTER TABLE articles ENABLE TRIGGER articles_touch_updated_at});
$t->get_ok("/api/v1/articles/$a->{id}", auth($alice))->status_is(200)
  ->header_is(ETag => '"2026-01-02T03:04:05.678901Z"', 'the ETag keeps the microseconds')
  ->json_is('/updated_at', '2026-01-02T03:04:05Z', 'the JSON does not');
$t->patch_ok("/api/v1/articles/$a->{id}", auth($alice, 'If-Match' => '"2026-01-02T03:04:05Z"'), json => { title => 'Third title' })
  ->status_is(200, 'updated_at as the JSON shows it matches (same second)')->json_is('/title', 'Third title');

# Two changes within the same second: the ETag tells them apart.
$h->psql(q{ALTER TABLE articles DISABLE TRIGGER articles_touch_updated_at});
$h->psql(q{UPDATE articles SET updated_at = '2026-01-02 03:04:05.900000+00' WHERE id = $1}, $a->{id});
$h->psql(q{ALTER TABLE articles ENABLE TRIGGER articles_touch_updated_at});
$t->patch_ok("/api/v1/articles/$a->{id}", auth($alice, 'If-Match' => '"2026-01-02T03:04:05.678901Z"'), json => { title => 'Lost' });
error_is($t, 409, 'conflict', undef, 'an ETag of the same second but an earlier change: 409');
$t->patch_ok("/api/v1/articles/$a->{id}", auth($alice, 'If-Match' => '"2026-01-02T03:04:05.900000Z"'), json => {})
  ->status_is(200, 'the exact ETag with an empty body: 200')->json_is('/title', 'Third title')
  ->header_is(ETag => '"2026-01-02T03:04:05.900000Z"', 'and nothing changed, not even updated_at');

# ------------------------------------------------------------ absent, malformed, not found

$t->patch_ok("/api/v1/articles/$a->{id}", auth($alice), json => { title => 'Fourth title' })
  ->status_is(200, 'no If-Match: the PATCH of before')->json_is('/title', 'Fourth title');

for my $bad ('2026-01-02T03:04:05Z', '"yesterday"', 'W/"2026-01-02T03:04:05Z"', '"2026-01-02"', '""', '*') {
    $t->patch_ok("/api/v1/articles/$a->{id}", auth($alice, 'If-Match' => $bad), json => { title => 'Bad' });
    error_is($t, 400, 'validation_failed', 'If-Match', "If-Match $bad: 400");
}
is(title_in_db(), 'Fourth title', 'none of them changed it');

$t->get_ok("/api/v1/articles/$a->{id}", auth($alice));
my $cur = $t->tx->res->headers->etag;
$t->patch_ok("/api/v1/articles/$a->{id}", auth($bob, 'If-Match' => $cur), json => { title => 'Bob' });
error_is($t, 404, 'not_found', undef, "another user's article with its current ETag: 404, not 409");
$t->patch_ok('/api/v1/articles/' . random_uuid(), auth($alice, 'If-Match' => $cur), json => { title => 'x' });
error_is($t, 404, 'not_found', undef, 'an unknown article: 404');
is(title_in_db(), 'Fourth title', 'unchanged');

done_testing;
