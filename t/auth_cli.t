#!/usr/bin/env perl
# The operator commands create-admin and create-user: the password comes
# on standard input only, the API key is printed once, an existing account
# is promoted (create-admin) or refused (create-user).
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA qw(sha256_hex);
use Test::More;

use BP::Harness;
use BP::Util qw(unique_email);
use BP::AuthTest qw(run_bp_stdin login bearer api_key_hdr user_row register PASSWORD);

my $h = BP::Harness->new;

sub user_by_email { return scalar $h->psql('SELECT id FROM users WHERE email = $1', $_[0]) }

# ---------------------------------------------------------------- create-admin, new account
{
    my $email = unique_email('cli-admin');
    my ($st, $out, $err) = run_bp_stdin($h, PASSWORD . "\n", 'create-admin', '--email', "  \U$email\E ");
    is($st, 0, 'create-admin exits 0') or diag($err);
    my ($key) = $out =~ /^api_key: (\S+)$/m;
    like($key // '', qr/^bp_[A-Za-z0-9_-]{43}$/, 'prints the API key');
    is(() = $out =~ /bp_[A-Za-z0-9_-]{43}/g, 1, '... once');
    like($out, qr/created \Q$email\E \(id [0-9a-f-]{36}, role admin\)/, 'says what it made');
    unlike("$out$err", qr/\Q${\PASSWORD}\E/, 'the password is never echoed');
    my $id = user_by_email($email);
    ok($id, 'stored with the email normalised');
    my $row = user_row($h, $id);
    is($row->{role}, 'admin', 'role admin');
    like($row->{password_hash}, qr/^\$y\$/, 'a yescrypt hash');
    is($row->{api_key_hash_hex}, sha256_hex($key), 'the key is stored as its SHA-256');
    my $s = login($h, $email, PASSWORD);
    ok($s, 'the admin logs in with the piped password');
    $h->new_t->get_ok('/api/v1/admin/users', api_key_hdr($key))->status_is(200, 'the printed key opens admin paths');
    $h->new_t->get_ok('/api/v1/admin/users', bearer($s->{token}))->status_is(200, 'so does the token');
}

# ---------------------------------------------------------------- refused on the command line
for my $args ([ '--password', PASSWORD ], [ '--password=' . PASSWORD ], [ '-p', PASSWORD ]) {
    my $email = unique_email('argv');
    for my $cmd ('create-admin', 'create-user') {
        my ($st, $out, $err) = run_bp_stdin($h, PASSWORD . "\n", $cmd, '--email', $email, @$args);
        is($st, 2, "$cmd $args->[0]: refused (exit 2)");
        like($err, qr/standard input/, '... saying to use standard input');
        is(user_by_email($email), undef, '... and nothing created');
    }
}

# ---------------------------------------------------------------- bad input
{
    my @cases = (
        [ 'no password for a new admin', undef, 1, qr/needs one/, 'create-admin' ],
        [ 'no password for a new user', '', 1, qr/needs one/, 'create-user' ],
        [ 'empty line', "\n", 1, qr/needs one/, 'create-user' ],
        [ '11 characters', ('a' x 11) . "\n", 1, qr/12 to 128/, 'create-user' ],
        [ '129 characters', ('é' x 129) . "\n", 1, qr/12 to 128/, 'create-admin' ],
        [ 'invalid UTF-8', "\xff" x 20 . "\n", 1, qr/12 to 128/, 'create-user' ],
        [ 'a NUL byte', "abcdefghijkl\0mnop\n", 1, qr/NUL/, 'create-user' ],
        [ 'a 10000-byte line', ('a' x 10000) . "\n", 1, qr/12 to 128/, 'create-admin' ],
    );
    for my $c (@cases) {
        my ($name, $in, $want, $msg, $cmd) = @$c;
        my $email = unique_email('bad');
        utf8::encode($in) if defined $in && utf8::is_utf8($in);
        my ($st, $out, $err) = run_bp_stdin($h, $in, $cmd, '--email', $email);
        is($st, $want, "$cmd, $name: exit $want");
        like($err, $msg, "... $msg");
        is(user_by_email($email), undef, '... nothing created');
    }
    for my $bad ('not-an-email', 'a@b@example.com', 'a b@example.com', ('x' x 250) . '@example.com', '') {
        my ($st, $out, $err) = run_bp_stdin($h, PASSWORD . "\n", 'create-admin', '--email', $bad);
        is($st, 1, "email '" . substr($bad, 0, 20) . "': exit 1");
        like($err, qr/not a valid email/, '... says why');
    }
    my ($st, $out, $err) = run_bp_stdin($h, PASSWORD . "\n", 'create-admin');
    is($st, 2, 'no --email: exit 2');
    like($err, qr/usage: blogposter create-admin --email/, '... with the usage');
    ($st, $out, $err) = run_bp_stdin($h, PASSWORD . "\n", 'create-user', '--email', 'a@example.com', 'extra');
    is($st, 2, 'an extra argument: exit 2');
    ($st, $out, $err) = run_bp_stdin($h, undef, 'create-admin', '--help');
    is($st, 0, '--help: exit 0');
    like($out, qr/standard input/, '--help says where the password comes from');
    like($out, qr/keeps its password and API key/, '--help says what promotion keeps');
    ($st, $out, $err) = run_bp_stdin($h, PASSWORD . "\n", { DATABASE_URL => 'host=/nonexistent dbname=x' },
        'create-user', '--email', unique_email('nodb'));
    is($st, 1, 'no database: exit 1');
    like($err, qr/cannot connect/, '... says so');
}

# ---------------------------------------------------------------- CRLF, multi-byte
{
    my $email = unique_email('crlf');
    my $pw = 'pässwörd-ünïcödé';
    my $bytes = "$pw\r\nsecond line ignored\n";
    utf8::encode($bytes);
    my ($st) = run_bp_stdin($h, $bytes, 'create-user', '--email', $email);
    is($st, 0, 'password with CRLF and more lines');
    ok(login($h, $email, $pw), 'logs in with the first line without its CR LF');
    is(user_row($h, user_by_email($email))->{role}, 'user', 'create-user makes a user');
}

# ---------------------------------------------------------------- existing accounts
{
    my $u = register($h, prefix => 'promote');
    my ($st, $out, $err) = run_bp_stdin($h, PASSWORD . "\n", 'create-user', '--email', $u->{email});
    is($st, 1, 'create-user on an existing email: exit 1');
    like($err, qr/already exists/, '... already exists');

    $h->psql('UPDATE users SET is_active = false WHERE id = $1', $u->{user}{id});
    ($st, $out, $err) = run_bp_stdin($h, undef, 'create-admin', '--email', uc $u->{email});
    is($st, 0, 'create-admin on an existing user, nothing piped: exit 0') or diag($err);
    like($out, qr/promoted .*role admin/, 'says it promoted');
    unlike($out, qr/bp_[A-Za-z0-9_-]{43}/, 'prints no key');
    my $row = user_row($h, $u->{user}{id});
    ok($row->{role} eq 'admin' && $row->{is_active}, 'an active admin now');
    is($row->{token_version}, 0, 'tokens not revoked');
    $h->new_t->get_ok('/api/v1/admin/users', bearer($u->{token}))->status_is(200, 'the old token works, as admin');
    $h->new_t->get_ok('/api/v1/me', api_key_hdr($u->{api_key}))->status_is(200, 'the API key is kept');
    ok(login($h, $u->{email}, PASSWORD), 'the password is kept');

    my $new = 'a brand new password';
    ($st, $out, $err) = run_bp_stdin($h, "$new\n", 'create-admin', '--email', $u->{email});
    is($st, 0, 'create-admin with a piped password on an existing admin');
    like($out, qr/password replaced/, 'says the password was replaced');
    ok(!login($h, $u->{email}, PASSWORD), 'the old password is gone');
    ok(login($h, $u->{email}, $new), 'the new one works');
    my $t = $h->new_t;
    $t->get_ok('/api/v1/me', bearer($u->{token}))->status_is(401, 'old tokens revoked');
    $t->get_ok('/api/v1/me', api_key_hdr($u->{api_key}))->status_is(200, 'the key still works');
    is($h->psql('SELECT count(*) FROM users WHERE email = $1', $u->{email}), 1, 'still one account');
}

done_testing;
