#!/usr/bin/env perl
# ENABLE_USER_REGISTRATION=false: nobody registers through the API; the
# operator's create-user still makes accounts, and they log in.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use BP::Harness;
use BP::Util qw(error_is unique_email);
use BP::AuthTest qw(run_bp_stdin bearer PASSWORD);

my $h = BP::Harness->new(env => { ENABLE_USER_REGISTRATION => 'false' });
my $t = $h->t;

for my $body ({ email => unique_email('closed'), password => PASSWORD },
              { email => 'not-an-email', password => 'short' },
              { anything => 1 }) {
    $t->post_ok('/api/v1/auth/register', json => $body);
    error_is($t, 403, 'registration_disabled', undef,
        'register -> 403 registration_disabled (' . join(',', sort keys %$body) . ')');
    ok(!defined $t->tx->res->headers->header('Set-Cookie'), '... no cookie');
}
is($h->psql('SELECT count(*) FROM users'), 0, 'no account was made');

# the request errors the dispatcher answers come first, as everywhere
$t->post_ok('/api/v1/auth/register', { 'Content-Type' => 'text/plain' }, 'x');
error_is($t, 415, 'unsupported_media_type', undef, 'not JSON: still 415');

# the sign-up page asks first: no credential needed, and not rate-limited
for (1 .. 3) {
    $t->get_ok('/api/v1/auth/config')->status_is(200)->json_is({ registration_open => Mojo::JSON->false })
      ->header_like('Cache-Control' => qr/no-store/);
}

my $email = unique_email('made-by-operator');
my ($st, $out, $err) = run_bp_stdin($h, PASSWORD . "\n", 'create-user', '--email', $email);
is($st, 0, 'create-user works with registration closed') or diag($err);
$t->post_ok('/api/v1/auth/login', json => { email => $email, password => PASSWORD })->status_is(200, 'and that user logs in');
$t->get_ok('/api/v1/me', bearer($t->tx->res->json->{token}))->status_is(200);

done_testing;
