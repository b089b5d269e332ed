package BP::Harness;

# The test harness of every t/*.t: a whole running stack for one test file.
#
#   use Test::More;
#   use lib 't/lib';
#   use BP::Harness;
#   my $h = BP::Harness->new(workers => 2, env => { JWT_TTL => '1h' });
#   $h->t->get_ok('/api/v1/health')->status_is(200);
#   is($h->psql('select count(*) from users'), 0);
#   done_testing;
#
# new() starts, in a temp dir of its own and on free ports:
#   - PostgreSQL: a copy of a template cluster made once (cached in
#     $ENV{BP_TEST_TMP} // t/tmp, with database "blogposter" in it), run as
#     user postgres when root, unix socket only; then `blogposter migrate`
#     (unless migrate => 0);
#   - `blogposter serve` in its own process group, LISTEN=unix:<tmp>/bp.sock,
#     stderr to <tmp>/blogposter.log;
#   - nginx from nginx/nginx.conf.in and nginx/blogposter.conf.in, with a
#     self-signed certificate made once (cached beside the template).
# The cluster, the certificate and nginx's configuration are made by
# BP::Stack (t/lib/BP/Stack.pm), as for tools/dev and bench/.
# It returns when /api/v1/health answers 200 through nginx.
#
# Everything is stopped and the temp dir removed when the test calls
# done_testing (the teardown adds one assertion: no sanitizer report in the
# blogposter logs), when the object goes out of scope, or at exit (also after
# a die). Use done_testing rather than a fixed plan: with a plan the teardown
# can only diag what it finds. BP_KEEP_TMP=1 keeps the temp dir.
#
# Options of new():
#   workers  => N        WORKERS (default 2)
#   env      => {...}    more environment for blogposter (undef removes a var)
#   migrate  => 0        do not run `blogposter migrate`
#   start_bp => 0        do not start `blogposter serve` (start_bp() later;
#                        the default when migrate => 0: serve refuses to
#                        start while a migration is pending)
#   max_body => BYTES    MAX_BODY_BYTES for blogposter and nginx's limit
#   pooler   => 'pgbouncer' | 0   put PgBouncer (transaction mode, fewer
#                        server connections than workers) between
#                        blogposter and PostgreSQL, with DB_POOL_MODE=
#                        transaction; default: $ENV{BP_POOLER}. The test's
#                        own SQL (psql, dbh) still goes straight to
#                        PostgreSQL.
#   nginx    => {...}    nginx template values instead of the harness's
#                        (e.g. { AUTH_RATE => '1r/m', AUTH_BURST => 1 });
#                        by default the rate limits are high enough that
#                        the suite is never throttled
#   servers  => [ "ADDR:PORT [params]", ... ]   nginx's upstream is these
#                        app hosts (blogposter serve on TCP, started by the
#                        test itself: bp_env(LISTEN => ..., ...)) instead
#                        of the unix socket; use with start_bp => 0.
#
# Environment read: BLOGPOSTER_BIN (the binary, default <repo>/src/blogposter),
# BP_TEST_TMP (cache dir), BP_KEEP_TMP, BP_WRAPPER (a command put in front of
# the binary, e.g. "valgrind -q --error-exitcode=99"), BP_FASTCGI_KEEP_CONN,
# BP_START_TIMEOUT (seconds, default 20), PG_BINDIR; ASAN_OPTIONS,
# UBSAN_OPTIONS and LSAN_OPTIONS are passed to blogposter.

use strict;
use warnings;

use BP::Pin;    # before any Mojo module: see BP/Pin.pm
use Carp qw(croak);
use Cwd qw(abs_path);
use Fcntl qw(:flock);
use File::Basename qw(basename dirname);
use File::Path qw(make_path remove_tree);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Scalar::Util qw(weaken);
use Time::HiRes qw(sleep time);

use Mojo::UserAgent;
use Test::Mojo;
use Test::More ();
use Test2::API qw(test2_add_callback_testing_done test2_is_testing_done);

use BP::Stack ();

our $VERSION = '1';

# A fixed 40-byte key: tests may sign their own tokens with it.
use constant SECRET_KEY => 'blogposter-test-secret-key-0123456789abc';

# Bump to rebuild cached template clusters when the recipe below changes.
use constant TEMPLATE_RECIPE => 4;

my $REPO = abs_path(File::Spec->catdir(dirname(__FILE__), '..', '..', '..'));

# Harness objects alive in this process, for the END block.
my %LIVE;

sub repo { $REPO }

# ---------------------------------------------------------------- new

# pin_problem(): undef when Mojolicious runs with the pinned JSON encoder
# and event loop, else what escaped the pin.
sub pin_problem {
    require Mojo::JSON;
    require Mojo::IOLoop;
    return 'Mojo::JSON encodes with Cpanel::JSON::XS' if Mojo::JSON::JSON_XS();
    my $reactor = ref Mojo::IOLoop->singleton->reactor;
    return "Mojo::IOLoop runs on $reactor" if $reactor ne 'Mojo::Reactor::Poll';
    return undef;
}

sub new {
    my ($class, %opt) = @_;
    my $t0   = time;
    my $self = bless {
        opt     => \%opt,
        pid     => $$,              # only this process tears down
        workers => $opt{workers} // 2,
        bin     => $ENV{BLOGPOSTER_BIN} // "$REPO/src/blogposter",
    }, $class;
    croak "blogposter binary $self->{bin} is missing or not executable (build it: tools/dev test)"
        unless -x $self->{bin};
    croak 'SECRET_KEY must be 40 bytes' unless length(SECRET_KEY) == 40;
    if (my $why = pin_problem()) {
        croak "$why: load BP::Harness before any Mojo module, or run the suite "
            . 'through tools/dev test (MOJO_NO_JSON_XS=1 MOJO_REACTOR=Mojo::Reactor::Poll)';
    }

    $LIVE{"$self"} = $self;
    weaken($LIVE{"$self"});
    my $weak = $self;
    weaken($weak);
    test2_add_callback_testing_done(sub { $weak->teardown if $weak });
    # Interrupted (Ctrl-C under prove): exit through END, which tears down.
    my %signo = (HUP => 1, INT => 2, TERM => 15);
    for my $sig (sort keys %signo) {
        $SIG{$sig} = sub { exit 128 + $signo{$sig} } if !$SIG{$sig} || $SIG{$sig} eq 'DEFAULT';
    }

    my $ok = eval {
        $self->_setup_dirs;
        $self->_find_pg;
        $self->_ensure_cache;
        $self->_start_nginx;         # does not wait: it starts while PG does
        $self->_init_pg;
        $self->start_pg;
        $self->start_pooler if $self->pooler;
        $self->_wait_nginx;
        if ($opt{migrate} // 1) {
            my ($st, $out, $err) = $self->run_bp('migrate');
            die "blogposter migrate failed (exit $st):\n$out$err" if $st != 0;
        }
        $self->start_bp(wait => 'ok') if $opt{start_bp} // $opt{migrate} // 1;
        1;
    };
    unless ($ok) {
        my $err = $@ || 'unknown error';
        $self->teardown(quiet => 1);
        die "BP::Harness set-up failed: $err";
    }
    $self->{setup_seconds} = time - $t0;
    Test::More::note(sprintf 'BP::Harness: stack up in %.2f s (%s)', $self->{setup_seconds}, $self->{tmp})
        if $ENV{BP_HARNESS_VERBOSE} || $ENV{TEST_VERBOSE};
    return $self;
}

# ---------------------------------------------------------------- accessors

sub tmpdir        { $_[0]{tmp} }
sub setup_seconds { $_[0]{setup_seconds} }
sub https_port    { $_[0]{https_port} }
sub http_port     { $_[0]{http_port} }
sub socket_path   { $_[0]{socket} }
sub master_pid    { $_[0]{bp_pid} }
sub pg_port       { $_[0]{pg_port} }
sub pg_socket_dir { $_[0]{pg_sockdir} }
sub secret_key    { SECRET_KEY }
sub bin           { $_[0]{bin} }

# libpq conninfo of the test database, straight to PostgreSQL.
sub dsn {
    my $self = shift;
    return "host=$self->{pg_sockdir} port=$self->{pg_port} dbname=blogposter user=postgres";
}

# What DATABASE_URL is set to: the pooler when there is one, else dsn.
sub bp_dsn {
    my $self = shift;
    return $self->dsn unless $self->pooler;
    return "host=$self->{pgb_sockdir} port=$self->{pgb_port} dbname=blogposter user=postgres";
}

# 'pgbouncer' when blogposter reaches PostgreSQL through PgBouncer, else ''.
sub pooler {
    my $self = shift;
    my $p = exists $self->{opt}{pooler} ? $self->{opt}{pooler} : $ENV{BP_POOLER};
    return $p ? $p : '';
}

# PgBouncer in transaction mode in front of this test's cluster: one
# server connection per two workers (at least one), so the workers share
# them as a pooler in transaction mode makes them; unix socket only.
sub start_pooler {
    my $self = shift;
    my $dir = "$self->{tmp}/pgbouncer";
    $self->{pgb_sockdir} //= $dir;
    $self->{pgb_port}    //= _free_port();
    make_path($dir);
    my $pool = int(($self->{workers} + 1) / 2) || 1;
    open my $fh, '>', "$dir/pgbouncer.ini" or die "pgbouncer.ini: $!";
    print $fh <<"INI";
[databases]
blogposter = host=$self->{pg_sockdir} port=$self->{pg_port} dbname=blogposter user=postgres

[pgbouncer]
listen_addr =
listen_port = $self->{pgb_port}
unix_socket_dir = $dir
auth_type = any
pool_mode = transaction
default_pool_size = $pool
max_client_conn = 200
server_reset_query =
ignore_startup_parameters = extra_float_digits
; PostgreSQL gone: a client waits at most 10 s for a server connection,
; then gets an error (blogposter answers 503), as docs/operations.md says
query_wait_timeout = 10
server_connect_timeout = 2
server_login_retry = 1
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
    close $fh;
    $self->_chown_pg($dir);
    my @user = $> == 0 ? ('-u', 'postgres') : ();
    $self->{pgb_pid} = _spawn(cmd => [ 'pgbouncer', @user, "$dir/pgbouncer.ini" ], out => "$dir/stdout.log");
    my $deadline = time + 10;
    until (-S "$dir/.s.PGSQL.$self->{pgb_port}") {
        die "PgBouncer did not start:\n" . ($self->_tail("$dir/stdout.log", 20) // '')
            . ($self->_tail("$dir/pgbouncer.log", 20) // '') if time > $deadline || !kill(0, $self->{pgb_pid});
        sleep 0.05;
    }
    return $self;
}

# Stops PgBouncer (SIGINT: at once, as a crash would look to its clients).
sub stop_pooler {
    my $self = shift;
    my $pid = delete $self->{pgb_pid} or return $self;
    kill 'INT', $pid;
    kill 'KILL', $pid unless defined _wait_pid($pid, 5);
    _wait_pid($pid, 5);
    return $self;
}

sub dbi_dsn {
    my $self = shift;
    return "dbi:Pg:host=$self->{pg_sockdir};port=$self->{pg_port};dbname=blogposter";
}

# The https base URL, and an absolute URL for a path ("/api/v1/health").
sub base_url { "https://127.0.0.1:$_[0]{https_port}" }
sub url      { my ($self, $path) = @_; return $self->base_url . ($path // '/') }

# A Test::Mojo whose relative URLs go to nginx over https.
sub t {
    my $self = shift;
    return $self->{t} //= do {
        my $t = Test::Mojo->new;
        $self->_setup_ua($t->ua);
        $t;
    };
}

sub ua { $_[0]->t->ua }

# A fresh user agent (own cookie jar), e.g. for a second user.
sub new_ua {
    my $self = shift;
    return $self->_setup_ua(Mojo::UserAgent->new);
}

# A fresh Test::Mojo (own cookie jar).
sub new_t {
    my $self = shift;
    my $t    = Test::Mojo->new;
    $self->_setup_ua($t->ua);
    return $t;
}

sub _setup_ua {
    my ($self, $ua) = @_;
    $ua->insecure(1);
    $ua->max_redirects(0);
    $ua->connect_timeout(5);
    $ua->request_timeout(60);
    $ua->inactivity_timeout(60);
    my $port = $self->{https_port};
    my $weak = $self;
    weaken($weak);
    $ua->on(prepare => sub {
        my ($ua, $tx) = @_;
        my $url = $tx->req->url;
        return if $url->is_abs;
        $url->scheme('https')->host('127.0.0.1')->port($weak ? $weak->{https_port} : $port);
    });
    return $ua;
}

# The text of the blogposter serve log (stderr and stdout of every start).
sub log { return _slurp($_[0]{bp_log}) // '' }

# nginx's error log and access log.
sub nginx_error_log  { return _slurp("$_[0]{nginx_prefix}/logs/error.log") // '' }
sub nginx_access_log { return _slurp("$_[0]{nginx_prefix}/logs/access.log") // '' }
sub pg_log           { return _slurp($_[0]{pg_logfile}) // '' }

# ---------------------------------------------------------------- SQL

# $h->psql($sql, @bind): runs one statement as superuser postgres in the
# test database. In list context the rows (array refs, NULL as undef); in
# scalar context the first column of the first row, or the number of rows
# affected by a statement that returns none. Dies on an SQL error.
sub psql {
    my ($self, $sql, @bind) = @_;
    my $dbh = $self->dbh;
    my $sth = $dbh->prepare($sql);
    my $n   = $sth->execute(@bind);
    if (!$sth->{NUM_OF_FIELDS}) {
        return wantarray ? () : ($n eq '0E0' ? 0 : $n);
    }
    my $rows = $sth->fetchall_arrayref;
    return @$rows if wantarray;
    return @$rows ? $rows->[0][0] : undef;
}

# The DBI handle (reconnected when the server was restarted).
sub dbh {
    my $self = shift;
    return $self->{dbh} if $self->{dbh} && $self->{dbh}->ping;
    require DBI;
    $self->{dbh}->disconnect if $self->{dbh};
    $self->{dbh} = DBI->connect($self->dbi_dsn, 'postgres', '', {
        AutoCommit          => 1,
        RaiseError          => 1,
        PrintError          => 0,
        AutoInactiveDestroy => 1,    # forked children leave it alone
        pg_server_prepare   => 0,
    }) or die "cannot connect to the test database: " . DBI->errstr;
    return $self->{dbh};
}

sub _disconnect {
    my $self = shift;
    if (my $dbh = delete $self->{dbh}) { eval { $dbh->disconnect } }
}

# ---------------------------------------------------------------- blogposter

# Environment blogposter runs with: a clean one, not the caller's.
sub bp_env {
    my ($self, %extra) = @_;
    my %env = (
        PATH           => $ENV{PATH} // '/usr/local/bin:/usr/bin:/bin',
        LANG           => 'C.UTF-8',
        TZ             => 'UTC',
        TMPDIR         => $self->{tmp},
        DATABASE_URL   => $self->bp_dsn,
        SECRET_KEY     => SECRET_KEY,
        LISTEN         => "unix:$self->{socket}",
        WORKERS        => $self->{workers},
        MIGRATIONS_DIR => $ENV{MIGRATIONS_DIR} // "$REPO/sql/migrations",
    );
    $env{MAX_BODY_BYTES} = $self->{opt}{max_body} if defined $self->{opt}{max_body};
    $env{DB_POOL_MODE}   = 'transaction' if $self->pooler;
    for my $k (qw(ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS ASAN_SYMBOLIZER_PATH)) {
        $env{$k} = $ENV{$k} if defined $ENV{$k};
    }
    my %over = (%{ $self->{opt}{env} // {} }, %extra);
    while (my ($k, $v) = each %over) {
        if (defined $v) { $env{$k} = $v } else { delete $env{$k} }
    }
    return \%env;
}

sub _bp_cmd {
    my ($self, @args) = @_;
    my @wrap = split ' ', ($ENV{BP_WRAPPER} // '');
    return (@wrap, $self->{bin}, @args);
}

# $h->start_bp(%env): starts `blogposter serve` (environment: bp_env plus
# %env; undef removes a variable) in its own process group and waits until
# the application answers /api/v1/health through nginx (200, or its own 503
# while the database is down). Options, given among %env: wait => 'ok'
# (wait for a 200), 'answer' (the default), 'socket' (only for the socket),
# 'none'. Dies, with the log's tail, when it does not come up in time.
sub start_bp {
    my ($self, %env) = @_;
    croak 'blogposter is already running (pid ' . $self->{bp_pid} . ')' if $self->{bp_pid};
    my $wait = delete $env{wait} // 'answer';
    $self->start_pooler if $self->pooler && !$self->{pgb_pid};
    unlink $self->{socket};
    my $env = $self->bp_env(%env);
    $self->{bp_pid} = _spawn(
        cmd    => [ $self->_bp_cmd('serve') ],
        env    => $env,
        out    => $self->{bp_log},
        cwd    => $self->{tmp},
    );
    $self->{bp_status} = undef;
    return $self if $wait eq 'none';
    my $deadline = time + ($ENV{BP_START_TIMEOUT} // 20);
    my $ua       = $self->{probe_ua} //= $self->new_ua->request_timeout(5);
    my $last     = '';
    while (1) {
        if (!$self->_bp_alive) {
            die sprintf "blogposter serve exited during start-up (status %s)\n%s",
                $self->{bp_status}, $self->_tail($self->{bp_log}, 40);
        }
        if (-S $self->{socket}) {
            last if $wait eq 'socket';
            my $tx  = $ua->get($self->url('/api/v1/health'));
            my $res = $tx->res;
            my $code = $res->code // 0;
            my $json = $code ? eval { $res->json } : undef;
            if ($code == 200) { last }
            if ($wait eq 'answer' && $code == 503 && ref $json eq 'HASH' && exists $json->{status}) { last }
            $last = $code ? "$code " . ($res->body // '') : ($tx->error->{message} // 'no answer');
        }
        if (time > $deadline) {
            die sprintf "blogposter did not come up within %ss (socket %s: %s; last health answer: %s)\n%s",
                $ENV{BP_START_TIMEOUT} // 20, $self->{socket},
                (-S $self->{socket} ? 'exists' : 'missing'), $last, $self->_tail($self->{bp_log}, 40);
        }
        sleep 0.05;
    }
    return $self;
}

# $h->stop_bp: SIGTERM to the master, waits for it (20 s, then SIGKILL to the
# process group) and for its workers. Returns the exit status as a shell
# would: the exit code, or 128 + the signal number. Undef if not running.
sub stop_bp {
    my ($self, %o) = @_;
    my $pid = $self->{bp_pid} or return undef;
    kill 'TERM', $pid;
    my $st = _wait_pid($pid, $o{timeout} // 20);
    if (!defined $st) {
        Test::More::diag("blogposter master $pid did not exit within 20 s of SIGTERM: killing its process group");
        kill 'KILL', -$pid;
        $st = _wait_pid($pid, 5);
    }
    $self->{bp_status} = _shell_status($st);
    delete $self->{bp_pid};
    # Its workers should be gone with it.
    my @stray = _wait_group_empty($pid, 5);
    if (@stray) {
        $self->{stray} = [ @{ $self->{stray} // [] }, @stray ];
        Test::More::diag("blogposter processes outlived the master: @stray; killing them");
        kill 'KILL', -$pid;
        _wait_group_empty($pid, 2);
    }
    unlink $self->{socket} if $o{unlink_socket};
    return $self->{bp_status};
}

# Processes left behind by a stopped master (pids), if any.
sub stray_pids { @{ $_[0]{stray} // [] } }

# Exit status of the last master that ended (see stop_bp).
sub bp_status { $_[0]{bp_status} }

# True while the master runs (reaps it when it has exited).
sub bp_running { $_[0]->_bp_alive }

sub _bp_alive {
    my $self = shift;
    my $pid  = $self->{bp_pid} or return 0;
    my $r    = waitpid($pid, WNOHANG);
    return 1 if $r == 0;
    $self->{bp_status} = _shell_status($?) if $r == $pid;
    delete $self->{bp_pid};
    return 0;
}

# Sends a signal ('HUP', 'TERM', 'USR1', ...) to the master.
sub signal_bp {
    my ($self, $sig) = @_;
    my $pid = $self->{bp_pid} or croak 'blogposter is not running';
    $sig =~ s/^SIG//;
    return kill $sig, $pid;
}

# Pids of the master's children (its workers), from /proc, sorted.
sub worker_pids {
    my $self = shift;
    my $pid  = $self->{bp_pid} or return ();
    return sort { $a <=> $b } map { $_->{pid} } grep { $_->{ppid} == $pid && $_->{state} ne 'Z' } _procs();
}

# Waits until the master has $n workers (default WORKERS); returns them.
sub wait_workers {
    my ($self, $n, $timeout) = @_;
    $n //= $self->{workers};
    my @w;
    $self->wait_until(sub { @w = $self->worker_pids; @w == $n }, $timeout // 10, "$n workers");
    return @w;
}

# Polls $cond every 50 ms until it is true; dies after $timeout seconds.
sub wait_until {
    my ($self, $cond, $timeout, $what) = @_;
    my $deadline = time + ($timeout // 10);
    while (1) {
        my $r = $cond->();
        return $r if $r;
        croak "timed out after ${\($timeout // 10)} s waiting for " . ($what // 'a condition') if time > $deadline;
        sleep 0.05;
    }
}

# $h->run_bp(@args), or $h->run_bp(\%env, @args): runs the binary with the
# harness environment (plus %env; undef removes a variable), stdin from
# /dev/null, at most $h->{run_timeout} (default 60) seconds. Returns
# (exit status as in stop_bp, stdout, stderr).
sub run_bp {
    my ($self, @args) = @_;
    my %extra = ref $args[0] eq 'HASH' ? %{ shift @args } : ();
    my $n   = ++$self->{runs};
    my $out = "$self->{tmp}/run-$n.out";
    my $err = "$self->{tmp}/run-$n.err";
    my $pid = _spawn(
        cmd => [ $self->_bp_cmd(@args) ],
        env => $self->bp_env(%extra),
        out => $out,
        err => $err,
        cwd => $self->{tmp},
    );
    my $st = _wait_pid($pid, $self->{run_timeout} // 60);
    if (!defined $st) {
        kill 'KILL', -$pid;
        $st = _wait_pid($pid, 5);
        Test::More::diag("blogposter @args: killed after " . ($self->{run_timeout} // 60) . ' s');
    }
    my ($o, $e) = (_slurp($out) // '', _slurp($err) // '');
    _append("$self->{tmp}/run_bp.log", "### blogposter @args\n$e");
    unlink $out, $err;
    return (_shell_status($st), $o, $e);
}

# ---------------------------------------------------------------- PostgreSQL

sub _setup_dirs {
    my $self = shift;
    (my $name = basename($0)) =~ s/\.t$//;
    $name =~ s/[^A-Za-z0-9_-]+/_/g;
    $name = substr($name, 0, 20);
    my $tmp = tempdir("bp-$name-XXXXXX", TMPDIR => 1, CLEANUP => 0);
    chmod 0755, $tmp or die "chmod $tmp: $!";
    $self->{tmp}        = $tmp;
    $self->{socket}     = "$tmp/bp.sock";
    $self->{bp_log}     = "$tmp/blogposter.log";
    $self->{pg_data}    = "$tmp/pg";
    $self->{pg_sockdir} = "$tmp/pgsock";
    $self->{pg_logfile} = "$tmp/pgsock/postgresql.log";
    $self->{nginx_prefix} = "$tmp/nginx";
    die "temp dir path $tmp is too long for unix sockets (set TMPDIR)\n" if length("$tmp/pgsock/.s.PGSQL.65535") > 100;
    $self->{cache} = $ENV{BP_TEST_TMP} // "$REPO/t/tmp";
    make_path($self->{cache});
    $self->{cache} = abs_path($self->{cache});
    make_path($self->{pg_sockdir});
    $self->_chown_pg($self->{pg_sockdir});
    _touch($self->{bp_log});
}

sub _find_pg {
    my $self = shift;
    my $dir  = BP::Stack::pg_bindir();
    $self->{pg_bin} = $dir;
    my $v = `$dir/pg_ctl --version` // '';
    ($self->{pg_major}) = $v =~ /\(PostgreSQL\)\s+(\d+)/;
    die "cannot tell the version of $dir/pg_ctl: $v\n" unless $self->{pg_major};
}

sub _chown_pg {
    my ($self, @paths) = @_;
    BP::Stack::chown_pg(@paths);
}

# The template cluster and the certificate, made once and shared by all the
# test files (under a lock, for prove -j).
sub _ensure_cache {
    my $self  = shift;
    my $cache = $self->{cache};
    my $tpl   = "$cache/pg$self->{pg_major}-template-r" . TEMPLATE_RECIPE;
    $self->{pg_template} = $tpl;
    $self->{cert} = "$cache/cert.pem";
    $self->{key}  = "$cache/key.pem";
    return if -f "$tpl.ok" && -s $self->{cert} && -s $self->{key};

    open my $lock, '>>', "$cache/.lock" or die "open $cache/.lock: $!";
    flock $lock, LOCK_EX or die "flock: $!";
    BP::Stack::make_cert($self->{cert}, $self->{key});
    $self->_make_template($tpl) unless -f "$tpl.ok";
    close $lock;
}

sub _make_template {
    my ($self, $tpl) = @_;
    my $bin = $self->{pg_bin};
    # initdb in a directory the postgres user can reach, then copy.
    my $stage = tempdir('bp-pgtemplate-XXXXXX', TMPDIR => 1, CLEANUP => 0);
    chmod 0755, $stage;
    $self->_chown_pg($stage);
    my $log = "$stage/initdb.log";
    # fsync off: fast, and still crash-safe as long as the machine does not
    # crash: a commit is written to the OS before it returns
    # (synchronous_commit stays on), so restart_pg('immediate') loses no
    # committed transaction.
    BP::Stack::pg_init("$stage/data", bindir => $bin, locale => BP::Stack::utf8_locale(), no_sync => 1,
        log => $log, comment => 'blogposter test cluster (t/lib/BP/Harness.pm)',
        settings => [ fsync => 'off', full_page_writes => 'off', shared_buffers => '32MB', max_connections => 100,
                      log_min_messages => 'warning', log_line_prefix => '%m [%p] %d ' ]);
    my $port = _free_port();
    BP::Stack::pg_start("$stage/data", bindir => $bin, log => "$stage/pg.log", port => $port, sockdir => $stage,
                        ctl_log => $log);
    my $ok = eval { BP::Stack::pg_createdb('blogposter', bindir => $bin, sockdir => $stage, port => $port, log => $log); 1 };
    my $err = $@;
    my ($stopped, $out) = BP::Stack::pg_stop("$stage/data", bindir => $bin, mode => 'fast', ctl_log => $log);
    die $err unless $ok;
    die "template cluster did not stop:\n$out" unless $stopped;
    unlink "$stage/data/postmaster.opts";
    my $new = "$tpl.new.$$";
    remove_tree($new, $tpl);
    unlink "$tpl.ok";
    my $st = _run(cmd => [ 'cp', '-a', "$stage/data", $new ], out => $log);
    die "cp template failed:\n" . (_slurp($log) // '') if $st;
    rename $new, $tpl or die "rename $new: $!";
    _touch("$tpl.ok");
    remove_tree($stage);
    # Templates of other recipes or versions are of no more use.
    for my $old (glob "$self->{cache}/pg*-template-r*") {
        next if $old eq $tpl || $old eq "$tpl.ok";
        if ($old =~ /\.ok$/) { unlink $old } else { remove_tree($old) }
    }
}

# Copies the template into this test's temp dir and configures it.
sub _init_pg {
    my $self = shift;
    my $st = _run(cmd => [ 'cp', '-a', $self->{pg_template}, $self->{pg_data} ], out => "$self->{tmp}/cp.log");
    die "cp -a $self->{pg_template} failed: " . (_slurp("$self->{tmp}/cp.log") // '') if $st;
    $self->{pg_port} = _free_port();
    BP::Stack::pg_conf($self->{pg_data}, comment => 'this test file', port => $self->{pg_port},
                       sockdir => $self->{pg_sockdir});
}

# Starts the cluster (pg_ctl -w); dies with the server log on failure.
sub start_pg {
    my $self = shift;
    BP::Stack::pg_start($self->{pg_data}, bindir => $self->{pg_bin}, log => $self->{pg_logfile},
                        ctl_log => "$self->{tmp}/pg_ctl.log");
    $self->{pg_running} = 1;
    return $self;
}

# Stops the cluster: mode 'fast' (default), 'smart' or 'immediate'.
sub stop_pg {
    my ($self, $mode) = @_;
    $self->_disconnect;
    return $self unless $self->{pg_running} || -f "$self->{pg_data}/postmaster.pid";
    my ($stopped, $out) = BP::Stack::pg_stop($self->{pg_data}, bindir => $self->{pg_bin}, mode => $mode // 'fast',
                                             ctl_log => "$self->{tmp}/pg_ctl.log");
    die "PostgreSQL did not stop:\n$out" unless $stopped || $self->{tearing_down};
    $self->{pg_running} = 0;
    return $self;
}

sub restart_pg {
    my ($self, $mode) = @_;
    $self->stop_pg($mode);
    return $self->start_pg;
}

sub pg_running { $_[0]{pg_running} }

# The cluster's data directory; $h->pg_data($dir) makes start_pg, stop_pg
# and the teardown use the (stopped) cluster in $dir from now on, e.g. a
# restored copy of the first. Its configuration must give it the socket
# directory and port of the first (a copy of its postgresql.conf does).
sub pg_data {
    my ($self, $dir) = @_;
    if (defined $dir) {
        croak 'stop the cluster before changing its data directory' if $self->{pg_running};
        $self->{pg_data} = $dir;
    }
    return $self->{pg_data};
}

# The postmaster's pid (from postmaster.pid), or undef when it is not running.
sub pg_pid {
    my $self = shift;
    my ($pid) = (_slurp("$self->{pg_data}/postmaster.pid") // '') =~ /^(\d+)/;
    return $pid;
}

# ---------------------------------------------------------------- nginx

# Generates nginx's configuration from the two templates; returns the path
# of the main file.
sub _write_nginx_conf {
    my $self = shift;
    return BP::Stack::nginx_conf($self->{nginx_prefix},
        HTTPS_PORT       => $self->{https_port},
        HTTP_PORT        => $self->{http_port},
        SOCKET           => $self->{socket},
        CERT             => $self->{cert},
        KEY              => $self->{key},
        MAX_BODY_BYTES   => $self->{opt}{max_body} // $self->{opt}{env}{MAX_BODY_BYTES},
        AUTH_RATE        => '1000r/s',
        AUTH_BURST       => 1000,
        # far above any test's rate, also a client retrying at once
        # while blogposter is down (t/faults.t: thousands of 502s a second)
        WRITE_RATE       => '100000r/s',
        WRITE_BURST      => 100000,
        KEEP_CONN        => ($ENV{BP_FASTCGI_KEEP_CONN} // 'off'),
        WORKER_PROCESSES => 1,
        %{ $self->{opt}{nginx} // {} },
        ($self->{opt}{servers} ? (SERVERS => $self->{opt}{servers}) : ()),
    );
}

sub _start_nginx {
    my $self = shift;
    $self->{https_port} = _free_port();
    $self->{http_port}  = _free_port($self->{https_port});
    my $conf   = $self->_write_nginx_conf;
    my $prefix = $self->{nginx_prefix};
    _spew("$prefix/logs/error.log", '');
    $self->{nginx_pid} = _spawn(
        cmd => [ 'nginx', '-p', $prefix, '-c', $conf, '-e', "$prefix/logs/error.log" ],
        env => { PATH => $ENV{PATH} // '/usr/sbin:/usr/bin:/sbin:/bin' },
        out => "$prefix/logs/stderr.log",
        cwd => $prefix,
    );
}

# Waits until nginx accepts connections; when it failed (a port taken
# meanwhile by someone else), starts it again on other ports.
sub _wait_nginx {
    my $self = shift;
    for my $try (1 .. 5) {
        my $deadline = time + 10;
        while (time < $deadline) {
            my $r = waitpid($self->{nginx_pid}, WNOHANG);
            if ($r == $self->{nginx_pid}) {
                my $err = $self->nginx_error_log . (_slurp("$self->{nginx_prefix}/logs/stderr.log") // '');
                delete $self->{nginx_pid};
                die "nginx failed to start:\n$err" unless $err =~ /Address already in use/ && $try < 5;
                last;
            }
            my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{https_port}, Timeout => 1);
            return 1 if $s && close $s;
            sleep 0.02;
        }
        die "nginx did not listen within 10 s:\n" . $self->nginx_error_log if $self->{nginx_pid};
        $self->_start_nginx;
    }
}

sub _stop_nginx {
    my $self = shift;
    my $pid  = delete $self->{nginx_pid} or return;
    kill 'TERM', $pid;
    unless (defined _wait_pid($pid, 10)) { kill 'KILL', -$pid; _wait_pid($pid, 2) }
    _wait_group_empty($pid, 5) and kill 'KILL', -$pid;
}

# ---------------------------------------------------------------- teardown

# Stops blogposter, nginx and PostgreSQL, checks the blogposter logs for
# sanitizer reports (one assertion, when the test can still take one) and
# removes the temp dir. Runs once; called by done_testing, DESTROY and END.
sub teardown {
    my ($self, %o) = @_;
    return if $self->{torn_down} || !defined $self->{pid} || $self->{pid} != $$;
    $self->{torn_down}    = 1;
    $self->{tearing_down} = 1;
    delete $LIVE{"$self"};
    local ($@, $!, $?);
    eval { $self->stop_bp if $self->{bp_pid}; 1 } or warn "stop_bp: $@";
    eval { $self->_stop_nginx; 1 }               or warn "stop nginx: $@";
    $self->_disconnect;
    eval { $self->stop_pooler; 1 }               or warn "stop pooler: $@";
    eval { $self->stop_pg('immediate'); 1 }      or warn "stop_pg: $@";
    delete $self->{t};
    delete $self->{probe_ua};

    unless ($o{quiet}) {
        my $text = $self->log . "\n" . (_slurp("$self->{tmp}/run_bp.log") // '');
        my @hits = _sanitizer_reports($text);
        my $name = 'no sanitizer report in the blogposter logs';
        my $tb   = Test::More->builder;
        my $plan = $tb->has_plan;
        if (!test2_is_testing_done() && !(defined $plan && $plan =~ /^\d+$/)) {
            local $Test::Builder::Level = $Test::Builder::Level + 1;
            Test::More::ok(!@hits, $name) or Test::More::diag(join "\n", @hits);
        } elsif (@hits) {
            Test::More::diag("NOT OK: $name:\n" . join "\n", @hits);
        }
        if (!$tb->is_passing) {
            Test::More::diag("blogposter log (tail):\n" . $self->_tail($self->{bp_log}, 30));
            Test::More::diag("nginx error log (tail):\n" . $self->_tail("$self->{nginx_prefix}/logs/error.log", 10));
        }
    }
    if ($ENV{BP_KEEP_TMP}) {
        Test::More::diag("BP_KEEP_TMP: kept $self->{tmp}");
    } elsif ($self->{tmp}) {
        remove_tree($self->{tmp});
    }
    $self->{tearing_down} = 0;
}

sub _sanitizer_reports {
    my $text  = shift;
    my @lines = split /\n/, $text;
    my @hits;
    for my $i (0 .. $#lines) {
        next unless $lines[$i] =~ /ERROR: \w*Sanitizer|LeakSanitizer|\bruntime error:|SUMMARY: \w*Sanitizer/;
        my $end = $i + 30 > $#lines ? $#lines : $i + 30;
        push @hits, join "\n", @lines[$i .. $end];
        last if @hits >= 3;
    }
    return @hits;
}

sub DESTROY {
    my $self = shift;
    return if ${^GLOBAL_PHASE} eq 'DESTRUCT' && $self->{torn_down};
    $self->teardown;
}

END {
    for my $h (grep { defined } values %LIVE) { $h->teardown }
}

# ---------------------------------------------------------------- processes

# Forks and execs cmd in a new session (its own process group), stdin from
# /dev/null, stdout to out, stderr to err (default: out), appending. Returns
# the pid.
sub _spawn {
    my %a   = @_;
    my $pid = fork // die "fork: $!";
    return $pid if $pid;
    eval {
        POSIX::setsid();
        chdir($a{cwd} // '/');
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $a{out} or die "open $a{out}: $!";
        if ($a{err}) { open STDERR, '>>', $a{err} or die "open $a{err}: $!" }
        else         { open STDERR, '>&', \*STDOUT or die "dup: $!" }
        %ENV = %{ $a{env} } if $a{env};
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP PIPE CHLD);
        exec { $a{cmd}[0] } @{ $a{cmd} } or die "exec $a{cmd}[0]: $!\n";
    };
    print STDERR $@;
    POSIX::_exit(127);
}

# Runs cmd to completion; returns its wait status ($?).
sub _run {
    my %a   = @_;
    my $pid = _spawn(%a);
    my $st  = _wait_pid($pid, $a{timeout} // 300);
    if (!defined $st) { kill 'KILL', -$pid; $st = _wait_pid($pid, 5) // -1 }
    return $st;
}

# Waits for a child; returns its wait status, or undef after $timeout s.
sub _wait_pid {
    my ($pid, $timeout) = @_;
    my $deadline = time + $timeout;
    my $delay    = 0.002;
    while (1) {
        my $r = waitpid($pid, WNOHANG);
        return $? if $r == $pid;
        return 0 if $r == -1;    # not our child, or already reaped
        return undef if time > $deadline;
        sleep $delay;
        $delay = 0.05 if ($delay *= 2) > 0.05;
    }
}

sub _shell_status {
    my $st = shift;
    return undef unless defined $st;
    return ($st & 127) ? 128 + ($st & 127) : $st >> 8;
}

# Live processes of process group $pgid, waiting up to $timeout s for none.
sub _wait_group_empty {
    my ($pgid, $timeout) = @_;
    my $deadline = time + $timeout;
    while (1) {
        my @p = map { $_->{pid} } grep { $_->{pgrp} == $pgid && $_->{state} ne 'Z' } _procs();
        return () unless @p;
        return @p if time > $deadline;
        sleep 0.05;
    }
}

# Every process: { pid, ppid, pgrp, state, comm }, from /proc/*/stat.
sub _procs {
    my @p;
    opendir my $d, '/proc' or return ();
    for my $pid (grep { /^\d+$/ } readdir $d) {
        open my $fh, '<', "/proc/$pid/stat" or next;
        my $s = <$fh> // next;
        my $r = rindex $s, ')';
        next if $r < 0;
        my $comm = substr $s, index($s, '(') + 1, $r - index($s, '(') - 1;
        my ($state, $ppid, $pgrp) = split ' ', substr($s, $r + 2);
        push @p, { pid => $pid, ppid => $ppid, pgrp => $pgrp, state => $state, comm => $comm };
    }
    return @p;
}

# A TCP port on 127.0.0.1 that is free now, below the ephemeral range (so
# that no outgoing connection takes it before nginx binds it).
sub _free_port {
    my %not = map { $_ => 1 } grep { defined } @_;
    for (1 .. 200) {
        my $port = 15000 + int rand 17000;
        next if $not{$port};
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Proto => 'tcp', Listen => 1, ReuseAddr => 1)
            or next;
        close $s;
        return $port;
    }
    die "no free TCP port found\n";
}

# ---------------------------------------------------------------- files

# A whole file's bytes, or undef (BP::Stack's).
sub _slurp { return BP::Stack::_slurp(@_) }

sub _spew {
    my ($f, $s) = @_;
    open my $fh, '>:raw', $f or die "write $f: $!";
    print $fh $s;
    close $fh or die "close $f: $!";
}

sub _append {
    my ($f, $s) = @_;
    open my $fh, '>>:raw', $f or die "append $f: $!";
    print $fh $s;
    close $fh or die "close $f: $!";
}

sub _touch { my $f = shift; open my $fh, '>>', $f or die "touch $f: $!"; close $fh }

sub _tail {
    my ($self, $file, $n) = @_;
    my $text  = _slurp($file) // "($file: missing)";
    my @lines = split /\n/, $text;
    splice @lines, 0, @lines - $n if @lines > $n;
    return join("\n", @lines) . "\n";
}

1;
