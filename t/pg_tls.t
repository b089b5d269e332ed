#!/usr/bin/env perl
# TLS to PostgreSQL, as to a managed database: the test's cluster listens on
# 127.0.0.1 with ssl=on and a server certificate for "localhost" signed by
# a test CA (made here with the openssl CLI), and takes only hostssl
# connections over TCP, with a password.
#   - sslmode=verify-full with that CA and host=localhost: migrate works,
#     serve answers health 200, and its connections are encrypted;
#   - a CA that did not sign the certificate, a host name the certificate
#     does not name (127.0.0.1), a root certificate file that is missing:
#     migrate and serve refuse at start, naming DATABASE_URL and saying why,
#     without the password.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use BP::Harness;
use BP::Stack ();
use File::Path qw(make_path);

my $h   = BP::Harness->new(start_bp => 0);    # migrated, not serving
my $dir = $h->tmpdir . '/tls';
make_path($dir);
$h->{run_timeout} = 20;    # a serve that does not refuse would run on

sub openssl {
    my ($st, $out) = BP::Stack::run_cmd([ 'openssl', @_ ]);
    die "openssl @_[0..1] failed:\n$out" if $st;
}

# Two CAs; a server certificate for localhost signed by the first.
for my $ca (qw(ca other-ca)) {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', 2, '-subj', "/CN=blogposter test $ca",
            '-keyout', "$dir/$ca.key", '-out', "$dir/$ca.crt");
}
open my $ext, '>', "$dir/server.ext" or die $!;
print $ext "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n";
close $ext;
openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', "$dir/server.key", '-out', "$dir/server.csr");
openssl('x509', '-req', '-in', "$dir/server.csr", '-CA', "$dir/ca.crt", '-CAkey', "$dir/ca.key", '-CAcreateserial',
        '-days', 2, '-extfile', "$dir/server.ext", '-out', "$dir/server.crt");
chmod 0600, "$dir/server.key";
BP::Stack::chown_pg("$dir/server.key", "$dir/server.crt");

# The cluster: TCP on 127.0.0.1, TLS, and over TCP only hostssl with a password.
my $data = $h->tmpdir . '/pg';
BP::Stack::pg_conf($data, comment => 'TLS', settings => [
    listen_addresses => '127.0.0.1',
    ssl              => 'on',
    ssl_cert_file    => "$dir/server.crt",
    ssl_key_file     => "$dir/server.key",
]);
{
    open my $fh, '<', "$data/pg_hba.conf" or die $!;
    local $/;
    my $hba = <$fh>;
    close $fh;
    open $fh, '>', "$data/pg_hba.conf" or die $!;
    print $fh "hostnossl all all 0.0.0.0/0 reject\nhostssl blogposter app 127.0.0.1/32 scram-sha-256\n"
            . "host all all 0.0.0.0/0 reject\n$hba";
    close $fh;
}
$h->restart_pg;
my $PW = 'tls-secret-pw-8d2f';
$h->psql("CREATE ROLE app LOGIN SUPERUSER PASSWORD '$PW'");
my $port = $h->pg_port;

sub url {
    my ($host, $ca) = @_;
    return "postgres://app:$PW\@$host:$port/blogposter?sslmode=verify-full&sslrootcert=$ca";
}

# ---------------------------------------------------------------- verified

my $good = url('localhost', "$dir/ca.crt");
{
    my ($st, $out, $err) = $h->run_bp({ DATABASE_URL => $good }, 'migrate');
    is($st, 0, 'migrate over verify-full with the right CA and host=localhost') or diag($err);
}
$h->start_bp(DATABASE_URL => $good, wait => 'ok');
$h->t->get_ok('/api/v1/health')->status_is(200, 'serve answers health 200 over TLS');
is($h->psql(q{SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
               WHERE a.application_name = 'blogposter' AND a.usename = 'app' AND s.ssl AND s.version LIKE 'TLS%'}) > 0,
   1, "serve's connections are TLS ones");
is($h->stop_bp, 0, 'serve stops');

# ---------------------------------------------------------------- refused

for my $case (
    [ 'a CA that did not sign the certificate', url('localhost', "$dir/other-ca.crt"), qr/certificate verify failed/ ],
    [ 'a host name not in the certificate (127.0.0.1)', url('127.0.0.1', "$dir/ca.crt"), qr/does not match host name "127\.0\.0\.1"/ ],
    [ 'a root certificate file that is missing', url('localhost', "$dir/nope.crt"), qr/root certificate file .* does not exist/ ],
) {
    my ($what, $url, $why) = @$case;
    for my $cmd (qw(migrate serve)) {
        my ($st, $out, $err) = $h->run_bp({ DATABASE_URL => $url }, $cmd);
        is($st, 1, "$what: $cmd refuses to start");
        like($err, qr/^blogposter $cmd: DATABASE_URL postgres:\/\/app:\*\*\*\@\S+: cannot connect to the database: .*$why/m,
             '... naming DATABASE_URL (password masked) and why');
        unlike($out . $err, qr/\Q$PW\E/, '... without the password');
    }
}

done_testing;
