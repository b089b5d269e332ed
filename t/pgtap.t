#!/usr/bin/perl
# The schema's pgTAP tests, against a throw-away PostgreSQL cluster.
#
#   prove -v t/pgtap.t
#
# Creates a cluster in a temporary directory with t/lib/BP/Stack.pm
# (initdb --auth=trust, as the `postgres` user when run as root, since
# PostgreSQL refuses to run as root), listening only on a Unix socket in
# that directory, without fsync; creates a
# database owned by an ordinary role and applies sql/migrations/*.sql in
# order as that role, each with `psql -v ON_ERROR_STOP=1 -1 -f`, as the
# program's migrator would (each file in its own transaction, no
# superuser); then CREATE EXTENSION pgtap and `pg_prove t/pgtap/*.sql`.
# The cluster is stopped and removed at the end, whatever happened.
#
# Needs the PostgreSQL server binaries (PG_BINDIR, else
# /usr/lib/postgresql/15/bin, else `pg_config --bindir`, else PATH) and
# pgTAP with pg_prove (Debian: postgresql-15-pgtap).
# Of t/lib it uses only BP::Stack (core Perl): not the HTTP harness.

use strict;
use warnings;
use Test::More;
use Cwd qw(abs_path);
use File::Basename qw(dirname basename);
use File::Path qw(remove_tree);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use FindBin ();
use lib "$FindBin::RealBin/lib";
use BP::Stack qw(pg_bindir pg_init pg_start pg_stop);

my $root = abs_path(dirname(__FILE__) . '/..');
my @migrations = sort glob("$root/sql/migrations/[0-9][0-9][0-9][0-9]_*.sql");
my @tests      = sort glob("$root/t/pgtap/*.sql");

# Nothing from the caller's environment chooses the server.
delete @ENV{qw(PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGSERVICE
               PGSERVICEFILE PGOPTIONS PGSSLMODE PGTZ PGDATESTYLE PGCLIENTENCODING
               DATABASE_URL)};
$ENV{PGCONNECT_TIMEOUT} = 10;

my $as_root = $> == 0;

sub which {
    my ($prog) = @_;
    for my $d (File::Spec->path) { return "$d/$prog" if -x "$d/$prog" }
    return;
}

# Runs a command (list form, no shell) with stdout and stderr merged.
# Returns (exit status as in $?, output).
sub run {
    my ($opts, @cmd) = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>&', \*STDOUT) or die "dup: $!";
        open(STDIN, '<', '/dev/null') or die "stdin: $!";
        exec { $cmd[0] } @cmd or do { print "cannot run $cmd[0]: $!\n"; POSIX::_exit(127) };
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return ($?, $out);
}

# Preconditions: fail (not skip) when something is missing, so a machine
# without pgTAP cannot pass silently.
my $bindir = eval { pg_bindir() };
my $pg_prove = which('pg_prove');
my @missing;
push @missing, 'PostgreSQL server binaries (initdb, pg_ctl): set PG_BINDIR' unless $bindir && -x "$bindir/pg_ctl";
push @missing, 'pg_prove (Debian: postgresql-15-pgtap)' unless $pg_prove;
push @missing, 'runuser, to run PostgreSQL as postgres' if $as_root && !which('runuser');
push @missing, 'a postgres user, to run PostgreSQL as root' if $as_root && !defined getpwnam('postgres');
push @missing, "migrations in $root/sql/migrations" unless @migrations;
push @missing, "tests in $root/t/pgtap" unless @tests;
if (@missing) {
    fail('prerequisites');
    diag("missing: $_") for @missing;
    done_testing();
    exit 1;
}
my $psql = -x "$bindir/psql" ? "$bindir/psql" : which('psql');

# The migrator applies each file in a transaction of its own, and is not
# psql: the files may not manage transactions or use psql meta-commands.
for my $m (@migrations) {
    open(my $fh, '<', $m) or die "$m: $!";
    my $sql = do { local $/; <$fh> };
    my @bad = grep { /^\s*(?:BEGIN\s*;|START\s+TRANSACTION|COMMIT\b|ROLLBACK\b|END\s+TRANSACTION|\\)/i }
              split /\n/, $sql;
    ok(!@bad, basename($m) . ': no transaction control, no psql meta-command')
        or diag(join "\n", @bad);
}

# A throw-away cluster -------------------------------------------------------

my $dir = tempdir('bp-pgtap-XXXXXX', TMPDIR => 1, CLEANUP => 0);
my $data = "$dir/data";
my $started = 0;

sub stop_cluster {
    return unless defined $dir && -d $dir;
    if ($started) {
        # When pg_ctl cannot stop it, pg_stop signals the postmaster.
        pg_stop($data, bindir => $bindir, mode => 'immediate', timeout => 30);
        $started = 0;
    }
    remove_tree($dir);
    undef $dir;
}

END {
    local $?;    # keep the test's exit status
    stop_cluster();
}
$SIG{$_} = sub { die "killed by SIG$_[0]\n" } for qw(INT TERM HUP);

# After a failure that makes the rest meaningless: say why, and end (the
# END block still removes the cluster).
sub stop_here {
    my ($why) = @_;
    diag($why);
    done_testing();
    exit 1;
}

BP::Stack::chown_pg($dir);

# A free port. The server listens on no TCP address at all
# (listen_addresses=''): the port only names its socket file in $dir.
my $port = do {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp')
        or die "no free port: $!";
    my $p = $s->sockport;
    close $s;
    $p;
};

my $ok = eval {
    pg_init($data, bindir => $bindir, locale => 'C', no_sync => 1, sockdir => $dir, port => $port,
            comment => 't/pgtap.t', settings => [ fsync => 'off', synchronous_commit => 'off', full_page_writes => 'off' ]);
    1;
};
ok($ok, 'initdb') or stop_here($@);

$started = 1;    # from here on, a postmaster may be up: stop it at the end
$ok = eval { pg_start($data, bindir => $bindir, log => "$dir/server.log"); 1 };
ok($ok, 'the cluster starts') or stop_here("cannot start PostgreSQL:\n$@");

my @conn = ('-h', $dir, '-p', $port);
my @psql = ($psql, '-X', '-q', '-v', 'ON_ERROR_STOP=1', @conn);

# The schema is applied by an ordinary role owning the database, as it
# would be on a managed server: the migrations must not need a superuser.
my ($rc, $out) = run({}, @psql, '-U', 'postgres', '-d', 'postgres',
    '-c', 'CREATE ROLE bp_owner LOGIN',
    '-c', 'CREATE DATABASE bp_pgtap OWNER bp_owner');
is($rc, 0, 'an ordinary role and its database') or stop_here($out);

for my $m (@migrations) {
    ($rc, $out) = run({}, @psql, '-U', 'bp_owner', '-d', 'bp_pgtap', '-1', '-f', $m);
    is($rc, 0, basename($m) . ' applies')
        or stop_here("$out\nthe schema did not apply: pg_prove not run");
    note($out) if $out ne '';
}

($rc, $out) = run({}, @psql, '-U', 'postgres', '-d', 'bp_pgtap', '-c', 'CREATE EXTENSION pgtap');
is($rc, 0, 'CREATE EXTENSION pgtap') or stop_here("$out\n(Debian: apt-get install postgresql-15-pgtap)");

# The pgTAP tests ---------------------------------------------------------------

($rc, $out) = run({}, $pg_prove, '--norc', '--nocolor', '--psql-bin', $psql,
    @conn, '-U', 'postgres', '-d', 'bp_pgtap', ($ENV{TEST_VERBOSE} ? '--verbose' : ()), @tests);
is($rc, 0, 'pg_prove ' . join(' ', map { 't/pgtap/' . basename($_) } @tests)) or diag($out);
note($out) if $rc == 0;

done_testing();
