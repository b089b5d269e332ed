#!/usr/bin/env perl
# GET /api/v1/articles/{id}/related: the caller's other articles with an
# embedding, nearest first by cosine distance, with the distance, checked
# against distances computed here.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use List::Util qw(max min sum);
use Test::More;
use BP::Harness;
use BP::Fixtures qw(make_user auth random_uuid);
use BP::Util qw(error_is);

my $DIM = 4;
my $h = BP::Harness->new(env => { EMBEDDING_DIM => $DIM });
my $t = $h->t;
my $alice = make_user($h);
my $bob   = make_user($h);

note('embeddings stored as ' . $h->psql('SELECT bp_embedding_kind()'));

sub create {
    my ($u, $title, $emb) = @_;
    $t->post_ok('/api/v1/articles', auth($u), json => { title => $title, defined $emb ? (embedding => $emb) : () })
      ->status_is(201);
    return $t->tx->res->json->{id};
}

# As stored: each number rounded to a real (float4).
sub f32 { unpack 'f', pack 'f', $_[0] }

# Cosine distance as pgvector defines it (1 - cosine similarity, in [0, 2]).
sub cosine_distance {
    my ($x, $y) = @_;
    my @a = map { f32($_) } @$x;
    my @b = map { f32($_) } @$y;
    my $dot = sum(map { $a[$_] * $b[$_] } 0 .. $#a);
    my $na  = sum(map { $_ * $_ } @a);
    my $nb  = sum(map { $_ * $_ } @b);
    my $sim = $dot / sqrt($na * $nb);
    return 1 - max(-1, min(1, $sim));
}

my $anchor_emb = [ 0.9, 0.1, 0.3, -0.2 ];
my $anchor = create($alice, 'Anchor', $anchor_emb);

# Neighbours with distinct distances, in no particular order.
my %emb = (
    'Same direction'  => [ 1.8, 0.2, 0.6, -0.4 ],     # distance 0
    'Close'           => [ 0.85, 0.15, 0.28, -0.1 ],
    'Closer'          => [ 0.9, 0.12, 0.3, -0.19 ],
    'Orthogonal-ish'  => [ 0.1, -0.9, 0.05, 0.1 ],
    'Opposite'        => [ -0.9, -0.1, -0.3, 0.2 ],    # distance 2
    'Mixed'           => [ 0.3, 0.3, -0.5, 0.7 ],
    'Far'             => [ -0.2, 0.8, 0.1, 0.6 ],
    'Tiny values'     => [ 1e-3, 2e-4, 3e-4, -1e-4 ],
);
my %id;
for my $title (sort keys %emb) {
    $id{$title} = create($alice, $title, $emb{$title});
}
my $no_emb = create($alice, 'No embedding');
my $zero   = create($alice, 'Zero vector', [ 0, 0, 0, 0 ]);
my $bobs   = create($bob, "Bob's twin", $anchor_emb);

my @want = sort { $a->{distance} <=> $b->{distance} }
           map { { id => $id{$_}, title => $_, distance => cosine_distance($anchor_emb, $emb{$_}) } } keys %emb;

sub check_items {
    my ($items, $want, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is_deeply([ map { $_->{title} } @$items ], [ map { $_->{title} } @$want ], "$name: nearest first")
        or diag(explain([ map { "$_->{title} $_->{distance}" } @$items ]));
    for my $i (0 .. $#$want) {
        my $got = $items->[$i]{distance};
        ok(defined $got && abs($got - $want->[$i]{distance}) < 1e-6,
           sprintf '%s: distance of %s is %.9f', $name, $want->[$i]{title}, $want->[$i]{distance})
            or diag('got ' . ($got // 'undef'));
    }
}

$t->get_ok("/api/v1/articles/$anchor/related", auth($alice))->status_is(200);
my $items = $t->tx->res->json->{items};
is(scalar @$items, 5, 'the default limit is 5');
check_items($items, [ @want[0 .. 4] ], 'limit 5');
like($t->tx->res->body, qr/"distance":(?:0|[0-9]\.[0-9]+(?:e-?[0-9]+)?|[0-9](?:e-?[0-9]+)?)[,}]/,
     'distance is a JSON number');
is_deeply([ sort keys %{ $items->[0] } ],
          [ sort qw(id title slug meta_description primary_keyword seo_score status wp_post_id wp_url has_embedding
                    created_at updated_at distance) ],
          'items are summaries with their distance');
is($items->[0]{has_embedding}, Mojo::JSON->true, 'has_embedding true');
cmp_ok(abs($items->[0]{distance}), '<', 1e-6, 'the same direction is at distance 0');

$t->get_ok("/api/v1/articles/$anchor/related?limit=50", auth($alice))->status_is(200);
$items = $t->tx->res->json->{items};
check_items($items, \@want, 'limit 50');
ok(!(grep { $_->{id} eq $anchor } @$items), 'the article itself is left out');
ok(!(grep { $_->{id} eq $no_emb } @$items), 'an article without embedding is left out');
ok(!(grep { $_->{id} eq $zero } @$items), 'a zero vector (no direction, no distance) is left out');
ok(!(grep { $_->{id} eq $bobs } @$items), "another user's article is never related");
cmp_ok(abs($items->[-1]{distance} - 2), '<', 1e-6, 'the opposite direction is at distance 2');

$t->get_ok("/api/v1/articles/$anchor/related?limit=1", auth($alice))->status_is(200);
check_items($t->tx->res->json->{items}, [ $want[0] ], 'limit 1');

# From another article's point of view.
{
    my $from = 'Far';
    my @w = sort { $a->{distance} <=> $b->{distance} }
            map { { id => $id{$_}, title => $_, distance => cosine_distance($emb{$from}, $emb{$_}) } }
            grep { $_ ne $from } keys %emb;
    push @w, { id => $anchor, title => 'Anchor', distance => cosine_distance($emb{$from}, $anchor_emb) };
    @w = sort { $a->{distance} <=> $b->{distance} } @w;
    $t->get_ok("/api/v1/articles/$id{$from}/related?limit=50", auth($alice))->status_is(200);
    check_items($t->tx->res->json->{items}, \@w, "related to '$from'");
}

# Changes show at once.
$t->patch_ok("/api/v1/articles/$id{'Same direction'}", auth($alice), json => { embedding => undef })->status_is(200);
$t->delete_ok("/api/v1/articles/$id{Closer}", auth($alice))->status_is(204);
$t->get_ok("/api/v1/articles/$anchor/related?limit=50", auth($alice))->status_is(200);
check_items($t->tx->res->json->{items}, [ grep { $_->{title} ne 'Same direction' && $_->{title} ne 'Closer' } @want ],
            'after clearing one embedding and deleting one article');

# No embedding, no neighbours.
$t->get_ok("/api/v1/articles/$no_emb/related", auth($alice))->status_is(200)->json_is('/items' => [],
    'an article without embedding: empty items');
$t->get_ok("/api/v1/articles/$zero/related", auth($alice))->status_is(200)->json_is('/items' => [],
    'a zero vector: empty items');
$t->get_ok("/api/v1/articles/$bobs/related", auth($bob))->status_is(200)->json_is('/items' => [],
    'bob has no other article: empty items');

# 404s and limits.
for my $id ($bobs, random_uuid(), 'nope') {
    $t->get_ok("/api/v1/articles/$id/related", auth($alice));
    error_is($t, 404, 'not_found', undef, "related of $id");
}
for my $bad (qw(0 51 -1 abc 1.5)) {
    $t->get_ok("/api/v1/articles/$anchor/related?limit=$bad", auth($alice));
    error_is($t, 400, 'validation_failed', 'limit', "limit=$bad");
}
$t->get_ok("/api/v1/articles/$anchor/related?limit=50", auth($alice))->status_is(200, 'limit=50 is fine');

done_testing;
