#!/usr/bin/perl
# Backups with pgBackRest (docs/backups.md): WAL archived continuously into
# an encrypted repository, a full backup, writes through the API (set A), a
# point in time T, more writes (set B). The drill (tools/restore-drill)
# restores T into a new data directory and passes its checks; started there,
# blogposter serves every write of A once and none of B through nginx. A
# restore of the latest state has A and B. A backup taken under a write load
# does not stop the writes (the rates are reported). The drill fails once
# the repository is damaged.
use strict;
use warnings;

use Test::More;
use lib 't/lib';
use BP::Harness;
use BP::Fixtures qw(make_user auth);
use BP::Stack ();
use File::Find ();
use File::Path qw(make_path);
use POSIX ();
use Time::HiRes qw(time sleep);

plan skip_all => 'pgbackrest is not installed (tools/dev deps installs it)'
    unless grep { -x "$_/pgbackrest" } split /:/, $ENV{PATH} // '';

my $h    = BP::Harness->new(workers => 2);
my $t    = $h->t;
my $tmp  = $h->tmpdir;
my $pgbr = "$tmp/pgbr";
my $conf = "$pgbr/pgbackrest.conf";
my $repo = "$pgbr/repo";

# ------------------------------------------------------------ set-up

make_path("$repo", "$pgbr/log", "$pgbr/lock");
my $cipher = join '', map { (0 .. 9, 'a' .. 'f')[ int rand 16 ] } 1 .. 64;
open my $fh, '>', $conf or die "$conf: $!";
print $fh <<"EOF";
[global]
repo1-path=$repo
repo1-retention-full=2
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=$cipher
log-path=$pgbr/log
lock-path=$pgbr/lock
log-level-console=warn
log-level-file=info
start-fast=y
compress-type=lz4
archive-timeout=30

[blogposter]
pg1-path=${\ $h->pg_data}
pg1-socket-path=${\ $h->pg_socket_dir}
pg1-port=${\ $h->pg_port}
EOF
close $fh;
chmod 0640, $conf;
BP::Stack::chown_pg($pgbr, $conf, "$repo", "$pgbr/log", "$pgbr/lock");

sub pgbr {
    my ($st, $out) = BP::Stack::run_cmd([ BP::Stack::as_pg('pgbackrest', "--config=$conf", '--stanza=blogposter', @_) ]);
    return ($st >> 8, $out);
}

sub pgbr_ok {
    my ($name, @args) = @_;
    my ($st, $out) = pgbr(@args);
    is($st, 0, $name) or diag($out);
    return $st == 0;
}

$h->stop_bp;
BP::Stack::pg_conf($h->pg_data, comment => 't/backup.t: WAL archived with pgBackRest',
    settings => [ wal_level => 'replica', archive_mode => 'on',
                  archive_command => "pgbackrest --config=$conf --stanza=blogposter archive-push %p" ]);
$h->restart_pg('fast');
$h->start_bp(wait => 'ok');

pgbr_ok('stanza-create', 'stanza-create') or BAIL_OUT('pgbackrest cannot create the stanza');
my $t0 = time;
pgbr_ok('full backup', '--type=full', 'backup') or BAIL_OUT('no backup');
note(sprintf 'full backup of the test cluster: %.1f s', time - $t0);
# pgBackRest keeps a backup's stop time to the second: T must come at
# least a second after it, or no backup ends before T (error 075).
sleep 2;

# ------------------------------------------------------------ set A

my $a_user = make_user($h, email => 'set-a@example.com');
my $mk_article = sub {
    my ($u, $title) = @_;
    $t->post_ok('/api/v1/articles', auth($u), json => { title => $title, content_markdown => "# $title" })
      ->status_is(201);
    return $t->tx->res->json('/id');
};
my $mk_run = sub {
    my ($u, %end) = @_;
    $t->post_ok('/api/v1/pipelines', auth($u), json => { estimated_cost => '0.5' })->status_is(201);
    my $id = $t->tx->res->json('/id');
    if (%end) {
        $t->patch_ok("/api/v1/pipelines/$id", auth($u), json => \%end)->status_is(200);
    }
    return $id;
};

my @a_articles = map { $mk_article->($a_user, "Set A article $_") } 1 .. 12;
my @a_runs = (
    $mk_run->($a_user, status => 'completed', total_cost => '1.2500'),
    $mk_run->($a_user, status => 'completed', total_cost => '0.0300'),
    $mk_run->($a_user, status => 'failed', error_message => 'timeout', total_cost => '0.1000'),
);
my $a_running = $mk_run->($a_user);
$t->get_ok('/api/v1/usage', auth($a_user))->status_is(200)
  ->json_is('/articles_generated' => 2)->json_is('/total_cost' => '1.3800');

# T: after every write of A was acknowledged, before any of B.
sleep 0.2;
my $T = $h->psql(q{SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'});
sleep 0.2;

# ------------------------------------------------------------ set B

my @b_articles = map { $mk_article->($a_user, "Set B article $_") } 1 .. 5;
$t->delete_ok("/api/v1/articles/$a_articles[0]", auth($a_user))->status_is(204);
$t->patch_ok("/api/v1/articles/$a_articles[1]", auth($a_user), json => { title => 'Changed in B' })->status_is(200);
$t->patch_ok("/api/v1/pipelines/$a_running", auth($a_user), json => { status => 'completed', total_cost => '2.0000' })
  ->status_is(200);
my $b_user = make_user($h, email => 'set-b@example.com');
my @b_runs = ($mk_run->($b_user, status => 'completed', total_cost => '0.7000'));
push @b_articles, $mk_article->($b_user, 'Set B user article');

# ------------------------------------------------------------ a backup under a write load

my $load_user = make_user($h, email => 'load@example.com');
my $stamps    = "$tmp/load.stamps";
my $stop      = "$tmp/load.stop";
my $loader    = fork // die "fork: $!";
if (!$loader) {
    my $ua = $h->new_ua;
    open my $out, '>', $stamps or POSIX::_exit(2);
    $out->autoflush(1);
    my $i = 0;
    until (-e $stop) {
        my $tx = $ua->post($h->url('/api/v1/articles'), auth($load_user), json => { title => 'Load ' . ++$i });
        printf $out "%.6f %d\n", time, $tx->res->code // 0;
    }
    close $out;
    POSIX::_exit(0);
}
sleep 2;
my $b0 = time;
my ($bst, $bout) = pgbr('--type=incr', 'backup');
my $b1 = time;
sleep 0.5;
open my $stop_fh, '>', $stop or die;
close $stop_fh;
waitpid $loader, 0;
is($bst, 0, 'incremental backup under a write load') or diag($bout);
{
    open my $in, '<', $stamps or die "$stamps: $!";
    my @w = map { [ split ' ' ] } <$in>;
    my @bad = grep { $_->[1] != 201 } @w;
    is(scalar @bad, 0, 'every write of the load succeeded') or diag(explain(\@bad));
    my $first  = @w ? $w[0][0] : $b0;
    my $before = grep { $_->[0] < $b0 } @w;
    my $during = grep { $_->[0] >= $b0 && $_->[0] <= $b1 } @w;
    my $rate_before = $before / (($b0 - $first) || 1);
    my $rate_during = $during / (($b1 - $b0) || 1);
    diag(sprintf 'writes (POST /articles, one client): %.0f/s before the backup, %.0f/s during it (%.1f s, %d writes)',
         $rate_before, $rate_during, $b1 - $b0, $during);
    ok($during > 0, 'writes went on while the backup ran') if $b1 - $b0 > 2;
}
my $load_count = $h->psql('SELECT count(*) FROM articles WHERE user_id = $1', $load_user->{id});
ok($load_count > 0, "the load wrote $load_count articles");

# Everything written so far is in the archive.
pgbr_ok('check: the last WAL is archived', 'check');

# ------------------------------------------------------------ restore to T

sub restore_into {
    my ($name, @opt) = @_;
    my $dir = "$tmp/$name";
    make_path($dir);
    chmod 0700, $dir;
    BP::Stack::chown_pg($dir);
    my $t0 = time;
    my ($st, $out) = pgbr("--pg1-path=$dir", '--archive-mode=off', @opt, 'restore');
    is($st, 0, "restore ($name)") or diag($out);
    note(sprintf 'restore %s: %.1f s', $name, time - $t0);
    return $dir;
}

sub switch_to {
    my $dir = shift;
    $h->stop_bp;
    $h->stop_pg('fast');
    $h->pg_data($dir);
    $h->start_pg;
    $h->wait_until(sub { ($h->psql('SELECT pg_is_in_recovery()') // 1) eq '0' }, 60, 'the end of recovery');
    $h->start_bp(wait => 'ok');
}

sub ids_of {
    my ($sql, @bind) = @_;
    return [ sort map { $_->[0] } $h->psql($sql, @bind) ];
}


sub drill {
    my @args = @_;
    local $ENV{BLOGPOSTER_BIN} = $h->bin;
    my ($st, $out) = BP::Stack::run_cmd([ BP::Harness->repo . '/tools/restore-drill', '--scratch', $tmp,
                                          @args ]);
    return ($st >> 8, $out);
}

# The drill restores T and checks it; its copy, kept, is then served.
my ($dst, $dout) = drill('--config', $conf, '--target-time', $T, '--keep');
is($dst, 0, 'the restore drill to T passes') or diag($dout);
like($dout, qr/^info\s+rows in articles\s+\Q${\ scalar @a_articles}\E$/m, 'its report counts the articles at T');
like($dout, qr/^ok\s+usage months not equal to the sum of their ended runs\s+0$/m, 'and checks the usage');
my ($kept) = $dout =~ /kept (\S+)/ or BAIL_OUT('the drill kept no copy');
my $at_t = "$kept/data";
BP::Stack::pg_conf($at_t, comment => 't/backup.t: served by the harness', port => $h->pg_port,
                   sockdir => $h->pg_socket_dir);
switch_to($at_t);
$t->get_ok('/api/v1/health')->status_is(200)->json_is('/database' => 'ok');

is_deeply(ids_of('SELECT id FROM articles WHERE user_id = $1', $a_user->{id}), [ sort @a_articles ],
          'at T: every article of A, none of B');
is($h->psql('SELECT count(*) FROM articles WHERE title LIKE $1', 'Set A article %'), scalar @a_articles,
   'at T: each article of A once');
is($h->psql('SELECT count(*) FROM articles WHERE title LIKE $1 OR title = $2', 'Set B%', 'Changed in B'), 0,
   'at T: no write of B');
is($h->psql('SELECT count(*) FROM users WHERE email IN ($1, $2)', 'set-b@example.com', 'load@example.com'), 0,
   'at T: the users made after T are not there');
$t->get_ok("/api/v1/pipelines/$a_running", auth($a_user))->status_is(200)->json_is('/status' => 'running');
$t->get_ok("/api/v1/articles/$a_articles[0]", auth($a_user))->status_is(200)
  ->json_is('/title' => 'Set A article 1');
$t->get_ok('/api/v1/usage', auth($a_user))->status_is(200)
  ->json_is('/articles_generated' => 2)->json_is('/total_cost' => '1.3800')->json_is('/articles_in_progress' => 1);
is($h->psql(q{SELECT (SELECT sum(total_cost) FROM pipelines WHERE user_id = $1 AND status <> 'running')
                     = (SELECT sum(total_cost) FROM api_usage WHERE user_id = $1)}, $a_user->{id}), 1,
   'at T: the usage is the sum of the ended runs of A');

# ------------------------------------------------------------ restore the latest state

my $latest = restore_into('pg-latest', '--type=default');
switch_to($latest);
$t->get_ok('/api/v1/health')->status_is(200);
is_deeply(ids_of('SELECT id FROM articles WHERE user_id IN ($1, $2)', $a_user->{id}, $b_user->{id}),
          [ sort @a_articles[1 .. $#a_articles], @b_articles ], 'latest: the articles of A and B, the deleted one gone');
$t->get_ok("/api/v1/articles/$a_articles[1]", auth($a_user))->json_is('/title' => 'Changed in B');
$t->get_ok("/api/v1/pipelines/$a_running", auth($a_user))->json_is('/status' => 'completed');
$t->get_ok('/api/v1/usage', auth($a_user))->json_is('/articles_generated' => 3)->json_is('/total_cost' => '3.3800');
is($h->psql('SELECT count(*) FROM articles WHERE user_id = $1', $load_user->{id}), $load_count,
   'latest: every acknowledged write of the load');

# The checks alone (--check, as for a managed PostgreSQL's restore) find a
# usage month that is not the sum of its runs.
($dst, $dout) = drill('--check', $h->dsn);
is($dst, 0, 'drill --check passes on the restored database') or diag($dout);
$h->psql(q{UPDATE api_usage SET total_cost = total_cost + 1 WHERE user_id = $1}, $a_user->{id});
($dst, $dout) = drill('--check', $h->dsn);
isnt($dst, 0, 'drill --check fails on a usage month that is not the sum of its runs');
like($dout, qr/^FAIL\s+usage months not equal to the sum of their ended runs\s+1$/m, 'and names it');

# ------------------------------------------------------------ a damaged repository

# Damage the repository: garbage over the start of every backed-up file.
File::Find::find(sub {
    return unless -f $_ && $File::Find::name =~ m{/backup/blogposter/[^/]+/pg_data/};
    open my $f, '+<', $_ or return;
    print $f 'x' x (-s $_ < 64 ? -s $_ : 64);
    close $f;
}, $repo);
($dst, $dout) = drill('--config', $conf);
isnt($dst, 0, 'the restore drill fails on a damaged repository');
like($dout, qr/^FAIL\s+pgbackrest restore/m, 'and says the restore failed');
is_deeply([ glob "$tmp/bp-drill.*" ], [ $kept ], 'the failed drill removed its scratch copy');

done_testing;
