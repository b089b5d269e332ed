#!/usr/bin/env perl
# GET /api/v1/me/export: the caller's articles (with embeddings), pipeline
# runs and usage months as one tar archive in the layout import-json reads.
# The archive of a user with thousands of articles (more than one page of
# each kind, rows with equal times) re-imports into another installation
# with every field equal: each article and run as the API shows it, the
# embeddings, the usage history. Only the caller's data is in it; without
# a credential it is a 401.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use BP::Pin;    # before any Mojo module

use Archive::Tar;
use File::Path qw(make_path);
use IO::Uncompress::Gunzip ();
use Mojo::JSON qw(decode_json);
use Test::More;
use BP::Harness;
use BP::Fixtures qw(make_user auth);

my $DIM = 3;
my $N   = 2600;    # bulk articles: more than 5 pages of 500
my $h   = BP::Harness->new(env => { EMBEDDING_DIM => $DIM });
my $t   = $h->t;
my $u   = make_user($h, email => 'exporter@example.com');
my $v   = make_user($h, email => 'someone-else@example.com');

$t->get_ok('/api/v1/me/export')->status_is(401);

# ------------------------------------------------------------ the data

$t->post_ok('/api/v1/articles', auth($u), json => {
    title => 'Full article ✓', slug => 'full', content_markdown => "# Hi\n\ttab \\ \"q\" \x{1}",
    content_html => '<p>Hi</p>', meta_description => 'Meta', primary_keyword => 'kw', seo_score => 85.5,
    status => 'published', wp_post_id => 4242, wp_url => 'https://blog.example/full',
    embedding => [ 0.1, -2.5, 3.25e-5 ] })->status_is(201);
my $full = $t->tx->res->json('/id');
$t->post_ok('/api/v1/articles', auth($u), json => { title => 'Bare' })->status_is(201);
my $bare = $t->tx->res->json('/id');
$t->post_ok('/api/v1/articles', auth($v), json => { title => 'Not yours' })->status_is(201);
my $theirs = $t->tx->res->json('/id');

# Runs through the API: completed (linked), failed, running.
my @runs;
for my $end ({ status => 'completed', total_cost => '1.2345', article_id => $full },
             { status => 'failed', error_message => 'LLM timeout', total_cost => '0.0100' }, undef) {
    $t->post_ok('/api/v1/pipelines', auth($u), json => { estimated_cost => '0.5' })->status_is(201);
    my $id = $t->tx->res->json('/id');
    $t->patch_ok("/api/v1/pipelines/$id", auth($u), json => $end)->status_is(200) if $end;
    push @runs, $id;
}
# Thousands more, straight in SQL: all with one created_at (the pages
# must break ties by id), some runs in past months, usage to match.
$h->psql(q{INSERT INTO articles (user_id, title, slug, content_markdown, created_at, updated_at)
           SELECT $1, 'Bulk ' || n, 'bulk-' || n, repeat('text ', n % 50), '2025-03-01 10:00Z', '2025-03-02 11:00Z'
             FROM generate_series(1, $2::int) n}, $u->{id}, $N);
$h->psql(q{INSERT INTO pipelines (user_id, status, estimated_cost, total_cost, started_at, completed_at)
           SELECT $1, 'completed', 0.1, 0.0001 * n, '2025-01-01 00:00Z'::timestamptz + n * interval '1 hour',
                  '2025-01-01 00:30Z'::timestamptz + n * interval '1 hour'
             FROM generate_series(1, 1200) n}, $u->{id});
$h->psql(q{INSERT INTO api_usage (user_id, month, articles_generated, total_cost)
           SELECT $1::uuid, date_trunc('month', completed_at)::date, count(*), sum(total_cost)
             FROM pipelines WHERE user_id = $1 AND completed_at < '2026-01-01' GROUP BY 1, 2}, $u->{id});

# ------------------------------------------------------------ the export

$t->get_ok('/api/v1/me/export', auth($u))->status_is(200)
  ->content_type_is('application/x-tar')
  ->header_like('Content-Disposition' => qr/^attachment; filename="blogposter-export-\d{4}-\d\d-\d\d\.tar"$/)
  ->header_is('Cache-Control' => 'no-store');
my $body = $t->tx->res->body;
ok(length($body) % 512 == 0 && substr($body, -1024) eq "\0" x 1024, 'a whole tar archive, with its end blocks');

my $tar = Archive::Tar->new;
open my $fh, '<', \$body or die;
ok($tar->read($fh), 'Archive::Tar reads it') or diag(Archive::Tar->error);
my %files = map { $_->name => $_ } grep { $_->is_file } $tar->get_files;
my @art = grep { m{^blogposter-export/articles/[0-9a-f-]{36}\.json$} } keys %files;
my @pip = grep { m{^blogposter-export/pipelines/[0-9a-f-]{36}\.json$} } keys %files;
is(scalar @art, $N + 2, 'one file per article of the caller');
is(scalar @pip, 1203, 'one file per run');
ok(!exists $files{"blogposter-export/articles/$theirs.json"}, "another user's article is not in it");
my $usage = decode_json($files{'blogposter-export/usage.json'}->get_content);
is(scalar @{ $usage->{items} }, 3, 'usage.json: every usage month');

my $fa = decode_json($files{"blogposter-export/articles/$full.json"}->get_content);
is_deeply($fa->{embedding}, [ 0.1, -2.5, 3.25e-5 ], 'the embedding is in the article file');
like($fa->{created_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'times in UTC to the microsecond');

# (system tar too, when there is one)
SKIP: {
    my $tarbin = (grep { -x "$_/tar" } split /:/, $ENV{PATH})[0] or skip 'no tar', 1;
    my $x = $h->tmpdir . '/x';
    make_path($x);
    open my $o, '>:raw', "$x/e.tar" or die;
    print $o $body;
    close $o;
    is(system("$tarbin/tar", '-xf', "$x/e.tar", '-C', $x), 0, 'tar -xf extracts it');
}

# ------------------------------------------------------------ another installation

my $dir = $h->tmpdir . '/export';
make_path($dir);
$tar->setcwd($dir);
$tar->extract or die Archive::Tar->error;
my $h2 = BP::Harness->new(env => { EMBEDDING_DIM => $DIM });
my $u2 = make_user($h2, email => 'exporter@example.com');
my ($st, $out, $err) = $h2->run_bp('import-json', "$dir/blogposter-export", '--owner', 'exporter@example.com');
is($st, 0, 'import-json takes the export') or diag("$out$err");
like($out, qr/articles: \Q${\($N + 2)}\E read/, 'every article read');

my $t2 = $h2->t;
for my $id ($full, $bare) {
    my $a1 = $t->get_ok("/api/v1/articles/$id", auth($u))->tx->res->json;
    my $a2 = $t2->get_ok("/api/v1/articles/$id", auth($u2))->status_is(200)->tx->res->json;
    is_deeply($a2, $a1, "article $id: every field as it was");
}
my $cols = q{id, title, slug, content_markdown, content_html, meta_description, primary_keyword,
             seo_score, status, wp_post_id, wp_url, embedding::text, created_at, updated_at};
my $rows = sub { [ map { join "\x1f", map { $_ // '<null>' } @$_ } $_[0]->psql("SELECT $cols FROM articles WHERE user_id = \$1 ORDER BY id", $_[1]) ] };
is_deeply($rows->($h2, $u2->{id}), $rows->($h, $u->{id}), 'every article row equal, to the microsecond, embeddings included');
my $pcols = q{id, article_id, status, estimated_cost, total_cost, started_at, completed_at, error_message};
my $prows = sub { [ map { join "\x1f", map { $_ // '<null>' } @$_ } $_[0]->psql("SELECT $pcols FROM pipelines WHERE user_id = \$1 ORDER BY id", $_[1]) ] };
is_deeply($prows->($h2, $u2->{id}), $prows->($h, $u->{id}), 'every run equal');
for my $id (@runs) {
    is_deeply($t2->get_ok("/api/v1/pipelines/$id", auth($u2))->tx->res->json,
              $t->get_ok("/api/v1/pipelines/$id", auth($u))->tx->res->json, "run $id as the API shows it");
}
is_deeply($t2->get_ok('/api/v1/usage/history?months=120', auth($u2))->tx->res->json,
          $t->get_ok('/api/v1/usage/history?months=120', auth($u))->tx->res->json, 'the usage history is the same');

# The other user's export has only theirs.
$t->get_ok('/api/v1/me/export', auth($v))->status_is(200);
my $tv = Archive::Tar->new;
open my $fv, '<', \($t->tx->res->body) or die;
$tv->read($fv);
is_deeply([ sort grep { m{/articles/.} } $tv->list_files ], [ "blogposter-export/articles/$theirs.json" ],
          'a user exports only their own');

done_testing;
