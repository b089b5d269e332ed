#!/usr/bin/env perl
# GET /api/v1/articles: newest first, keyset pages without duplicates or
# gaps (ties on created_at included, and while articles are being added),
# the status filter, limit and cursor checks, and the index the query uses.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);
use POSIX ();
use Time::HiRes qw(sleep time);
use BP::Harness;
use BP::Fixtures qw(make_user auth);
use BP::Util qw(error_is);

my $h = BP::Harness->new(workers => 3);
my $t = $h->t;
my $u = make_user($h);
my $other = make_user($h);

# 95 articles: created_at spread over the past with ties (groups of five
# share a timestamp, so the id decides among them), statuses in turn.
$h->psql(q{
    INSERT INTO articles (user_id, title, slug, status, content_markdown, content_html, created_at)
    SELECT $1, 'Article ' || g, 'article-' || g,
           (ARRAY['draft','scheduled','published','archived'])[1 + g % 4],
           'md ' || g, '<p>' || g || '</p>',
           timestamptz '2026-01-01 00:00:00.123456+00' + (g / 5) * interval '1 hour 1.000001 second'
      FROM generate_series(1, 95) AS g}, $u->{id});
$h->psql(q{INSERT INTO articles (user_id, title, slug, created_at)
           SELECT $1, 'Other ' || g, 'o-' || g, now() - g * interval '1 minute' FROM generate_series(1, 30) g},
         $other->{id});
$h->psql('ANALYZE articles');

# The order the API must follow, from SQL.
sub expected {
    my ($status) = @_;
    my @rows = $h->psql(q{SELECT id FROM articles WHERE user_id = $1 AND ($2::text IS NULL OR status = $2)
                           ORDER BY created_at DESC, id DESC}, $u->{id}, $status);
    return [ map { $_->[0] } @rows ];
}

# Follows next_cursor to the end; returns the ids in order and the pages.
sub walk {
    my ($query, $limit, $between) = @_;
    my (@ids, $cursor, $pages);
    while (1) {
        my $url = "/api/v1/articles?limit=$limit" . ($query ? "&$query" : '') . ($cursor ? "&cursor=$cursor" : '');
        $t->get_ok($url, auth($u))->status_is(200);
        my $j = $t->tx->res->json;
        $pages++;
        push @ids, map { $_->{id} } @{ $j->{items} };
        ok(@{ $j->{items} } <= $limit, "page $pages holds at most $limit items");
        $cursor = $j->{next_cursor};
        last unless defined $cursor;
        like($cursor, qr/^[A-Za-z0-9_-]+$/, 'the cursor is URL-safe');
        $between->() if $between;
        die 'runaway pagination' if $pages > 200;
    }
    return (\@ids, $pages);
}

# ---------------------------------------------------------------- pages

my ($ids, $pages) = walk('', 10);
is($pages, 10, '95 articles in pages of 10: 10 pages');
is_deeply($ids, expected(), 'every article once, newest first, ties by id');
my %seen;
is(scalar(grep { !$seen{$_}++ } @$ids), 95, 'no duplicates');

($ids, $pages) = walk('', 19);
is($pages, 5, 'pages of 19: 5 pages, the last one full');
is_deeply($ids, expected(), '... in the same order');

($ids) = walk('', 1);
is_deeply($ids, expected(), 'pages of 1 step through the ties one by one');

($ids, $pages) = walk('', 100);
is($pages, 1, 'pages of 100: one page');
$t->get_ok('/api/v1/articles?limit=100', auth($u))->json_is('/next_cursor' => undef, 'no next page: next_cursor null');

$t->get_ok('/api/v1/articles', auth($u))->status_is(200);
is(scalar @{ $t->tx->res->json->{items} }, 20, 'the default limit is 20');

# Items leave out the contents.
my $item = $t->tx->res->json->{items}[0];
is_deeply([ sort keys %$item ],
          [ sort qw(id title slug meta_description primary_keyword seo_score status wp_post_id wp_url
                    has_embedding created_at updated_at) ],
          'list items have the summary fields, without content_markdown and content_html');
is($item->{created_at}, '2026-01-01T19:00:19Z', 'created_at: RFC 3339, UTC, no fraction');

# ---------------------------------------------------------------- old articles

# Articles dated long ago (the import takes any year from 1 to 9999) are
# reached like the others: a page that ends on one still has a next one.
{
    my $old = make_user($h);
    $h->psql(q{INSERT INTO articles (user_id, title, slug, created_at)
               SELECT $1, 'Old ' || d, 'old-' || g, d::timestamptz
                 FROM unnest(ARRAY['2026-01-01 00:00:00+00', '1850-06-01 12:00:00.5+00', '1849-12-31 23:59:59+00',
                                   '0850-03-04 05:06:07.000008+00', '0001-01-01 00:00:00+00']) WITH ORDINALITY AS x(d, g)},
             $old->{id});
    my (@got, $cursor);
    for my $n (1 .. 6) {
        $t->get_ok('/api/v1/articles?limit=1' . ($cursor ? "&cursor=$cursor" : ''), auth($old))->status_is(200);
        push @got, map { $_->{created_at} } @{ $t->tx->res->json->{items} };
        $cursor = $t->tx->res->json->{next_cursor} // last;
    }
    is_deeply(\@got, [ '2026-01-01T00:00:00Z', '1850-06-01T12:00:00Z', '1849-12-31T23:59:59Z',
                       '0850-03-04T05:06:07Z', '0001-01-01T00:00:00Z' ],
              'pages of 1 reach articles of the years 1850, 1849, 850 and 1');
}

# ---------------------------------------------------------------- the database's own settings

# A server, database or role whose TimeZone and DateStyle are not UTC and
# ISO changes nothing: times are read in the worker's own session settings.
{
    my $db = $h->psql('SELECT current_database()');
    require DBI;
    $h->psql(qq{ALTER DATABASE "$db" SET timezone = 'America/St_Johns'});
    $h->psql(qq{ALTER DATABASE "$db" SET datestyle = 'SQL, DMY'});
    $h->stop_bp;
    $h->start_bp(wait => 'ok');
    my $fresh = DBI->connect($h->dbi_dsn, 'postgres', '', { RaiseError => 1, AutoCommit => 1 });
    my ($shown) = $fresh->selectrow_array('SELECT created_at::text FROM articles WHERE id = ?', undef, expected()->[0]);
    $fresh->disconnect;
    like($shown, qr{^\d\d/\d\d/\d{4} }, "the database's sessions print times otherwise ($shown)");
    $t->get_ok('/api/v1/articles?limit=1', auth($u))->status_is(200)
      ->json_is('/items/0/created_at', '2026-01-01T19:00:19Z', 'created_at still in RFC 3339, UTC');
    my ($tz_ids) = walk('', 7);
    is_deeply($tz_ids, expected(), 'pages of 7 still step through every article, ties included');
    $h->psql(qq{ALTER DATABASE "$db" RESET timezone});
    $h->psql(qq{ALTER DATABASE "$db" RESET datestyle});
    $h->stop_bp;
    $h->start_bp(wait => 'ok');
}

# ---------------------------------------------------------------- status

for my $st (qw(draft scheduled published archived)) {
    my ($sids) = walk("status=$st", 7);
    is_deeply($sids, expected($st), "status=$st: exactly those, in order, across pages");
}
# ---------------------------------------------------------------- order

($ids, $pages) = walk('order=oldest', 10);
is_deeply($ids, [ reverse @{ expected() } ], 'order=oldest: every article once, oldest first, ties by id');
($ids) = walk('order=oldest', 1);
is_deeply($ids, [ reverse @{ expected() } ], 'order=oldest in pages of 1: through the ties one by one');
($ids) = walk('order=newest', 13);
is_deeply($ids, expected(), 'order=newest is the default order');
for my $st (qw(draft published)) {
    my ($sids) = walk("status=$st&order=oldest", 7);
    is_deeply($sids, [ reverse @{ expected($st) } ], "status=$st&order=oldest: those, oldest first");
}
for my $bad ('sideways', 'OLDEST', '') {
    $t->get_ok("/api/v1/articles?order=$bad", auth($u));
    error_is($t, 400, 'validation_failed', 'order', "order=$bad: 400");
}
$t->get_ok('/api/v1/articles?order=oldest&order=newest', auth($u));
error_is($t, 400, 'validation_failed', 'order', 'a repeated order: 400');

# ---------------------------------------------------------------- search by title

my $s = make_user($h);
my %made;
for my $title ('Keyword research basics', 'KEYWORD tools compared', 'Ten tips', '100% organic growth',
               'Under_score titles', 'Back\\slash', 'Café keywords') {
    $t->post_ok('/api/v1/articles', auth($s), json => { title => $title, status => $title =~ /^Ten/ ? 'published' : 'draft' })
      ->status_is(201);
    $made{$title} = $t->tx->res->json->{id};
}
$t->post_ok('/api/v1/articles', auth($u), json => { title => 'Keyword of another user' })->status_is(201);
sub search {
    my ($query) = @_;
    $t->get_ok("/api/v1/articles?$query", auth($s))->status_is(200);
    return [ sort map { $_->{title} } @{ $t->tx->res->json->{items} } ];
}
is_deeply(search('q=keyword'), [ 'Café keywords', 'KEYWORD tools compared', 'Keyword research basics' ],
    'q: titles containing it, letter case ignored, only the caller\'s');
is_deeply(search('q=%25'), ['100% organic growth'], '% is an ordinary character');
is_deeply(search('q=_'), ['Under_score titles'], '_ is an ordinary character');
is_deeply(search('q=%5C'), ['Back\\slash'], 'so is a backslash');
is_deeply(search('q=caf%C3%A9'), ['Café keywords'], 'UTF-8');
is_deeply(search('q=ten&status=published'), ['Ten tips'], 'with a status');
is_deeply(search('q=ten&status=draft'), [], 'with a status that has none');
is_deeply(search('q=nothing%20like%20it'), [], 'no match: an empty page');
is(scalar @{ search('q=') }, 7, 'an empty q filters nothing');
my ($walked) = ((sub { my @ids; my $c; while (1) {
    $t->get_ok('/api/v1/articles?q=e&limit=2' . ($c ? "&cursor=$c" : ''), auth($s))->status_is(200);
    push @ids, map { $_->{id} } @{ $t->tx->res->json->{items} };
    $c = $t->tx->res->json->{next_cursor} or last } return \@ids })->());
my @want = map { $_->[0] } $h->psql(q{SELECT id FROM articles WHERE user_id = $1 AND title ILIKE '%e%' ORDER BY created_at DESC, id DESC}, $s->{id});
is_deeply($walked, \@want, 'q across pages of 2, newest first');
$t->get_ok('/api/v1/articles?q=e&order=oldest&limit=100', auth($s))->status_is(200);
is_deeply([ map { $_->{id} } @{ $t->tx->res->json->{items} } ], [ reverse @want ], 'and oldest first');
# from three characters on, the search goes through the title index
# (trigrams hashed with their owner): the same answers, across pages,
# after a rename, and never another user's titles
my @series = map {
    $t->post_ok('/api/v1/articles', auth($s), json => { title => "Series part $_ of five" })->status_is(201);
    $t->tx->res->json->{id}
} 1 .. 5;
$t->post_ok('/api/v1/articles', auth($u), json => { title => 'Series part 9 of five' })->status_is(201);
my ($keyed) = ((sub { my @ids; my $c; while (1) {
    $t->get_ok('/api/v1/articles?q=PART%20&limit=2' . ($c ? "&cursor=$c" : ''), auth($s))->status_is(200);
    push @ids, map { $_->{id} } @{ $t->tx->res->json->{items} };
    $c = $t->tx->res->json->{next_cursor} or last } return \@ids })->());
is_deeply($keyed, [ reverse @series ], 'q=PART across pages of 2: the five, newest first, not the other user\'s');
$t->patch_ok("/api/v1/articles/$series[2]", auth($s), json => { title => 'Renamed chapter' })->status_is(200);
is_deeply(search('q=part%203'), [], 'a renamed title is no longer found under its old words');
is_deeply(search('q=RENAMED%20chap'), ['Renamed chapter'], 'and is found under its new ones');
is_deeply(search('q=of%20five'), [ map { "Series part $_ of five" } 1, 2, 4, 5 ], 'a q that ends a title');
is_deeply(search('q=' . ('Series part 1 of five' x 2)), [], 'a q longer than any title');
$t->delete_ok("/api/v1/articles/$_", auth($s))->status_is(204) for @series;
$t->get_ok('/api/v1/articles?q=' . ('x' x 201), auth($s));
error_is($t, 400, 'validation_failed', 'q', 'q over 200 characters: 400');
$t->get_ok('/api/v1/articles?q=' . ('é' x 200), auth($s))->status_is(200, '200 characters (not bytes) are fine');

$t->get_ok('/api/v1/articles?status=bogus', auth($u));
error_is($t, 400, 'validation_failed', 'status');
$t->json_is('/error/message', 'status must be one of: draft, scheduled, published, archived',
    'the message names the statuses');
$t->get_ok('/api/v1/articles?status=', auth($u));
error_is($t, 400, 'validation_failed', 'status');
$t->get_ok('/api/v1/articles?status=draft&status=published', auth($u));
error_is($t, 400, 'validation_failed', 'status', 'status given twice');

# ---------------------------------------------------------------- limit and cursor checks

for my $bad ('0', '101', '-1', 'abc', '1.5', '', '10x', '99999999999999999999') {
    $t->get_ok("/api/v1/articles?limit=$bad", auth($u));
    error_is($t, 400, 'validation_failed', 'limit', "limit=$bad");
}
$t->get_ok('/api/v1/articles?limit=1', auth($u));
my $good = $t->tx->res->json->{next_cursor};
for my $bad ('abc', '!!!!', '', 'A' x 31, 'A' x 33, "${good}A", substr($good, 1), '%00' . substr($good, 3),
             ('A' x 11) . '+' . ('A' x 20), $good =~ tr/A-Za-z/N-ZA-Mn-za-m/r . '=') {
    $t->get_ok("/api/v1/articles?cursor=$bad", auth($u));
    error_is($t, 400, 'validation_failed', 'cursor', "malformed cursor '$bad'");
}
# A well-formed cursor whose timestamp is out of range.
{
    my $raw = pack('q>', 9_000_000_000_000_000_000) . ("\0" x 16);
    (my $c = Mojo::Util::b64_encode($raw, '')) =~ tr{+/}{-_};
    $c =~ s/=+$//;
    $t->get_ok("/api/v1/articles?cursor=$c", auth($u));
    error_is($t, 400, 'validation_failed', 'cursor', 'a cursor with a timestamp out of range');
}

# Another user's list is another list.
$t->get_ok('/api/v1/articles?limit=100', auth($other))->status_is(200);
is(scalar @{ $t->tx->res->json->{items} }, 30, "the other user sees their 30 only");
$t->get_ok("/api/v1/articles?limit=100&cursor=$good", auth($other))->status_is(200);
ok(!(grep { my $i = $_->{id}; grep { $_ eq $i } @{ expected() } } @{ $t->tx->res->json->{items} }),
   "a cursor from one user's list shows another user nothing of the first's");

# ---------------------------------------------------------------- concurrent inserts

# While one client pages through, another adds articles (newer than all):
# the pages still hold every article that existed, once, and no new one
# after the first page.
{
    my $before = expected();
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        my $ua = $h->new_ua;
        for my $i (1 .. 40) {
            $ua->post($h->url('/api/v1/articles'), auth($u), json => { title => "Concurrent $i" });
            sleep 0.01;
        }
        POSIX::_exit(0);
    }
    my ($cids) = walk('', 5, sub { sleep 0.02 });
    waitpid $pid, 0;
    my %before = map { $_ => 1 } @$before;
    my @old = grep { $before{$_} } @$cids;
    is_deeply(\@old, $before, 'paging during inserts: every old article once, in order, none missing');
    my %dup;
    is(scalar(grep { $dup{$_}++ } @$cids), 0, 'no duplicates');
    is($h->psql(q{SELECT count(*) FROM articles WHERE user_id = $1 AND title LIKE 'Concurrent %'}, $u->{id}), 40,
       'the concurrent inserts all happened');
    my ($all) = walk('', 13);
    is_deeply($all, expected(), 'afterwards: all 135, in order');
}

# ---------------------------------------------------------------- the index

# The list is one index scan on (user_id, created_at DESC, id DESC), or on
# the status index with ?status=: counted by PostgreSQL's statistics. A
# backend reports its counts when it exits (while idle it may hold them
# for 10 s), so blogposter is stopped around the requests counted.
sub counters {
    my %c = map { $_->[0] => $_->[1] }
        $h->psql(q{SELECT indexrelname, idx_scan FROM pg_stat_user_indexes WHERE relname = 'articles'});
    $c{seq} = $h->psql(q{SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'articles'});
    return \%c;
}
sub quiesce {
    $h->stop_bp;
    $h->stop_pooler;        # its server connections too (start_bp starts it)
    $h->dbh->disconnect;    # this session's own counts too
    $h->wait_until(sub { !$h->psql(q{SELECT count(*) FROM pg_stat_activity
                                      WHERE datname = 'blogposter' AND pid <> pg_backend_pid()
                                        AND backend_type = 'client backend'}) }, 20, 'idle database');
    sleep 0.5;
}
{
    # A table of realistic size (on a handful of rows any plan is cheap).
    my @others = map { make_user($h) } 1 .. 20;
    $h->psql(q{INSERT INTO articles (user_id, title, slug, status, created_at)
               SELECT u, 'Filler ' || g, 'filler-' || g, 'draft', now() - g * interval '1 second'
                 FROM unnest($1::uuid[]) AS u, generate_series(1, 500) AS g}, [ map { $_->{id} } @others ]);
    $h->psql('ANALYZE articles');
    quiesce();
    my $c0 = counters();
    $h->start_bp(wait => 'ok');
    quiesce();
    my $c1 = counters();
    is_deeply($c1, $c0, 'starting blogposter scans no article');
    $h->start_bp(wait => 'ok');
    $t->get_ok('/api/v1/articles?limit=3', auth($u))->status_is(200) for 1 .. 6;
    $t->get_ok("/api/v1/articles?limit=3&cursor=$good", auth($u))->status_is(200) for 1 .. 6;
    $t->get_ok('/api/v1/articles?limit=3&status=draft', auth($u))->status_is(200) for 1 .. 4;
    $t->get_ok("/api/v1/articles?limit=3&status=draft&cursor=$good", auth($u))->status_is(200) for 1 .. 4;
    quiesce();
    my $c2 = counters();
    is($c2->{articles_user_created_idx} - $c1->{articles_user_created_idx}, 12,
       '12 lists (with and without a cursor): 12 scans of articles_user_created_idx');
    is($c2->{articles_user_status_created_idx} - $c1->{articles_user_status_created_idx}, 8,
       '8 lists with ?status=: 8 scans of articles_user_status_created_idx');
    is($c2->{seq} - $c1->{seq}, 0, 'and no sequential scan of articles');
    my %other = map { $_ => $c2->{$_} - $c1->{$_} }
        grep { !/^(seq|articles_user_created_idx|articles_user_status_created_idx)$/ } keys %$c2;
    is_deeply([ grep { $other{$_} } sort keys %other ], [], 'and no other index of articles');
    $h->start_bp(wait => 'ok');
}

done_testing;
