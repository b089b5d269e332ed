package BP::Stack;

# How a throw-away or local stack is set up: a PostgreSQL cluster (initdb
# with settings, start, stop, the database) and nginx's configuration
# rendered from nginx/*.conf.in with a self-signed certificate. Written
# once here; used by t/lib/BP/Harness.pm and t/pgtap.t, and through
# tools/stack by tools/dev, bench/run and bench/import_100k.sh.
#
# Core Perl only (no Mojo, no DBI). Every function dies with the command's
# output when something fails. As root, PostgreSQL's programs run as the
# user postgres (PostgreSQL refuses to run as root) and the directories
# they write are given to it.
#
#   use BP::Stack qw(pg_init pg_start pg_stop pg_createdb nginx_conf make_cert);
#   pg_init('/tmp/x/pg', sockdir => '/tmp/x/sock', port => 5432,
#           locale => 'C.UTF-8', no_sync => 1,
#           settings => [ fsync => 'off' ], comment => 'who made it');
#   pg_start('/tmp/x/pg', log => '/tmp/x/pg.log');
#   pg_createdb('blogposter', sockdir => '/tmp/x/sock', port => 5432);
#   pg_stop('/tmp/x/pg', mode => 'fast');
#   make_cert('/tmp/x/cert.pem', '/tmp/x/key.pem');
#   nginx_conf('/tmp/x/nginx', HTTPS_PORT => 8443, HTTP_PORT => 8080,
#              SOCKET => '/tmp/x/bp.sock', CERT => ..., KEY => ...);

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Spec;
use File::Temp qw(tempfile);
use POSIX ();

our $VERSION   = '1';
our @EXPORT_OK = qw(pg_bindir pg_init pg_conf pg_start pg_stop pg_running pg_createdb
                    nginx_conf make_cert as_pg chown_pg is_root utf8_locale run_cmd);

my $REPO = abs_path(File::Spec->catdir(dirname(__FILE__), '..', '..', '..'));

sub repo { $REPO }

# ---------------------------------------------------------------- running

sub is_root { $> == 0 }

# A command run as the cluster's owner: postgres when root, else ourselves.
sub as_pg {
    my @cmd = @_;
    return is_root() ? ('runuser', '-u', 'postgres', '--', @cmd) : @cmd;
}

# Gives paths to the postgres user when root (nothing otherwise).
sub chown_pg {
    my @paths = @_;
    return unless is_root() && @paths;
    my (undef, undef, $uid, $gid) = getpwnam('postgres') or die "no postgres user: install postgresql-15\n";
    chown $uid, $gid, @paths or die "chown @paths: $!\n";
}

# run_cmd([cmd...], log => FILE): runs cmd in a session of its own, from /,
# stdin from /dev/null, stdout and stderr appended to FILE (a temp file when
# none). Returns (wait status as in $?, the output of this run).
sub run_cmd {
    my ($cmd, %o) = @_;
    my ($log, $tmp) = ($o{log});
    if (!defined $log) { (undef, $log) = tempfile('bp-stack-XXXXXX', TMPDIR => 1, UNLINK => 0); $tmp = $log }
    my $start = -s $log // 0;
    my $pid   = fork // die "fork: $!\n";
    if (!$pid) {
        eval {
            POSIX::setsid();
            chdir '/';
            open STDIN, '<', '/dev/null';
            open STDOUT, '>>', $log or die "open $log: $!\n";
            open STDERR, '>&', \*STDOUT or die "dup: $!\n";
            $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP PIPE CHLD);
            exec { $cmd->[0] } @$cmd or die "exec $cmd->[0]: $!\n";
        };
        print STDERR $@;
        POSIX::_exit(127);
    }
    my $r;
    do { $r = waitpid($pid, 0) } while ($r == -1 && $!{EINTR});
    my $st  = $?;
    my $out = '';
    if (open my $fh, '<:raw', $log) { seek $fh, $start, 0; local $/; $out = <$fh> // '' }
    unlink $tmp if defined $tmp;
    return ($st, $out);
}

# Runs cmd; dies with $what and its output when it fails.
sub _must {
    my ($what, $cmd, %o) = @_;
    my ($st, $out) = run_cmd($cmd, %o);
    die "$what failed (exit " . ($st >> 8) . "):\n$out" if $st;
    return $out;
}

# ---------------------------------------------------------------- PostgreSQL

# The PostgreSQL server binaries: PG_BINDIR, else /usr/lib/postgresql/15/bin
# (else the newest other version there), else `pg_config --bindir`, else PATH.
sub pg_bindir {
    return $ENV{PG_BINDIR} if $ENV{PG_BINDIR};
    my @c = grep { -x "$_/initdb" } sort { ($b =~ /(\d+)/)[0] <=> ($a =~ /(\d+)/)[0] } glob '/usr/lib/postgresql/*/bin';
    my ($dir) = grep { m{/15/} } @c;
    $dir //= $c[0];
    unless ($dir) {
        my $b = `pg_config --bindir 2>/dev/null` // '';
        chomp $b;
        $dir = $b if $b && -x "$b/initdb";
    }
    unless ($dir) {
        for my $p (File::Spec->path) { if (-x "$p/initdb") { $dir = $p; last } }
    }
    die "PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql-15 or set PG_BINDIR\n"
        unless $dir && -x "$dir/pg_ctl";
    return $dir;
}

# C.UTF-8 when the system has it, else C.
sub utf8_locale {
    return (grep { /^C\.utf-?8$/i } split /\n/, (`locale -a 2>/dev/null` // '')) ? 'C.UTF-8' : 'C';
}

# Dies when the postgres user (as root) cannot enter $dir.
sub _check_reach {
    my $dir = shift;
    return unless is_root();
    my ($st) = run_cmd([ as_pg('test', '-x', $dir) ]);
    die "the postgres user cannot reach $dir: put it where others may enter\n" if $st;
}

# pg_init(DATA, %opt): a new cluster in DATA (created; must not hold one):
# initdb -A trust -U postgres -E UTF8, as postgres when root; then pg_conf.
#   locale   => L       --locale=L ('C' for none; default: the environment's)
#   no_sync  => 1       initdb --no-sync
#   log      => FILE    initdb's output (appended); default a temp file
#   sockdir, port, settings, comment: as pg_conf (sockdir is created)
# listen_addresses = '' always: unix socket only.
sub pg_init {
    my ($data, %o) = @_;
    my $bin = $o{bindir} // pg_bindir();
    die "$data already holds a cluster\n" if -f "$data/PG_VERSION";
    make_path($data);
    chown_pg($data);
    if (defined $o{sockdir}) { make_path($o{sockdir}); chown_pg($o{sockdir}) }
    _check_reach($data);
    my @cmd = ("$bin/initdb", '-D', $data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8');
    push @cmd, "--locale=$o{locale}" if defined $o{locale};
    push @cmd, '--no-sync' if $o{no_sync};
    _must('initdb', [ as_pg(@cmd) ], log => $o{log});
    pg_conf($data, %o, settings => [ listen_addresses => '', @{ $o{settings} // [] } ]);
    return $data;
}

# pg_conf(DATA, %opt): appends settings to DATA/postgresql.conf.
#   comment  => TEXT    a comment line above them
#   sockdir  => DIR     unix_socket_directories
#   port     => N       port (it also names the socket file)
#   settings => [ name => value, ... ]   in this order; values quoted unless
#                       a plain word or number (with a unit): 127.0.0.1 is quoted
sub pg_conf {
    my ($data, %o) = @_;
    my @set = @{ $o{settings} // [] };
    push @set, unix_socket_directories => $o{sockdir} if defined $o{sockdir};
    push @set, port => $o{port} if defined $o{port};
    my $text = "\n";
    $text .= "# $o{comment}\n" if defined $o{comment};
    while (my ($k, $v) = splice @set, 0, 2) {
        $v = "'" . ($v =~ s/'/''/gr) . "'" unless $v =~ /^(?:[A-Za-z_][A-Za-z0-9_]*|-?[0-9]+(?:\.[0-9]+)?[A-Za-z]*)$/;
        $text .= "$k = $v\n";
    }
    open my $fh, '>>', "$data/postgresql.conf" or die "append $data/postgresql.conf: $!\n";
    print $fh $text;
    close $fh or die "close $data/postgresql.conf: $!\n";
}

# pg_start(DATA, log => FILE, %opt): pg_ctl start -w (waits until it
# accepts connections, at most timeout s, default 60). The server log FILE
# is made the postgres user's. sockdir => DIR, port => N override the
# configuration (pg_ctl -o). Dies with pg_ctl's output and the log's tail.
sub pg_start {
    my ($data, %o) = @_;
    my $bin = $o{bindir} // pg_bindir();
    my $log = $o{log} // die "pg_start: log => FILE is needed\n";
    unless (-e $log) { open my $fh, '>>', $log or die "create $log: $!\n"; close $fh }
    chown_pg($log);
    my @cmd = ("$bin/pg_ctl", '-D', $data, '-l', $log, '-w', '-t', $o{timeout} // 60);
    my @opt;
    push @opt, "-c port=$o{port}" if defined $o{port};
    push @opt, "-c unix_socket_directories=$o{sockdir}" if defined $o{sockdir};
    push @cmd, '-o', "@opt" if @opt;
    my ($st, $out) = run_cmd([ as_pg(@cmd, 'start') ], log => $o{ctl_log});
    if ($st) {
        my @tail = split /\n/, (_slurp($log) // '');
        splice @tail, 0, @tail - 20 if @tail > 20;
        die "PostgreSQL did not start:\n$out" . join("\n", @tail) . "\n";
    }
    return 1;
}

# pg_stop(DATA, mode => fast|smart|immediate): pg_ctl stop -w. When pg_ctl
# fails and a postmaster.pid is left, SIGQUIT to that postmaster. Returns
# (true when stopped cleanly or not running, pg_ctl's output).
sub pg_stop {
    my ($data, %o) = @_;
    return (1, '') unless -f "$data/postmaster.pid";
    my $bin = $o{bindir} // pg_bindir();
    my ($st, $out) = run_cmd([ as_pg("$bin/pg_ctl", '-D', $data, '-m', $o{mode} // 'fast', '-w', '-t', $o{timeout} // 60, 'stop') ],
                             log => $o{ctl_log});
    if ($st && -f "$data/postmaster.pid") {
        my ($pid) = (_slurp("$data/postmaster.pid") // '') =~ /^(\d+)/;
        kill 'QUIT', $pid if $pid;
        return (0, $out);
    }
    return (1, $out);
}

# True when a server runs on DATA (pg_ctl status).
sub pg_running {
    my ($data, %o) = @_;
    my $bin = $o{bindir} // pg_bindir();
    my ($st) = run_cmd([ as_pg("$bin/pg_ctl", '-D', $data, 'status') ]);
    return $st == 0;
}

# pg_createdb(NAME, sockdir => DIR, port => N): CREATE DATABASE NAME as
# postgres, unless it exists. Returns true when it created it.
sub pg_createdb {
    my ($name, %o) = @_;
    die "pg_createdb: a plain database name is needed\n" unless $name =~ /^[a-z_][a-z0-9_]*$/;
    my $bin  = $o{bindir} // pg_bindir();
    my @psql = ("$bin/psql", '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', $o{sockdir} // die("pg_createdb: sockdir\n"),
                (defined $o{port} ? ('-p', $o{port}) : ()), '-U', 'postgres', '-d', 'postgres');
    my $has = _must('psql', [ @psql, '-A', '-t', '-c', "SELECT 1 FROM pg_database WHERE datname = '$name'" ]);
    return 0 if $has =~ /^1$/m;
    _must("CREATE DATABASE $name", [ @psql, '-c', "CREATE DATABASE $name" ], log => $o{log});
    return 1;
}

# ---------------------------------------------------------------- nginx

# make_cert(CERT, KEY, days => N): a self-signed certificate for localhost
# and 127.0.0.1, unless both files are there already (written under other
# names, then renamed: a concurrent reader sees none or both).
sub make_cert {
    my ($cert, $key, %o) = @_;
    return 0 if -s $cert && -s $key;
    make_path(dirname($cert), dirname($key));
    my ($c, $k) = ("$cert.$$", "$key.$$");
    _must('openssl req', [ 'openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', $o{days} // 3650,
                           '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
                           '-keyout', $k, '-out', $c ]);
    chmod 0600, $k;
    rename $k, $key or die "rename $k: $!\n";
    rename $c, $cert or die "rename $c: $!\n";
    return 1;
}

# nginx_conf(PREFIX, NAME => VALUE...): nginx's prefix (conf, logs, tmp),
# fastcgi_params copied, and conf/nginx.conf and conf/blogposter.conf
# rendered from nginx/nginx.conf.in and nginx/blogposter.conf.in. Values
# for their @NAME@ placeholders; these have defaults:
#   BIND 127.0.0.1, WEBROOT and OPENAPI the repository's, CERT PREFIX/cert.pem,
#   KEY PREFIX/key.pem, AUTH_RATE 10r/s, AUTH_BURST 20, WRITE_RATE 20r/s,
#   WRITE_BURST 40, KEEP_CONN off,
#   WORKER_PROCESSES 1, USER_LINE "user root;" when root, PREFIX, SITE_CONF;
#   MAX_BODY: MAX_BODY_BYTES (the application's limit, default 1048576)
#   plus 64 KiB for the rest of the request;
#   UPSTREAM_SERVERS: `server unix:SOCKET;`, or, given SERVERS (several app
#   hosts: a comma-separated list, or an array ref, of "ADDR:PORT [nginx
#   server parameters]", e.g. "127.0.0.2:9000 max_fails=1 fail_timeout=2s"),
#   one `server ...;` directive for each, on one line.
# Dies on a placeholder left without a value. Returns conf/nginx.conf's path.
sub nginx_conf {
    my ($prefix, %v) = @_;
    make_path(map { "$prefix/$_" } qw(conf logs tmp));
    require File::Copy;
    File::Copy::copy('/etc/nginx/fastcgi_params', "$prefix/conf/fastcgi_params")
        or die "cannot copy /etc/nginx/fastcgi_params (install nginx): $!\n";
    my $max_body = delete $v{MAX_BODY_BYTES};
    my $servers  = delete $v{SERVERS};
    if (defined $servers && !defined $v{UPSTREAM_SERVERS}) {
        my @s = grep { /\S/ } (ref $servers ? @$servers : split /,/, $servers);
        die "nginx_conf: SERVERS is empty\n" unless @s;
        for (@s) {
            s/^\s+|\s+$//g;
            die "nginx_conf: SERVERS: bad entry '$_'\n" unless /^[^\s;{}]+(?: [a-z_]+=[^\s;{}]+| backup| down)*$/;
        }
        $v{UPSTREAM_SERVERS} = join ' ', map { "server $_;" } @s;
    }
    my %d = (
        BIND             => '127.0.0.1',
        WEBROOT          => "$REPO/nginx/www",
        OPENAPI          => "$REPO/nginx/openapi.yaml",
        CERT             => "$prefix/cert.pem",
        KEY              => "$prefix/key.pem",
        MAX_BODY         => ($max_body // 1048576) + 65536,
        AUTH_RATE        => '10r/s',
        AUTH_BURST       => 20,
        WRITE_RATE       => '20r/s',
        WRITE_BURST      => 40,
        KEEP_CONN        => 'off',
        WORKER_PROCESSES => 1,
        USER_LINE        => (is_root() ? 'user root;' : '# (not root: no user directive)'),
        PREFIX           => $prefix,
        SITE_CONF        => "$prefix/conf/blogposter.conf",
    );
    %v = (%d, %v);
    $v{UPSTREAM_SERVERS} //= "server unix:$v{SOCKET};" if defined $v{SOCKET};
    for (['blogposter.conf.in', 'blogposter.conf'], ['nginx.conf.in', 'nginx.conf']) {
        my ($in, $out) = @$_;
        my $text = _slurp("$REPO/nginx/$in") // die "missing $REPO/nginx/$in\n";
        $text =~ s/\@([A-Z_]+)\@/exists $v{$1} ? $v{$1} : "\@$1\@"/ge;
        for my $line (split /\n/, $text) {
            next if $line =~ /^\s*#/;
            die "nginx/$in: unknown placeholder in: $line\n" if $line =~ /\@[A-Z_]+\@/;
        }
        open my $fh, '>:raw', "$prefix/conf/$out" or die "write $prefix/conf/$out: $!\n";
        print $fh $text;
        close $fh or die "close $prefix/conf/$out: $!\n";
    }
    return "$prefix/conf/nginx.conf";
}

# ---------------------------------------------------------------- files

sub _slurp {
    my $f = shift;
    open my $fh, '<:raw', $f or return undef;
    local $/;
    my $s = <$fh>;
    return $s // '';
}

1;
