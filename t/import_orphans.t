#!/usr/bin/env perl
# assign-orphans: the articles without an owner (only those) go to one
# user, the user's own slugs win, and running it again changes nothing.
# import-json refuses a file whose id is an orphan's.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use BP::Pin;    # before any Mojo module

use Mojo::JSON qw(encode_json);
use Test::More;
use BP::Harness;
use BP::Fixtures qw(make_user auth random_uuid);
use BP::Legacy qw(spew snapshot);

my $h = BP::Harness->new;
my $t = $h->t;
my $owner = make_user($h, email => 'owner@example.com');
my $other = make_user($h, email => 'other@example.com');

$t->post_ok('/api/v1/articles', auth($owner), json => { title => 'Mine', slug => 'shared' })->status_is(201);
my $mine = $t->tx->res->json;
$t->post_ok('/api/v1/articles', auth($other), json => { title => 'Theirs', slug => 'solo' })->status_is(201);
my $theirs = $t->tx->res->json;

my ($o1, $o2, $o3) = map { random_uuid() } 1 .. 3;
$h->psql(q{INSERT INTO articles (id, user_id, title, slug, created_at, updated_at) VALUES
           ($1, NULL, 'Orphan one', 'shared', '2020-01-01Z', '2020-01-01Z'),
           ($2, NULL, 'Orphan two', 'solo', '2020-01-02Z', '2020-01-02Z'),
           ($3, NULL, 'Orphan three', 'shared', '2020-01-03Z', '2020-01-03Z')}, $o1, $o2, $o3);

# import-json will not take an orphan's id
my $dir = $h->tmpdir . '/legacy';
spew("$dir/articles/a.json", encode_json({ id => $o2, title => 'Again' }));
my $before = snapshot($h);
my ($st, $out, $err) = $h->run_bp('import-json', $dir, '--owner', 'owner@example.com');
is($st, 1, 'import-json refuses a file with an orphan\'s id');
like($err, qr/^\Q$dir\E\/articles\/a\.json: id \Q$o2\E is already the id of an article without an owner/m,
    '... and says to assign the orphans first');
is(snapshot($h), $before, '... writing nothing');

($st, $out, $err) = $h->run_bp('assign-orphans');
is($st, 2, 'no --to: usage error');
($st, $out, $err) = $h->run_bp('assign-orphans', '--to', 'nobody@example.com');
is($st, 1, 'unknown user refused');
is(snapshot($h), $before, '... changing nothing');

($st, $out, $err) = $h->run_bp('assign-orphans', '--to', 'Owner@Example.com');
is($st, 0, 'assign-orphans') or diag($err);
like($out, qr/^assigned 3 articles without an owner to owner\@example\.com$/m, 'says how many');
like($out, qr/^renamed slugs: 2$/m, 'two slugs renamed');
like($out, qr/^  article \Q$o1\E: slug "shared" is taken: "shared-2"$/m, "the owner's slug wins");
like($out, qr/^  article \Q$o3\E: slug "shared" is taken: "shared-3"$/m, 'the newer orphan comes after the older');

my %slug = map { $_->[0] => [ $_->[1], $_->[2] ] } $h->psql('SELECT id, user_id, slug FROM articles');
is_deeply($slug{ $mine->{id} }, [ $owner->{id}, 'shared' ], "the owner's article unchanged");
is_deeply($slug{ $theirs->{id} }, [ $other->{id}, 'solo' ], "the other user's article unchanged");
is_deeply($slug{$o1}, [ $owner->{id}, 'shared-2' ], 'orphan one is the owner\'s');
is_deeply($slug{$o2}, [ $owner->{id}, 'solo' ], 'orphan two keeps its slug (another user has it, which is no clash)');
is_deeply($slug{$o3}, [ $owner->{id}, 'shared-3' ], 'orphan three is the owner\'s');
$t->get_ok("/api/v1/articles/$o2", auth($owner))->status_is(200)->json_is('/title', 'Orphan two')
  ->json_is('/created_at', '2020-01-02T00:00:00Z');
$t->get_ok("/api/v1/articles/$o2", auth($other))->status_is(404);

my $after = snapshot($h);
($st, $out, $err) = $h->run_bp('assign-orphans', '--to', 'owner@example.com');
is($st, 0, 'again');
like($out, qr/^assigned 0 articles without an owner/m, 'assigns nothing');
is(snapshot($h), $after, 'and changes nothing');

done_testing;
