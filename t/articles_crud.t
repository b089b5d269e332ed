#!/usr/bin/env perl
# Articles: create, read, update, delete; slugs made from titles; 404 for
# other users' and malformed ids on every verb; Idempotency-Key on create.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);
use BP::Harness;
use BP::Fixtures qw(make_user auth race random_uuid);
use BP::Util qw(error_is);

my $h = BP::Harness->new(workers => 4);
my $t = $h->t;
my $alice = make_user($h);
my $bob   = make_user($h);

my $RFC3339 = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
my $UUID    = qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

sub create {
    my ($u, $body, %hdr) = @_;
    $t->post_ok('/api/v1/articles', auth($u, %hdr), json => $body);
    return $t->tx->res->json // {};
}

sub count_articles {
    my ($u) = @_;
    return $h->psql('SELECT count(*) FROM articles WHERE user_id = $1', $u->{id});
}

# ---------------------------------------------------------------- create

my $a1 = create($alice, { title => 'Hello, World!' });
$t->status_is(201)->header_is(Location => "/api/v1/articles/$a1->{id}");
like($a1->{id}, $UUID, 'id is a lower-case UUID');
is_deeply(
    [ sort keys %$a1 ],
    [ sort qw(id title slug content_markdown content_html meta_description primary_keyword seo_score
              status wp_post_id wp_url has_embedding created_at updated_at) ],
    'the full article has exactly the fields of API.md (no embedding, no user_id)');
is($a1->{slug}, 'hello-world', 'slug made from the title');
is($a1->{status}, 'draft', 'status defaults to draft');
is($a1->{has_embedding}, Mojo::JSON->false, 'has_embedding false');
is($a1->{$_}, undef, "$_ is null") for qw(content_markdown content_html meta_description primary_keyword seo_score wp_post_id wp_url);
like($a1->{$_}, $RFC3339, "$_ is RFC 3339 UTC without fraction") for qw(created_at updated_at);

my $full = {
    title            => 'Full one',
    slug             => 'full-one',
    content_markdown => "# Full\n\nwith \"quotes\" and \\ and \x{e9}",
    content_html     => '<h1>Full</h1>',
    meta_description => 'meta',
    primary_keyword  => 'kw',
    seo_score        => 87.5,
    status           => 'published',
    wp_post_id       => 4242,
    wp_url           => 'https://blog.example.com/full-one',
    embedding        => [ map { ($_ % 7) / 10 } 1 .. 1536 ],
};
my $a2 = create($alice, $full);
$t->status_is(201);
for my $k (grep { $_ ne 'embedding' } sort keys %$full) {
    is($a2->{$k}, $full->{$k}, "create echoes $k");
}
is($a2->{has_embedding}, Mojo::JSON->true, 'has_embedding true (EMBEDDING_DIM 1536)');
ok(!exists $a2->{embedding}, 'the embedding is never echoed');
is($h->psql('SELECT embedding IS NOT NULL FROM articles WHERE id = $1', $a2->{id}), 1, 'the embedding is stored');

$t->get_ok("/api/v1/articles/$a2->{id}", auth($alice))->status_is(200);
is_deeply($t->tx->res->json, $a2, 'GET returns the article as created');

# ---------------------------------------------------------------- slugs

my %slug_cases = (
    'Hello, World!'                  => 'hello-world-2',
    'Hello World'                    => 'hello-world-3',
    '  --Leading and trailing--  '   => 'leading-and-trailing',
    "Caf\x{e9} au lait"              => 'caf-au-lait',
    '!!!'                            => 'article',
    "\x{65e5}\x{672c}\x{8a9e}"       => 'article-2',
    'A_B  C...D 2024'                => 'a-b-c-d-2024',
    'UPPER lower 123'                => 'upper-lower-123',
);
for my $title (sort { $slug_cases{$a} cmp $slug_cases{$b} } keys %slug_cases) {
    my $a = create($alice, { title => $title });
    $t->status_is(201);
    is($a->{slug}, $slug_cases{$title}, "slug of '$title'");
}

# Long titles: the slug keeps to 500 characters, the suffix included.
my $long = create($alice, { title => ('a' x 497) . ' bc' });
is($long->{slug}, ('a' x 497) . '-bc', '500-character slug');
my $long2 = create($alice, { title => ('a' x 497) . ' bc' });
is($long2->{slug}, ('a' x 497) . '-2', 'suffix after a cut that ends on a dash');
my $very = create($alice, { title => 'b' x 500 });
is($very->{slug}, 'b' x 500, 'slug of 500 letters');
my $very2 = create($alice, { title => 'b' x 500 });
is($very2->{slug}, ('b' x 498) . '-2', 'suffixed and still 500 characters');
is(length $very2->{slug}, 500, 'length 500');

# Suffixes: the first free one.
my @hw = map { create($alice, { title => 'Suffix test' })->{slug} } 1 .. 4;
is_deeply(\@hw, [qw(suffix-test suffix-test-2 suffix-test-3 suffix-test-4)], '-2, -3, ... in turn');
my ($hw2) = $h->psql(q{SELECT id FROM articles WHERE user_id = $1 AND slug = 'suffix-test-2'}, $alice->{id});
$t->delete_ok("/api/v1/articles/$hw2->[0]", auth($alice))->status_is(204);
is(create($alice, { title => 'Suffix test' })->{slug}, 'suffix-test-2', 'a freed suffix is used again');
is(create($alice, { title => 'Suffix test' })->{slug}, 'suffix-test-5', 'then the next free one');

# Slugs are per user.
is(create($bob, { title => 'Hello, World!' })->{slug}, 'hello-world', "another user's slug does not count");

# Explicit slugs.
create($alice, { title => 'x', slug => 'hello-world' });
error_is($t, 409, 'slug_taken', 'slug');
my $own = create($bob, { title => 'x', slug => 'full-one' });
$t->status_is(201);
is($own->{slug}, 'full-one', 'an explicit slug another user has is fine');

# Concurrent creates of one title: every one gets its own slug.
my @res = race($h, 12, sub {
    my ($ua) = @_;
    return $ua->post($h->url('/api/v1/articles'), auth($alice), json => { title => 'Race Title' });
});
is(scalar(grep { $_->{code} == 201 } @res), 12, '12 concurrent creates of one title all succeed')
    or diag(join "\n", map { "$_->{code} $_->{body}" } @res);
is_deeply([ sort map { $_->{json}{slug} // '' } @res ],
          [ sort 'race-title', map { "race-title-$_" } 2 .. 12 ], '... with distinct slugs, -2 to -12');

# ---------------------------------------------------------------- update

# (with triggers off: the one on articles would set updated_at to now())
$h->psql('SET session_replication_role = replica');
$h->psql(q{UPDATE articles SET updated_at = now() - interval '1 hour', created_at = now() - interval '1 hour' WHERE id = $1},
    $a1->{id});
$h->psql('RESET session_replication_role');
$t->get_ok("/api/v1/articles/$a1->{id}", auth($alice))->status_is(200);
my $before = $t->tx->res->json;
$t->patch_ok("/api/v1/articles/$a1->{id}", auth($alice), json => { meta_description => 'new meta', seo_score => 12 })
  ->status_is(200)->json_is('/meta_description' => 'new meta')->json_is('/seo_score' => 12)
  ->json_is('/title' => 'Hello, World!')->json_is('/slug' => 'hello-world');
my $after = $t->tx->res->json;
isnt($after->{updated_at}, $before->{updated_at}, 'updated_at changes');
is($after->{created_at}, $before->{created_at}, 'created_at does not');
$t->get_ok("/api/v1/articles/$a1->{id}", auth($alice))->json_is('/meta_description' => 'new meta');

$t->patch_ok("/api/v1/articles/$a1->{id}", auth($alice), json => { slug => 'full-one' });
error_is($t, 409, 'slug_taken', 'slug');
$t->get_ok("/api/v1/articles/$a1->{id}", auth($alice))->json_is('/slug' => 'hello-world', 'a refused PATCH changes nothing')
  ->json_is('/meta_description' => 'new meta');
$t->patch_ok("/api/v1/articles/$a1->{id}", auth($alice), json => { slug => 'hello-world' })->status_is(200)
  ->json_is('/slug' => 'hello-world', 'PATCH to its own slug is fine');
$t->patch_ok("/api/v1/articles/$a1->{id}", auth($alice), json => { slug => 'brand-new', title => 'T2', status => 'archived',
    wp_post_id => 7, wp_url => 'http://wp.example/x', content_markdown => 'md', content_html => '<p>h</p>',
    primary_keyword => 'pk', embedding => [ (0.5) x 1536 ] })
  ->status_is(200)->json_is('/slug' => 'brand-new')->json_is('/title' => 'T2')->json_is('/status' => 'archived')
  ->json_is('/wp_post_id' => 7)->json_is('/wp_url' => 'http://wp.example/x')->json_is('/content_markdown' => 'md')
  ->json_is('/content_html' => '<p>h</p>')->json_is('/primary_keyword' => 'pk')->json_is('/has_embedding' => Mojo::JSON->true);
$t->patch_ok("/api/v1/articles/$a1->{id}", auth($alice), json => { embedding => undef, seo_score => undef, wp_url => undef,
    content_markdown => undef })
  ->status_is(200)->json_is('/has_embedding' => Mojo::JSON->false)->json_is('/seo_score' => undef)
  ->json_is('/wp_url' => undef)->json_is('/content_markdown' => undef)->json_is('/title' => 'T2');
my $snap = $t->tx->res->json;
$t->patch_ok("/api/v1/articles/$a1->{id}", auth($alice), json => {})->status_is(200);
is_deeply($t->tx->res->json, $snap, 'an empty PATCH changes nothing');
for my $ro (qw(id user_id created_at updated_at has_embedding)) {
    $t->patch_ok("/api/v1/articles/$a1->{id}", auth($alice), json => { $ro => $a1->{$ro} // 'x' });
    error_is($t, 400, 'validation_failed', $ro, "PATCH of read-only $ro");
}
$t->patch_ok("/api/v1/articles/$a1->{id}", auth($alice), json => { title => '' });
error_is($t, 400, 'validation_failed', 'title');
$t->patch_ok("/api/v1/articles/$a1->{id}", auth($alice), json => { slug => undef });
error_is($t, 400, 'validation_failed', 'slug');

# ---------------------------------------------------------------- 404s

my $bobs = create($bob, { title => 'Bob private' });
my $bob_pipe = do {
    $t->post_ok('/api/v1/pipelines', auth($bob), json => { article_id => $bobs->{id} })->status_is(201);
    $t->tx->res->json->{id};
};
my @ids = ($bobs->{id}, random_uuid(), 'not-a-uuid', '12345', uc($bobs->{id}), "$bobs->{id}x",
           substr($bobs->{id}, 0, 35), 'null', '%20');
for my $id (@ids) {
    $t->get_ok("/api/v1/articles/$id", auth($alice));
    error_is($t, 404, 'not_found', undef, "GET article $id");
    $t->patch_ok("/api/v1/articles/$id", auth($alice), json => { title => 'stolen' });
    error_is($t, 404, 'not_found', undef, "PATCH article $id");
    $t->delete_ok("/api/v1/articles/$id", auth($alice));
    error_is($t, 404, 'not_found', undef, "DELETE article $id");
    $t->get_ok("/api/v1/articles/$id/related", auth($alice));
    error_is($t, 404, 'not_found', undef, "related of article $id");
}
$t->get_ok("/api/v1/articles/$bobs->{id}", auth($bob))->status_is(200)->json_is('/title' => 'Bob private',
    "bob's article is untouched");
$t->get_ok('/api/v1/articles', auth($alice))->status_is(200);
ok(!(grep { $_->{id} eq $bobs->{id} } @{ $t->tx->res->json->{items} }), "bob's article is not in alice's list");

# Without credentials.
$t->get_ok("/api/v1/articles/$a1->{id}");
error_is($t, 401, 'unauthorized');
$t->post_ok('/api/v1/articles', json => { title => 'x' });
error_is($t, 401, 'unauthorized');

# ---------------------------------------------------------------- delete

$t->delete_ok("/api/v1/articles/$bobs->{id}", auth($bob))->status_is(204)->content_is('');
$t->get_ok("/api/v1/articles/$bobs->{id}", auth($bob));
error_is($t, 404, 'not_found');
$t->delete_ok("/api/v1/articles/$bobs->{id}", auth($bob));
error_is($t, 404, 'not_found', undef, 'a second delete is a 404');
$t->get_ok("/api/v1/pipelines/$bob_pipe", auth($bob))->status_is(200)
  ->json_is('/article_id' => undef, 'the pipeline keeps its history with article_id null');

# ---------------------------------------------------------------- Idempotency-Key

{
    my $n0 = count_articles($alice);
    my $body = { title => 'Idempotent one' };
    my $first = create($alice, $body, 'Idempotency-Key' => 'create-1');
    $t->status_is(201);
    my $raw = $t->tx->res->body;
    my $again = create($alice, $body, 'Idempotency-Key' => 'create-1');
    $t->status_is(201)->header_is(Location => "/api/v1/articles/$first->{id}");
    is($t->tx->res->body, $raw, 'a repeat returns the first answer byte for byte');
    is(count_articles($alice), $n0 + 1, '... and creates nothing');

    # A replay is the first answer as it was, even after a change.
    $t->patch_ok("/api/v1/articles/$first->{id}", auth($alice), json => { title => 'changed' })->status_is(200);
    create($alice, $body, 'Idempotency-Key' => 'create-1');
    is($t->tx->res->body, $raw, 'replay after a change: the first answer as it was');

    create($alice, { title => 'Idempotent two' }, 'Idempotency-Key' => 'create-1');
    error_is($t, 409, 'conflict', undef, 'the same key with another body');
    is(count_articles($alice), $n0 + 1, 'nothing created');

    # The key belongs to the user.
    my $b = create($bob, $body, 'Idempotency-Key' => 'create-1');
    $t->status_is(201);
    isnt($b->{id}, $first->{id}, 'the same key of another user is another key');

    # Failed answers are not kept: the same request can be retried.
    create($alice, { title => 'Blocked', slug => 'blocked' });
    my $blocker = $t->tx->res->json->{id};
    create($alice, { title => 'Wants blocked', slug => 'blocked' }, 'Idempotency-Key' => 'retry-me');
    error_is($t, 409, 'slug_taken', 'slug');
    $t->delete_ok("/api/v1/articles/$blocker", auth($alice))->status_is(204);
    create($alice, { title => 'Wants blocked', slug => 'blocked' }, 'Idempotency-Key' => 'retry-me');
    $t->status_is(201, 'a failed request is retried with the same key')->json_is('/slug' => 'blocked');

    create($alice, { title => 123 }, 'Idempotency-Key' => 'bad-body');
    error_is($t, 400, 'validation_failed', 'title');
    create($alice, { title => 'Good body' }, 'Idempotency-Key' => 'bad-body');
    $t->status_is(201, 'after a 400 the key is free');

    # Keys expire after 24 hours.
    $h->psql(q{UPDATE idempotency_keys SET created_at = now() - interval '24 hours 1 second'
                WHERE user_id = $1 AND key = 'create-1'}, $alice->{id});
    my $n1 = count_articles($alice);
    my $fresh = create($alice, { title => 'After expiry' }, 'Idempotency-Key' => 'create-1');
    $t->status_is(201);
    isnt($fresh->{id}, $first->{id}, 'an expired key is a new key');
    is(count_articles($alice), $n1 + 1, '... that creates');
    create($alice, { title => 'After expiry' }, 'Idempotency-Key' => 'create-1');
    is($t->tx->res->json->{id}, $fresh->{id}, '... and is then kept again');

    # The header itself.
    create($alice, { title => 'k' }, 'Idempotency-Key' => 'k' x 256);
    error_is($t, 400, 'validation_failed', 'Idempotency-Key', '256 characters');
    create($alice, { title => 'k' }, 'Idempotency-Key' => "caf\xc3\xa9");
    error_is($t, 400, 'validation_failed', 'Idempotency-Key', 'not ASCII');
    create($alice, { title => 'k' }, 'Idempotency-Key' => "a\x01b");
    error_is($t, 400, 'validation_failed', 'Idempotency-Key', 'a control character');
    create($alice, { title => 'k255' }, 'Idempotency-Key' => 'k' x 255);
    $t->status_is(201, '255 characters are fine');
    create($alice, { title => 'k1' }, 'Idempotency-Key' => '~ !"#$%&()*+,./:;<=>?@[\\]^_`{|}');
    $t->status_is(201, 'printable ASCII punctuation is fine');

    # Two (or more) concurrent requests with the same key create one article.
    my $n2 = count_articles($alice);
    my @r = race($h, 10, sub {
        my ($ua) = @_;
        return $ua->post($h->url('/api/v1/articles'), auth($alice, 'Idempotency-Key' => 'concurrent'),
            json => { title => 'Concurrent idempotent' });
    });
    is_deeply([ map { $_->{code} } @r ], [ (201) x 10 ], 'ten concurrent requests with one key: all 201')
        or diag(join "\n", map { "$_->{code} $_->{body}" } @r);
    my %ids = map { ($_->{json}{id} // '') => 1 } @r;
    is(scalar keys %ids, 1, '... all with the same article');
    is(count_articles($alice), $n2 + 1, '... which exists once');
}

done_testing;
