#!/usr/bin/env perl
# A brake on password guessing, per account and in the database: after 5
# failed password checks in 15 minutes (login, PUT /me/password, DELETE
# /me), the next is 429 with Retry-After, even with the right password,
# until the window is over; then the right password works and the count
# starts again. Other accounts are not affected. nginx also limits the
# account endpoints that check a password, per client address.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use BP::Pin;    # before any Mojo module

use Test::More;

use BP::Harness;
use BP::Util qw(error_is);
use BP::AuthTest qw(register bearer api_key_hdr PASSWORD);

my $h = BP::Harness->new(workers => 2);
my $NEW = 'another good password 42';

sub req {
    my ($method, $path, $hdrs, @body) = @_;
    my $t = $h->new_t;
    my $tx = $t->ua->build_tx($method => $h->url($path), $hdrs, @body);
    $t->request_ok($tx);
    return $t;
}

sub login_t { req(POST => '/api/v1/auth/login', {}, json => { email => $_[0]{email}, password => $_[1] }) }

sub throttled {
    my ($t, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    error_is($t, 429, 'too_many_requests', undef, $name);
    my $ra = $t->tx->res->headers->header('Retry-After') // '';
    ok($ra =~ /^\d+$/ && $ra >= 1 && $ra <= 900, "$name: Retry-After $ra within the 15 minutes");
}

sub fails { $h->psql(q{SELECT failed_password_count FROM users WHERE id = $1}, $_[0]{user}{id}) }

my $a = register($h, prefix => 'throttle-a');
my $b = register($h, prefix => 'throttle-b');
my $ka = api_key_hdr($a->{api_key});
my $kb = api_key_hdr($b->{api_key});

# ---------------------------------------------------------------- PUT /me/password, DELETE /me

for my $i (1 .. 5) {
    my $t = req(PUT => '/api/v1/me/password', $ka, json => { current_password => "wrong $i guess!", new_password => $NEW });
    error_is($t, 401, 'invalid_credentials', undef, "wrong password $i: 401");
}
is(fails($a), 5, 'five failures counted');
throttled(req(PUT => '/api/v1/me/password', $ka, json => { current_password => PASSWORD, new_password => $NEW }),
          'the 6th, with the right password');
throttled(req(DELETE => '/api/v1/me', $ka, json => { password => PASSWORD }), 'DELETE /me');
throttled(login_t($a, PASSWORD), 'login of the same account');
is(fails($a), 5, 'refused checks count nothing more');
is(req(GET => '/api/v1/me', $ka)->tx->res->code, 200, 'the account still works otherwise');
is($h->psql(q{SELECT count(*) FROM users WHERE id = $1}, $a->{user}{id}), 1, 'and was not deleted');

# Another account is unaffected.
error_is(req(PUT => '/api/v1/me/password', $kb, json => { current_password => 'nope nope nope', new_password => $NEW }),
         401, 'invalid_credentials', undef, 'other account: wrong password is a 401');
is(login_t($b, PASSWORD)->tx->res->code, 200, 'other account: login works');
is(fails($b), 0, 'other account: a right password resets its count');

# The window passes: the right password works and resets the count.
$h->psql(q{UPDATE users SET failed_password_at = failed_password_at - interval '15 minutes 1 second' WHERE id = $1},
         $a->{user}{id});
my $t = req(PUT => '/api/v1/me/password', $ka, json => { current_password => PASSWORD, new_password => $NEW });
$t->status_is(200, 'after the window, the right password works');
is(fails($a), 0, 'and the count starts again');
error_is(req(PUT => '/api/v1/me/password', $ka, json => { current_password => 'wrong again!!', new_password => PASSWORD }),
         401, 'invalid_credentials', undef, 'a wrong one after that is a 401, not a 429');

# ---------------------------------------------------------------- login

my $c = register($h, prefix => 'throttle-c');
for my $i (1 .. 5) {
    error_is(login_t($c, "wrong $i password"), 401, 'invalid_credentials', undef, "login wrong $i: 401");
}
throttled(login_t($c, PASSWORD), 'login: the 6th, right password');
is(login_t($b, PASSWORD)->tx->res->code, 200, 'another account logs in');
$h->psql(q{UPDATE users SET failed_password_at = now() - interval '16 minutes' WHERE id = $1}, $c->{user}{id});
login_t($c, PASSWORD)->status_is(200, 'login after the window');

# Failures spread over more than the window never block: the count is per window.
$h->psql(q{UPDATE users SET failed_password_count = 4, failed_password_at = now() - interval '20 minutes'
           WHERE id = $1}, $c->{user}{id});
error_is(login_t($c, 'wrong wrong wrong'), 401, 'invalid_credentials', undef, 'an old window does not count');
is(fails($c), 1, 'a new window starts');

# ---------------------------------------------------------------- nginx

# A stack with a low limit: the account endpoints that check a password
# share it per client address; GET /me is not limited.
{
    my $n = BP::Harness->new(nginx => { AUTH_RATE => '1r/m', AUTH_BURST => 2 });
    my $d = register($n, prefix => 'throttle-nginx');
    my $kd = api_key_hdr($d->{api_key});
    my @codes;
    for my $i (1 .. 4) {
        my $tx = $n->new_ua->put($n->url('/api/v1/me/password'), $kd,
                                 json => { current_password => "wrong $i", new_password => $NEW });
        push @codes, $tx->res->code;
    }
    my $tx = $n->new_ua->delete($n->url('/api/v1/me'), $kd, json => { password => 'wrong' });
    push @codes, $tx->res->code;
    is("@codes", '401 401 401 429 429', 'PUT /me/password and DELETE /me: limited by nginx');
    is($tx->res->headers->content_type, 'application/json', 'the 429 is JSON');
    is(eval { $tx->res->json->{error}{code} }, 'too_many_requests', 'with the API error code');
    ok($tx->res->headers->header('Retry-After'), 'and Retry-After');
    is(join(' ', map { $n->new_ua->get($n->url('/api/v1/me'), $kd)->res->code } 1 .. 5), '200 200 200 200 200',
       'GET /me is not limited');
}

done_testing;
