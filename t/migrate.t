# Migrations: fresh database, re-run, concurrent runs, changed files, and
# serve refusing to start while one is pending.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use BP::Harness;
use File::Copy qw(copy);
use File::Path qw(make_path);

my $h = BP::Harness->new(migrate => 0, start_bp => 0);
my @files = sort glob(BP::Harness->repo . '/sql/migrations/*.sql');
ok(@files >= 4, 'there are migration files');

my ($st, $out, $err) = $h->run_bp('migrate', '--status');
is($st, 0, 'status on a fresh database');
is(scalar(() = $out =~ /^pending /mg), scalar @files, 'every migration pending');

($st, $out, $err) = $h->run_bp('serve');
isnt($st, 0, 'serve refuses while migrations are pending');
like($err, qr/0001_\w+\.sql is pending/, 'and names the pending migration');

# two at once: both succeed, each migration applied exactly once
my @pids;
for my $i (1, 2) {
    my $pid = fork // die;
    if (!$pid) {
        my ($s) = $h->run_bp('migrate');
        POSIX::_exit($s);
    }
    push @pids, $pid;
}
my @st = map { waitpid($_, 0); $? >> 8 } @pids;
is_deeply(\@st, [0, 0], 'two concurrent migrate runs both succeed');
is($h->psql('select count(*) from schema_migrations'), scalar @files, 'each migration recorded once');
is($h->psql('select count(distinct version) from schema_migrations'), scalar @files, 'no duplicates');

($st, $out) = $h->run_bp('migrate');
is($st, 0, 're-run');
like($out, qr/^0 migrations applied/m, 're-run applies nothing');
($st, $out) = $h->run_bp('migrate', '--status');
is(scalar(() = $out =~ /^applied /mg), scalar @files, 'status: all applied');

# a changed file is refused by migrate and by serve
my $dir = $h->tmpdir . '/migrations';
make_path($dir);
copy($_, $dir) or die for @files;
my ($first) = glob("$dir/0001_*.sql");
open my $fh, '>>', $first or die;
print $fh "\n-- edited after it was applied\n";
close $fh;
($st, $out, $err) = $h->run_bp({ MIGRATIONS_DIR => $dir }, 'migrate');
isnt($st, 0, 'changed checksum refused');
like($err, qr/0001_\w+\.sql was changed/, 'names the changed file');
($st, $out, $err) = $h->run_bp({ MIGRATIONS_DIR => $dir }, 'serve');
isnt($st, 0, 'serve refuses a changed migration too');

# a new migration that fails leaves nothing of itself behind
copy($_, $dir) or die for @files;
open $fh, '>', "$dir/9999_broken.sql" or die;
print $fh "CREATE TABLE half_done (x int);\nSELECT no_such_function();\n";
close $fh;
($st, $out, $err) = $h->run_bp({ MIGRATIONS_DIR => $dir }, 'migrate');
isnt($st, 0, 'a failing migration fails the run');
like($err, qr/9999_broken\.sql failed/, 'names it');
is($h->psql(q{select to_regclass('half_done') is null}), 1, 'its first statement was rolled back');
is($h->psql('select count(*) from schema_migrations where version = 9999'), 0, 'not recorded');

$h->start_bp(wait => 'ok');
$h->t->get_ok('/api/v1/health')->status_is(200)->json_is('/schema_version' => scalar @files, 'schema_version is the newest migration');

done_testing;
