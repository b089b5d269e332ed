#!/usr/bin/env perl
# import-json for several owners: each team ran the file-based version in
# its own folder, with the same file names and files without an id.  Each
# folder imports completely for its owner (a file without an id gets
# md5(owner_id || ':' || path)::uuid), a re-run of either imports nothing,
# and a re-run after an import by the first rule (md5(path)::uuid, the
# path alone) imports nothing either.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Mojo::JSON qw(encode_json);
use Test::More;
use BP::Harness;
use BP::Fixtures qw(make_user auth random_uuid);
use BP::Legacy qw(spew legacy_id snapshot);

my $h = BP::Harness->new;
my $t = $h->t;
my $A = make_user($h, email => 'team-a@example.com');
my $B = make_user($h, email => 'team-b@example.com');

my $NOID = 'articles/a08-noid.json';
my $RUN  = 'pipelines/run.json';
my $A1   = random_uuid();

# team A: one article with an id, one without; a run without an id that
# points at the id-less article by the id the first rule gave it
my $dir_a = $h->tmpdir . '/team-a';
spew("$dir_a/articles/a01.json", encode_json({ id => $A1, title => 'A one', created_at => '2024-01-01T00:00:00Z' }));
spew("$dir_a/$NOID", encode_json({ title => 'Team A notes', created_at => '2024-01-05T00:00:00Z' }));
spew("$dir_a/$RUN", encode_json({
    article_id => legacy_id(undef, $NOID), status => 'completed', total_cost => '1.5',
    started_at => '2024-01-06T10:00:00Z', completed_at => '2024-01-06T10:05:00Z' }));

# team B: the same file names, other contents; its run points at the
# id-less article by the id this rule gives it
my $dir_b = $h->tmpdir . '/team-b';
spew("$dir_b/$NOID", encode_json({ title => 'Team B plans', created_at => '2024-02-01T00:00:00Z' }));
spew("$dir_b/$RUN", encode_json({
    article_id => legacy_id($B->{id}, $NOID), status => 'completed', total_cost => '2',
    started_at => '2024-02-02T10:00:00Z', completed_at => '2024-02-02T10:05:00Z' }));

sub import_json {
    my ($dir, $email, @args) = @_;
    return $h->run_bp('import-json', $dir, '--owner', $email, @args);
}

sub imports_nothing {
    my ($label, $dir, $user, $na, $np) = @_;
    my $before = snapshot($h);
    for my $dry (0, 1) {
        my $l = $label . ($dry ? ' (dry run)' : '');
        my ($st, $out, $err) = import_json($dir, $user->{email}, $dry ? ('--dry-run') : ());
        is($st, 0, "$l succeeds") or diag($err);
        like($out, qr/^articles: $na read, 0 (imported|to import), $na already present$/m, "$l: no article imported");
        like($out, qr/^pipelines: $np read, 0 (imported|to import), $np already present$/m, "$l: no run imported");
        like($out, qr/^usage rebuilt: 0 months$/m, "$l: no usage touched");
        is(snapshot($h), $before, "$l changes nothing");
    }
}

# ------------------------------------------------------------ both folders import

my ($st, $out, $err) = import_json($dir_a, $A->{email});
is($st, 0, "team A's folder imports") or diag($err);
like($out, qr/^articles: 2 read, 2 imported, 0 already present$/m, 'team A: both articles');
like($out, qr/^pipelines: 1 read, 1 imported, 0 already present$/m, 'team A: the run');

($st, $out, $err) = import_json($dir_b, $B->{email});
is($st, 0, "team B's folder, with the same file names, imports") or diag($err);
like($out, qr/^articles: 1 read, 1 imported, 0 already present$/m, 'team B: its article');
like($out, qr/^pipelines: 1 read, 1 imported, 0 already present$/m, 'team B: its run');
unlike($err, qr/another user's/, "team B: no clash with team A's ids");

my %id = map {
    my $u = $_;
    ($u->{email} => { noid => legacy_id($u->{id}, $NOID), run => legacy_id($u->{id}, $RUN) })
} $A, $B;
isnt($id{ $A->{email} }{noid}, $id{ $B->{email} }{noid}, 'the same path gets another id for another owner');
is($id{ $A->{email} }{noid},
    $h->psql(q{SELECT md5($1::uuid::text || ':' || $2)::uuid}, $A->{id}, $NOID),
    "the id is md5(owner_id || ':' || path)::uuid");

for my $c ([ $A, 'Team A notes' ], [ $B, 'Team B plans' ]) {
    my ($u, $title) = @$c;
    my $ids = $id{ $u->{email} };
    $t->get_ok("/api/v1/articles/$ids->{noid}", auth($u))->status_is(200)
      ->json_is('/title', $title, "$u->{email}: the id-less article is the owner's, under its id");
    $t->get_ok("/api/v1/pipelines/$ids->{run}", auth($u))->status_is(200)
      ->json_is('/article_id', $ids->{noid}, "$u->{email}: the run points at the owner's article");
}
$t->get_ok("/api/v1/articles/$id{ $B->{email} }{noid}", auth($A))->status_is(404);
is($h->psql('SELECT count(*) FROM articles WHERE user_id = $1', $A->{id}), 2, 'team A has 2 articles');
is($h->psql('SELECT count(*) FROM articles WHERE user_id = $1', $B->{id}), 1, 'team B has 1');

# ------------------------------------------------------------ again: nothing

imports_nothing("team A's second run", $dir_a, $A, 2, 1);
imports_nothing("team B's second run", $dir_b, $B, 1, 1);

# ------------------------------------------------------------ imported by the first rule

# team A's rows as the first rule left them: the path alone made the ids
my ($old_noid, $old_run) = (legacy_id(undef, $NOID), legacy_id(undef, $RUN));
$h->psql('UPDATE pipelines SET article_id = NULL WHERE user_id = $1', $A->{id});
is($h->psql('UPDATE articles SET id = $1 WHERE id = $2', $old_noid, $id{ $A->{email} }{noid}), 1,
    "team A's id-less article now has the first rule's id");
is($h->psql('UPDATE pipelines SET id = $1, article_id = $2 WHERE id = $3', $old_run, $old_noid,
    $id{ $A->{email} }{run}), 1, "and so has its run");
imports_nothing("team A's run after the first rule's import", $dir_a, $A, 2, 1);
imports_nothing("team B's run beside it", $dir_b, $B, 1, 1);

# a new file in team A's folder: only it is imported, its run resolves
spew("$dir_a/articles/a09-noid.json", encode_json({ title => 'Team A later', created_at => '2024-03-01T00:00:00Z' }));
spew("$dir_a/pipelines/run2.json", encode_json({
    article_id => $old_noid, status => 'failed', started_at => '2024-03-02T10:00:00Z',
    completed_at => '2024-03-02T10:05:00Z' }));
($st, $out, $err) = import_json($dir_a, $A->{email});
is($st, 0, 'a later file of team A imports') or diag($err);
like($out, qr/^articles: 3 read, 1 imported, 2 already present$/m, 'only the new article');
like($out, qr/^pipelines: 2 read, 1 imported, 1 already present$/m, 'only the new run');
is($h->psql('SELECT title FROM articles WHERE id = $1', legacy_id($A->{id}, 'articles/a09-noid.json')),
    'Team A later', 'the new file gets the id of the owner and its path');
is($h->psql('SELECT article_id FROM pipelines WHERE id = $1', legacy_id($A->{id}, 'pipelines/run2.json')),
    $old_noid, 'the new run points at the article the first rule imported');

done_testing;
