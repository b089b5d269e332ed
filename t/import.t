#!/usr/bin/env perl
# import-json: a legacy data folder with every kind of mess real files have.
# Each kind of bad file, alone, makes the import refuse with its path and
# reason and write nothing; the clean folder imports with exact counts and
# field values (the API's view of every article and run against its file);
# --dry-run writes nothing and says the same; a second run is a no-op;
# usage is rebuilt per month as the exact sum of the runs' costs.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use BP::Pin;    # before any Mojo module

use Encode qw(encode_utf8);
use POSIX ();
use Mojo::JSON qw(decode_json encode_json);
use Test::More;
use BP::Harness;
use BP::Fixtures qw(make_user auth random_uuid);
use BP::Legacy qw(spew legacy_id api_time snapshot money_units money_text);

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

my $DIM = 3;
my $h = BP::Harness->new(env => { EMBEDDING_DIM => $DIM });
my $t = $h->t;
my $owner = make_user($h, email => 'owner@example.com');
my $other = make_user($h, email => 'other@example.com');

# ------------------------------------------------------------ before

# the owner already has an article (its slug stays its own) and a run
# ended in January 2024 that usage already counts
$t->post_ok('/api/v1/articles', auth($owner), json => { title => 'Existing', slug => 'taken-slug' })->status_is(201);
my $existing = $t->tx->res->json;
$h->psql(q{INSERT INTO pipelines (user_id, status, total_cost, started_at, completed_at)
           VALUES ($1, 'completed', 2.5, '2024-01-15 10:00Z', '2024-01-15 10:05Z')}, $owner->{id});
$h->psql(q{INSERT INTO api_usage (user_id, month, articles_generated, total_cost)
           VALUES ($1, '2024-01-01', 1, 2.5)}, $owner->{id});
# another user's article, whose id a bad file will reuse
my $other_article = random_uuid();
$h->psql(q{INSERT INTO articles (id, user_id, title, slug) VALUES ($1, $2, 'Theirs', 'theirs')},
    $other_article, $other->{id});

# ------------------------------------------------------------ the folder

my $dir = $h->tmpdir . '/legacy';
my ($A1, $A2, $A3, $A4, $A6, $A7, $A8, $A9) = map { random_uuid() } 1 .. 8;
my ($P1, $P3, $P4, $P5, $P6) = map { random_uuid() } 1 .. 5;
my $long = 'a' x 500;
my $content = "# Hi\n\tTab \\ backslash \\N not null\r\nquote \" end 🎉 \x{1}";

# rel => [ source object, how it is written, slug it must get ]
my %article = (
    'articles/01-bom.json' => [ {
        id => $A1, title => 'Hello World', slug => 'hello-world', content_markdown => $content,
        content_html => '<p>Hi</p>', meta_description => 'Meta', primary_keyword => 'hello',
        seo_score => '85.5', status => 'published', wp_post_id => '4242',
        wp_url => 'https://blog.example/hello', created_at => '2024-01-02T03:04:05',
        updated_at => '2024-01-05T00:00:00Z' }, 'bom', 'hello-world' ],
    # no slug: made from the title, which 01 has: suffixed
    'articles/02-noslug.json' => [ {
        id => $A2, title => 'Hello, World!', created_at => '2024-01-03T00:00:00+02:00' },
        'plain', 'hello-world-2' ],
    # the same slug as 01, newer: suffixed after 02
    'articles/03-dupslug.json' => [ {
        id => $A3, title => 'Another hello', slug => 'hello-world', seo_score => 12, wp_post_id => 17,
        status => 'draft', created_at => '2024-01-04T12:00:00.987654Z' }, 'plain', 'hello-world-3' ],
    # the owner's article in the database keeps its slug
    'articles/04-existing.json' => [ {
        id => $A4, title => 'Clash with the database', slug => 'taken-slug', created_at => '2024-02-01' },
        'plain', 'taken-slug-2' ],
    # no id (made from the path), non-ASCII title, embedding, nulls
    'articles/05-noid.json' => [ {
        title => 'Café crème: 10 tips!', created_at => '2024-02-10T08:00:00-05:00', status => 'archived',
        seo_score => undef, wp_url => undef, embedding => [0.5, -1, 2], has_embedding => Mojo::JSON->true },
        'plain', 'caf-cr-me-10-tips' ],
    # pretty-printed with CRLF, upper-case id, bounds reached, no created_at
    'articles/06-pretty.json' => [ {
        id => uc $A6, title => 'T' x 500, slug => 'pretty', meta_description => 'm' x 320,
        primary_keyword => 'k' x 100, seo_score => 100, wp_post_id => '-9223372036854775808' },
        'pretty', 'pretty' ],
    # nothing ASCII in the title: the API's default slug
    'articles/07-unicode.json' => [ {
        id => $A7, title => '日本語のタイトル', content_html => "<p>\x{e9}\x{65e5}</p>",
        created_at => '2024-03-01T00:30:00+01:00', status => 'scheduled' }, 'plain', 'article' ],
    # a 500-character slug twice: the second is cut to make room for -2
    'articles/08-long-a.json' => [ {
        id => $A8, title => 'Long one', slug => $long, created_at => '2024-03-02T00:00:00Z' },
        'plain', $long ],
    'articles/08-long-b.json' => [ {
        id => $A9, title => 'Long two', slug => $long, created_at => '2024-03-03T00:00:00Z',
        wp_post_id => 5 }, 'plain', ('a' x 498) . '-2' ],
);
my $MTIME = 1685620800;    # 2023-06-01T12:00:00Z, the mtime of 06 (no created_at)

# rel => [ source, month it counts in (undef: running) ]
my %run = (
    'pipelines/p1.json' => [ {
        id => $P1, article_id => $A1, status => 'completed', total_cost => '0.1234', estimated_cost => '1',
        started_at => '2024-01-31T23:00:00', completed_at => '2024-01-31T23:30:00Z', error_message => undef },
        '2024-01' ],
    # no id; ended at 00:30+01:00 on March 1st, which is February in UTC
    'pipelines/p2.json' => [ {
        article_id => undef, status => 'failed', total_cost => 0.5, started_at => '2024-02-29T23:00:00Z',
        completed_at => '2024-03-01T00:30:00+01:00', error_message => 'timeout' }, '2024-02' ],
    # points at the owner's article in the database; the largest cost
    'pipelines/p3.json' => [ {
        id => $P3, article_id => $existing->{id}, status => 'completed', total_cost => 999999.9999,
        started_at => '2024-02-01T00:00:00Z', completed_at => '2024-02-01T01:00:00Z' }, '2024-02' ],
    # still running in the old system: kept running, counts nowhere
    'pipelines/p4.json' => [ {
        id => $P4, article_id => $A3, status => 'running', started_at => '2024-03-10T00:00:00Z' }, undef ],
    'pipelines/p5.json' => [ {
        id => $P5, article_id => uc $A2, status => 'completed', total_cost => '3',
        started_at => '2024-01-10', completed_at => '2024-01-10T05:00:00' }, '2024-01' ],
    # failed without a cost or a message
    'pipelines/p6.json' => [ {
        id => $P6, status => 'failed', started_at => '2024-03-05T00:00:00Z',
        completed_at => '2024-03-05T00:00:01Z' }, '2024-03' ],
);

sub bytes_of {
    my ($obj, $how) = @_;
    my $json = encode_json($obj);
    return "\xef\xbb\xbf$json" if $how eq 'bom';
    if ($how eq 'pretty') {
        my $p = Mojo::JSON::encode_json($obj);
        $p =~ s/,"/,\r\n  "/g;
        return "{\r\n  " . substr($p, 1, -1) . "\r\n}\r\n";
    }
    return $json;
}

sub build_folder {
    my $d = shift;
    spew("$d/$_", bytes_of(@{ $article{$_} }[0, 1])) for keys %article;
    spew("$d/$_", bytes_of($run{$_}[0], 'plain')) for keys %run;
    utime $MTIME, $MTIME, "$d/articles/06-pretty.json" or die;
    # not *.json: listed as skipped
    spew("$d/articles/README.txt", "exported by the old version\n");
    spew("$d/articles/.DS_Store", "\0\0\0\1Bud1");
    spew("$d/articles/notes.json~", '{"title":"editor backup"}');
    spew("$d/pipelines/p7.txt", 'not a run');
    # not *.json and not a file either: skipped as well
    mkdir "$d/articles/old-exports" or die;
}
build_folder($dir);

sub import_json {
    my @args = @_;
    return $h->run_bp('import-json', $dir, '--owner', 'Owner@Example.com', @args);
}

# ------------------------------------------------------------ bad files, one at a time

my @bad = (
    [ 'articles/bad.json', 'this is not json',            qr/not JSON/,                           'not JSON' ],
    [ 'articles/bad.json', '{"title":"cut',               qr/not JSON: truncated/,                'truncated' ],
    [ 'articles/bad.json', '',                            qr/not JSON: the file is empty/,        'empty file' ],
    [ 'articles/bad.json', '["title"]',                   qr/not a JSON object/,                  'not an object' ],
    [ 'articles/bad.json', "{\"title\":\"\xff\"}",        qr/not valid UTF-8/,                    'not UTF-8' ],
    [ 'articles/bad.json', '{"title":"a\u0000b"}',        qr/NUL character/,                      'NUL character' ],
    [ 'articles/bad.json', '{"slug":"no-title"}',         qr/title is missing/,                   'missing title' ],
    [ 'articles/bad.json', '{"title":42}',                qr/title must be a string/,             'title of the wrong type' ],
    [ 'articles/bad.json', '{"title":"x","wp_post_id":true}', qr/wp_post_id must be an integer/,  'wp_post_id of the wrong type' ],
    [ 'articles/bad.json', '{"title":"x","seo_score":100.5}', qr/seo_score must be a number from 0 to 100/, 'seo_score out of range' ],
    [ 'articles/bad.json', '{"title":"' . ('x' x 501) . '"}', qr/title must be 1 to 500 characters/, 'title too long' ],
    [ 'articles/bad.json', '{"title":"x","meta_description":"' . ('m' x 321) . '"}',
      qr/meta_description must be at most 320 characters/, 'meta_description too long' ],
    [ 'articles/bad.json', '{"title":"x","slug":"Not A Slug"}', qr/slug may contain only/,        'bad slug' ],
    [ 'articles/bad.json', '{"title":"x","status":"live"}', qr/status must be one of/,             'unknown status' ],
    [ 'articles/bad.json', '{"title":"x","wp_url":"javascript:alert(1)"}', qr/wp_url must be/,    'bad wp_url' ],
    [ 'articles/bad.json', '{"title":"x","embedding":[1,2]}', qr/embedding must have exactly 3/, 'embedding of the wrong size' ],
    [ 'articles/bad.json', '{"title":"x","created_at":"02/01/2024"}', qr/created_at must be an ISO 8601 timestamp/, 'bad timestamp' ],
    [ 'articles/bad.json', '{"title":"x","user_id":null}', qr/unknown field: user_id/,            'unknown field' ],
    [ 'articles/bad.json', qq({"id":"$A1","title":"again"}),
      qr/duplicate id \Q$A1\E \(also in \Q$dir\E\/articles\/01-bom\.json\)/, 'duplicate article id' ],
    [ 'articles/bad.json', qq({"id":"$other_article","title":"theirs"}), qr/another user's article/, "another user's article id" ],
    [ 'pipelines/z-bad.json', '{"article_id":"' . random_uuid() . '","status":"failed","started_at":"2024-01-01","completed_at":"2024-01-01"}',
      qr/article_id \S+ matches no article/, 'run pointing at no article' ],
    [ 'pipelines/z-bad.json', qq({"article_id":"$other_article","status":"failed","started_at":"2024-01-01","completed_at":"2024-01-01"}),
      qr/article_id \S+ matches no article/, "run pointing at another user's article" ],
    [ 'pipelines/z-bad.json', qq({"id":"$P1","status":"failed","started_at":"2024-01-01","completed_at":"2024-01-01"}),
      qr/duplicate id \Q$P1\E/, 'duplicate run id' ],
    [ 'pipelines/z-bad.json', '{"status":"completed","started_at":"2024-01-01","completed_at":"2024-01-01"}',
      qr/total_cost is required when status is completed/, 'completed run without a cost' ],
    [ 'pipelines/z-bad.json', '{"status":"failed","total_cost":"-1","started_at":"2024-01-01","completed_at":"2024-01-01"}',
      qr/total_cost must be a plain decimal/, 'negative cost' ],
    [ 'pipelines/z-bad.json', '{"status":"failed","total_cost":"0.12345","started_at":"2024-01-01","completed_at":"2024-01-01"}',
      qr/total_cost must be a plain decimal/, 'five decimals' ],
    [ 'pipelines/z-bad.json', '{"status":"done","started_at":"2024-01-01"}', qr/status must be one of/, 'unknown run status' ],
    [ 'pipelines/z-bad.json', '{"status":"failed","started_at":"2024-01-01"}', qr/completed_at is required/, 'ended run without an end' ],
);

my $before = snapshot($h);
for my $case (@bad) {
    my ($rel, $bytes, $reason, $name) = @$case;
    spew("$dir/$rel", $bytes);
    for my $dry (0, 1) {
        my ($st, $out, $err) = import_json($dry ? ('--dry-run') : ());
        my $label = $name . ($dry ? ' (dry run)' : '');
        is($st, 1, "$label: refused");
        like($err, qr/^\Q$dir\/$rel\E: .*$reason/m, "$label: path and reason")
            or diag($err);
        my @reported = $err =~ /^\Q$dir\E\/\S+: /mg;
        is(scalar @reported, 1, "$label: only that file is reported") or diag($err);
        like($err, qr/1 bad file: nothing imported/, "$label: says nothing was imported");
    }
    unlink "$dir/$rel" or die;
    is(snapshot($h), $before, "$name: nothing written");
}

# several bad files at once: every one is reported
spew("$dir/articles/bad1.json", '{');
spew("$dir/articles/bad2.json", '{"title":""}');
spew("$dir/pipelines/bad3.json", '{"status":"running"}');
{
    my ($st, $out, $err) = import_json();
    is($st, 1, 'three bad files: refused');
    like($err, qr/^\Q$dir\E\/articles\/bad1\.json: not JSON: truncated/m, 'first reported');
    like($err, qr/^\Q$dir\E\/articles\/bad2\.json: title must be 1 to 500/m, 'second reported');
    like($err, qr/^\Q$dir\E\/pipelines\/bad3\.json: started_at is missing/m, 'third reported');
    like($err, qr/3 bad files: nothing imported/, 'counted');
    unlink map { "$dir/$_" } qw(articles/bad1.json articles/bad2.json pipelines/bad3.json);
}
# *.json entries that are not regular files: a symbolic link (to a good
# article outside the folder: not followed), a FIFO (not waited on) and a
# directory; each is a bad file with its path and reason
{
    my $outside = $h->tmpdir . '/outside.json';
    spew($outside, '{"title":"read through a link"}');
    symlink($outside, "$dir/articles/link.json") or die "symlink: $!";
    POSIX::mkfifo("$dir/pipelines/fifo.json", 0600) or die "mkfifo: $!";
    mkdir "$dir/articles/sub.json" or die;
    for my $dry (0, 1) {
        my $label = $dry ? ' (dry run)' : '';
        my ($st, $out, $err) = import_json($dry ? ('--dry-run') : ());
        is($st, 1, "link, FIFO and directory: refused$label") or diag($err);
        like($err, qr/^\Q$dir\E\/articles\/link\.json: a symbolic link, not followed$/m, "the link reported$label");
        like($err, qr/^\Q$dir\E\/pipelines\/fifo\.json: not a regular file \(a FIFO\)$/m, "the FIFO reported$label");
        like($err, qr/^\Q$dir\E\/articles\/sub\.json: not a regular file \(a directory\)$/m, "the directory reported$label");
        like($err, qr/3 bad files: nothing imported/, "three bad files, nothing imported$label");
    }
    unlink "$dir/articles/link.json", "$dir/pipelines/fifo.json" or die;
    rmdir "$dir/articles/sub.json" or die;
}
is(snapshot($h), $before, 'after every refused import the database is as it was');

# ------------------------------------------------------------ usage arguments

{
    my ($st, $out, $err) = $h->run_bp('import-json', $dir);
    is($st, 2, 'no --owner: usage error');
    ($st, $out, $err) = $h->run_bp('import-json', $dir, '--owner', 'nobody@example.com');
    is($st, 1, 'unknown owner refused');
    like($err, qr/no user with the email nobody\@example\.com/, '... saying so');
    ($st, $out, $err) = $h->run_bp('import-json', $h->tmpdir . '/nothing-here', '--owner', 'owner@example.com');
    is($st, 1, 'a folder without articles/ refused');
    is(snapshot($h), $before, '... and nothing written');
    (my $unmigrated = $h->dsn) =~ s/dbname=blogposter/dbname=postgres/;
    ($st, $out, $err) = $h->run_bp({ DATABASE_URL => $unmigrated }, 'import-json', $dir, '--owner', 'owner@example.com');
    is($st, 1, 'a database without the schema refused');
    like($err, qr/run 'blogposter migrate' first/, '... saying what to do');
}

# ------------------------------------------------------------ dry run, then the import

my (%usage_want, %runs_new);
$usage_want{'2024-01'} = [1, money_units('2.5')];    # the run already in the database
for my $rel (keys %run) {
    my ($src, $month) = @{ $run{$rel} };
    next unless $month;
    my $u = $usage_want{$month} //= [0, 0];
    $u->[0]++ if $src->{status} eq 'completed';
    $u->[1] += money_units($src->{total_cost} // 0);
}

my ($st, $dry_out, $dry_err) = import_json('--dry-run');
is($st, 0, 'dry run of the clean folder passes') or diag($dry_err);
is(snapshot($h), $before, 'dry run writes nothing');
like($dry_out, qr/^articles: 9 read, 9 to import, 0 already present$/m, 'dry run: article counts');
like($dry_out, qr/^dry run: nothing written$/m, 'dry run says so');

my ($out, $err);
($st, $out, $err) = import_json();
is($st, 0, 'the clean folder imports') or diag($err);
like($err, qr/pass 2: writing 9 articles and 6 pipelines/, 'pass 2 announced');
like($out, qr/^articles: 9 read, 9 imported, 0 already present$/m, 'article counts');
like($out, qr/^pipelines: 6 read, 6 imported, 0 already present$/m, 'pipeline counts');
like($out, qr/^slugs made from titles: 3$/m, 'slugs made from titles');
like($out, qr/^renamed slugs: 4$/m, 'renamed slugs counted');
like($out, qr/^  articles\/02-noslug\.json: slug made from the title "hello-world" is taken: "hello-world-2"$/m, 'made slug suffixed, reported');
like($out, qr/^  articles\/03-dupslug\.json: slug "hello-world" is taken: "hello-world-3"$/m, 'duplicate slug suffixed, reported');
like($out, qr/^  articles\/04-existing\.json: slug "taken-slug" is taken: "taken-slug-2"$/m, "the database's slug kept, reported");
like($out, qr/^  articles\/08-long-b\.json: slug "a{500}" is taken: "a{498}-2"$/m, 'long slug cut for its suffix');
for my $s ('articles/.DS_Store (not a .json file)', 'articles/README.txt (not a .json file)',
           'articles/notes.json~ (not a .json file)', 'articles/old-exports (not a .json file)',
           'pipelines/p7.txt (not a .json file)') {
    like($out, qr/^skipped: \Q$s\E$/m, "skipped: $s");
}
like($out, qr/^usage rebuilt: 3 months$/m, 'three months rebuilt');
for my $m (sort keys %usage_want) {
    my ($n, $c) = @{ $usage_want{$m} };
    my $cost = money_text($c);
    like($out, qr/^  \Q$m\E: articles $n, cost \Q$cost\E \(was: /m, "usage line of $m");
}
like($out, qr/^  2024-01: articles 3, cost 5\.6234 \(was: articles 1, cost 2\.5000\)$/m, 'January: before and after');
like($out, qr/^committed$/m, 'committed');

# the dry run said the same
(my $dry_same = $dry_out) =~ s/ to import,/ imported,/g;
$dry_same =~ s/^dry run: nothing written$/committed/m;
is($dry_same, $out, 'the dry run printed the summary the import printed');

# ------------------------------------------------------------ what the API shows

is($h->psql('SELECT count(*) FROM articles WHERE user_id = $1', $owner->{id}), 10, 'the owner has 9 + 1 articles');
is($h->psql('SELECT count(*) FROM pipelines WHERE user_id = $1', $owner->{id}), 7, 'and 6 + 1 runs');
is($h->psql("SELECT slug FROM articles WHERE id = \$1", $existing->{id}), 'taken-slug', "the database's article kept its slug");

sub id_of {
    my ($rel, $src) = @_;
    return defined $src->{id} ? lc $src->{id} : legacy_id($owner->{id}, $rel);
}

sub num_or_undef { defined $_[0] ? 0 + $_[0] : undef }

for my $rel (sort keys %article) {
    my ($orig, $how, $slug) = @{ $article{$rel} };
    my $bytes = do { open my $fh, '<:raw', "$dir/$rel" or die; local $/; <$fh> };
    $bytes =~ s/^\xef\xbb\xbf//;
    my $src = decode_json($bytes);    # the file, as it is on disk
    my $id  = id_of($rel, $src);
    $t->get_ok("/api/v1/articles/$id", auth($owner))->status_is(200);
    my $a = $t->tx->res->json;
    my $created = defined $src->{created_at} ? api_time($src->{created_at}) : '2023-06-01T12:00:00Z';
    my $updated = defined $src->{updated_at} ? api_time($src->{updated_at}) : $created;
    my %want = (
        id               => $id,
        title            => $src->{title},
        slug             => $slug,
        content_markdown => $src->{content_markdown},
        content_html     => $src->{content_html},
        meta_description => $src->{meta_description},
        primary_keyword  => $src->{primary_keyword},
        seo_score        => num_or_undef($src->{seo_score}),
        status           => $src->{status} // 'draft',
        wp_post_id       => num_or_undef($src->{wp_post_id}),
        wp_url           => $src->{wp_url},
        has_embedding    => defined $src->{embedding} ? 1 : 0,
        created_at       => $created,
        updated_at       => $updated,
    );
    my %got = %$a;
    $got{has_embedding} = $got{has_embedding} ? 1 : 0;
    $got{$_} = num_or_undef($got{$_}) for qw(seo_score wp_post_id);
    is_deeply(\%got, \%want, "$rel: the API shows the file's values");
    if ($src->{embedding}) {
        my $e = $h->psql('SELECT embedding::text FROM articles WHERE id = $1', $id);
        $e =~ tr/[]{}//d;
        is_deeply([ map { 0 + $_ } split /,/, $e ], $src->{embedding}, "$rel: embedding stored");
    }
}
is(legacy_id($owner->{id}, 'articles/05-noid.json'),
    $h->psql(q{SELECT md5($1::uuid::text || ':' || 'articles/05-noid.json')::uuid}, $owner->{id}),
    "a file without id gets md5(owner_id || ':' || its path)::uuid");

for my $rel (sort keys %run) {
    my ($src, $month) = @{ $run{$rel} };
    my $id = id_of($rel, $src);
    $t->get_ok("/api/v1/pipelines/$id", auth($owner))->status_is(200);
    my $p = $t->tx->res->json;
    delete $p->{$_} for grep { !/^(id|article_id|status|estimated_cost|total_cost|started_at|completed_at|error_message)$/ } keys %$p;
    is_deeply($p, {
        id             => $id,
        article_id     => defined $src->{article_id} ? lc $src->{article_id} : undef,
        status         => $src->{status},
        estimated_cost => money_text(money_units($src->{estimated_cost} // 0)),
        total_cost     => money_text(money_units($src->{total_cost} // 0)),
        started_at     => api_time($src->{started_at}),
        completed_at   => defined $src->{completed_at} ? api_time($src->{completed_at}) : undef,
        error_message  => $src->{error_message},
    }, "$rel: the API shows the file's values");
}

# usage: every month an imported run ended in, exactly the sum of its runs
my %usage_got = map { $_->[0] => [ $_->[1], money_units($_->[2]) ] }
    $h->psql(q{SELECT to_char(month, 'YYYY-MM'), articles_generated, total_cost::text FROM api_usage
               WHERE user_id = $1}, $owner->{id});
is_deeply(\%usage_got, \%usage_want, 'api_usage per month is the exact sum of the runs');
is($h->psql(q{SELECT count(*) FROM api_usage u
                CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE p.status = 'completed') AS n,
                                           coalesce(sum(p.total_cost), 0) AS cost
                                      FROM pipelines p
                                     WHERE p.user_id = u.user_id AND p.status <> 'running'
                                       AND date_trunc('month', p.completed_at AT TIME ZONE 'UTC')::date = u.month) r
               WHERE u.user_id = $1 AND (u.articles_generated <> r.n OR u.total_cost <> r.cost)}, $owner->{id}),
    0, 'and agrees with the runs in the database');
is($h->psql('SELECT count(*) FROM articles WHERE user_id = $1', $other->{id}), 1, "the other user's data is untouched");

# ------------------------------------------------------------ again: nothing

my $after = snapshot($h);
for my $dry (0, 1) {
    my ($st2, $out2, $err2) = import_json($dry ? ('--dry-run') : ());
    my $label = $dry ? 'second dry run' : 'second run';
    is($st2, 0, "$label succeeds") or diag($err2);
    like($out2, qr/^articles: 9 read, 0 (imported|to import), 9 already present$/m, "$label: no article imported");
    like($out2, qr/^pipelines: 6 read, 0 (imported|to import), 6 already present$/m, "$label: no run imported");
    like($out2, qr/^renamed slugs: 0$/m, "$label: nothing renamed");
    like($out2, qr/^usage rebuilt: 0 months$/m, "$label: no usage touched");
    is(snapshot($h), $after, "$label changes nothing (not even a row version)");
}

# a new file beside the imported ones: only it is imported
spew("$dir/articles/09-new.json", encode_json({ title => 'Hello World', created_at => '2024-04-01T00:00:00Z' }));
($st, $out, $err) = import_json();
is($st, 0, 'a later file imports') or diag($err);
like($out, qr/^articles: 10 read, 1 imported, 9 already present$/m, 'only the new one');
like($out, qr/^  articles\/09-new\.json: slug made from the title "hello-world" is taken: "hello-world-4"$/m,
    'its slug skips those imported before');

done_testing;
