#!/usr/bin/env perl
# POST /api/v1/auth/login and /auth/logout: the session cookie, one answer
# for a wrong email and a wrong password, deactivated accounts, legacy
# bcrypt hashes upgraded on login, and revoking every token.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use BP::Harness;
use BP::Util qw(error_is unique_email);
use BP::AuthTest qw(register login bearer api_key_hdr user_row PASSWORD);

my $h = BP::Harness->new;
my $LOGIN  = '/api/v1/auth/login';
my $LOGOUT = '/api/v1/auth/logout';

my $acct = register($h);
my $email = $acct->{email};

# ---------------------------------------------------------------- success and the cookie
{
    my $t = $h->new_t;
    $t->post_ok($LOGIN, json => { email => $email, password => PASSWORD })->status_is(200)
      ->header_like('Cache-Control' => qr/no-store/);
    my $b = $t->tx->res->json;
    is_deeply([ sort keys %$b ], [qw(expires_at token user)], 'login: user, token, expires_at');
    is($b->{user}{id}, $acct->{user}{id}, 'the right user');
    is($b->{user}{api_key_prefix}, $acct->{user}{api_key_prefix}, 'user object as at registration');
    like($b->{expires_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'expires_at');

    my $sc = $t->tx->res->headers->header('Set-Cookie') // '';
    my ($first, @attrs) = split /;\s*/, $sc;
    is($first, "bp_session=$b->{token}", 'the cookie holds the token');
    my %a = map { my ($k, $v) = split /=/, $_, 2; (lc $k => $v // 1) } @attrs;
    ok($a{httponly}, 'HttpOnly');
    ok($a{secure}, 'Secure');
    is($a{samesite}, 'Strict', 'SameSite=Strict');
    is($a{path}, '/api/', 'Path=/api/');
    is($a{'max-age'}, 7 * 86400, 'Max-Age is the token lifetime');
    ok(!exists $a{domain}, 'no Domain (host-only)');

    # the cookie alone authenticates (the user agent's jar sends it back)
    $t->get_ok('/api/v1/me')->status_is(200)->json_is('/user/id', $acct->{user}{id});

    # a cookie-authenticated write without a JSON content type: 415
    $t->post_ok('/api/v1/me/api-key');
    error_is($t, 415, 'unsupported_media_type', undef, 'cookie POST without Content-Type -> 415');
    $t->post_ok('/api/v1/me/api-key', { 'Content-Type' => 'text/plain' }, '');
    error_is($t, 415, 'unsupported_media_type', undef, 'cookie POST with text/plain -> 415');
    $t->post_ok('/api/v1/me/api-key', { 'Content-Type' => 'application/x-www-form-urlencoded' }, 'a=b');
    error_is($t, 415, 'unsupported_media_type', undef, 'cookie POST as a form -> 415');
    $t->delete_ok('/api/v1/me/api-key');
    error_is($t, 415, 'unsupported_media_type', undef, 'cookie DELETE without Content-Type -> 415');
    is(user_row($h, $acct->{user}{id})->{api_key_prefix}, $acct->{user}{api_key_prefix}, '... and nothing changed');
    # the same write with a bearer token needs no content type
    my $bt = $h->new_t;
    $bt->post_ok('/api/v1/me/api-key', bearer($b->{token}))->status_is(201, 'bearer POST without a body: fine');
    $acct->{api_key} = $bt->tx->res->json->{api_key};

    # logout: cookie-authenticated, so a JSON content type
    $t->post_ok($LOGOUT);
    error_is($t, 415, 'unsupported_media_type', undef, 'cookie logout without Content-Type -> 415');
    $t->post_ok($LOGOUT, { 'Content-Type' => 'application/json' })->status_is(204)->content_is('');
    my $clear = $t->tx->res->headers->header('Set-Cookie') // '';
    like($clear, qr/^bp_session=;/, 'logout empties the cookie');
    like($clear, qr/Max-Age=0/, '... and expires it');
    like($clear, qr/Path=\/api\//, '... on the same path');
    $t->get_ok('/api/v1/me');
    error_is($t, 401, 'unauthorized', undef, 'no cookie any more -> 401');
    # the cookie's token is revoked, not only removed from the browser;
    # a plain logout revokes no other token of the user
    $t = $h->new_t;
    $t->get_ok('/api/v1/me', bearer($b->{token}));
    error_is($t, 401, 'unauthorized', undef, 'the signed-out token is refused as a bearer token too');
    $h->new_t->get_ok('/api/v1/me', bearer($acct->{token}))->status_is(200, 'plain logout leaves other tokens alone');
}

# ---------------------------------------------------------------- normalised email
$h->new_t->post_ok($LOGIN, json => { email => "  \U$email\E \n", password => PASSWORD })
  ->status_is(200, 'login email trimmed and lower-cased');

# ---------------------------------------------------------------- one answer for both wrongs
{
    my @answers;
    for my $case ([ 'wrong password', $email, 'not the password at all' ],
                  [ 'wrong email', unique_email('nobody'), PASSWORD ],
                  [ 'wrong both', unique_email('nobody'), 'not the password at all' ],
                  [ 'impossible email', 'no-at-sign', PASSWORD ],
                  [ 'empty email', '', PASSWORD ],
                  [ 'password case', $email, uc PASSWORD ]) {
        my ($name, $e, $p) = @$case;
        my $t = $h->new_t;
        $t->post_ok($LOGIN, json => { email => $e, password => $p });
        error_is($t, 401, 'invalid_credentials', undef, "$name -> 401 invalid_credentials");
        ok(!defined $t->tx->res->headers->header('Set-Cookie'), "$name: no cookie");
        push @answers, [ $name, $t->tx->res->code, $t->tx->res->body ];
    }
    my ($ref, @rest) = @answers;
    for my $a (@rest) {
        is("$a->[1] $a->[2]", "$ref->[1] $ref->[2]", "$a->[0] answers exactly as $ref->[0]");
    }
}

# ---------------------------------------------------------------- request errors
{
    my $t = $h->new_t;
    $t->post_ok($LOGIN, json => { email => $email });
    error_is($t, 400, 'validation_failed', 'password', 'password missing');
    $t->post_ok($LOGIN, json => { password => PASSWORD });
    error_is($t, 400, 'validation_failed', 'email', 'email missing');
    $t->post_ok($LOGIN, json => { email => $email, password => '' });
    error_is($t, 400, 'validation_failed', 'password', 'empty password');
    $t->post_ok($LOGIN, json => { email => $email, password => PASSWORD, remember => \1 });
    error_is($t, 400, 'validation_failed', 'remember', 'unknown field');
    $t->post_ok($LOGIN, { 'Content-Type' => 'text/plain' }, '{}');
    error_is($t, 415, 'unsupported_media_type', undef, 'login without JSON -> 415');
    $t->post_ok($LOGIN, { 'Content-Type' => 'application/json' }, 'email=a');
    error_is($t, 400, 'invalid_json', undef, 'login with a non-JSON body');
}

# ---------------------------------------------------------------- deactivated accounts
{
    my $d = register($h, prefix => 'disabled');
    $h->psql('UPDATE users SET is_active = false WHERE id = $1', $d->{user}{id});
    my $t = $h->new_t;
    $t->post_ok($LOGIN, json => { email => $d->{email}, password => PASSWORD });
    error_is($t, 403, 'account_disabled', undef, 'deactivated, right password -> 403 account_disabled');
    ok(!defined $t->tx->res->headers->header('Set-Cookie'), 'no cookie for a deactivated account');
    $t->post_ok($LOGIN, json => { email => $d->{email}, password => 'not the password at all' });
    error_is($t, 401, 'invalid_credentials', undef, 'deactivated, wrong password -> 401 invalid_credentials');
    $h->psql('UPDATE users SET is_active = true WHERE id = $1', $d->{user}{id});
    $t->post_ok($LOGIN, json => { email => $d->{email}, password => PASSWORD })->status_is(200, 'reactivated: logs in');
}

# ---------------------------------------------------------------- legacy bcrypt
{
    # crypt('legacy password 123', '$2b$05$abcdefghijklmnopqrstuu'), made once
    # with libxcrypt; hard-coded so that the test needs no bcrypt of its own.
    my $pw     = 'legacy-password-123';
    my $bcrypt = '$2b$05$abcdefghijklmnopqrstuuRnIBehtHqngLZ5WlK4pMK03QgL9VgEe';
    my $e      = unique_email('legacy');
    my $id = $h->psql(q{INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id}, $e, $bcrypt);
    my $t = $h->new_t;
    $t->post_ok($LOGIN, json => { email => $e, password => 'legacy-password-124' });
    error_is($t, 401, 'invalid_credentials', undef, 'legacy hash, wrong password -> 401');
    is(user_row($h, $id)->{password_hash}, $bcrypt, '... and the hash is left alone');
    $t->post_ok($LOGIN, json => { email => $e, password => $pw })->status_is(200, 'legacy $2b$ hash: logs in');
    my $after = user_row($h, $id)->{password_hash};
    like($after, qr/^\$y\$/, 're-hashed with yescrypt on login');
    $t->get_ok('/api/v1/me', bearer($t->tx->res->json->{token}))->status_is(200, 'its token works');
    $h->new_t->post_ok($LOGIN, json => { email => $e, password => $pw })->status_is(200, 'the new hash verifies');
    is(user_row($h, $id)->{password_hash}, $after, 'a current hash is not re-hashed again');
    $h->new_t->post_ok($LOGIN, json => { email => $e, password => 'legacy-password-124' })->status_is(401, 'still refuses a wrong one');
}

# ---------------------------------------------------------------- logout?all=true
{
    my $u  = register($h, prefix => 'logoutall');
    my $s1 = login($h, $u->{email}, PASSWORD);
    my $s2 = login($h, $u->{email}, PASSWORD);
    ok($s1 && $s2, 'two sessions');
    my $t = $h->new_t;
    for my $tok ($u->{token}, $s1->{token}, $s2->{token}) {
        $t->get_ok('/api/v1/me', bearer($tok))->status_is(200);
    }
    $t->post_ok("$LOGOUT?all=maybe", bearer($s1->{token}));
    error_is($t, 400, 'validation_failed', 'all', 'all=maybe -> 400');
    $t->post_ok("$LOGOUT?all=true", bearer($s1->{token}))->status_is(204);
    like($t->tx->res->headers->header('Set-Cookie') // '', qr/^bp_session=;.*Max-Age=0/, 'clears the cookie too');
    is(user_row($h, $u->{user}{id})->{token_version}, 1, 'token version bumped');
    for my $pair ([ 'the token that logged out', $s1 ], [ 'another session', $s2 ], [ 'the registration token', $u ]) {
        $t->get_ok('/api/v1/me', bearer($pair->[1]{token}));
        error_is($t, 401, 'unauthorized', undef, "after logout?all=true: $pair->[0] -> 401");
    }
    $t->get_ok('/api/v1/me', api_key_hdr($u->{api_key}))->status_is(200, 'the API key is not a token: still works');
    my $s3 = login($h, $u->{email}, PASSWORD);
    $t->get_ok('/api/v1/me', bearer($s3->{token}))->status_is(200, 'a new login works');
    $t->post_ok("$LOGOUT?all=false", bearer($s3->{token}))->status_is(204, 'all=false: a plain logout');
    $t->get_ok('/api/v1/me', bearer($s3->{token}));
    error_is($t, 401, 'unauthorized', undef, '... that revokes the token it was called with');
    my $s4 = login($h, $u->{email}, PASSWORD);
    $t->get_ok('/api/v1/me', bearer($s4->{token}))->status_is(200, '... and no other');
    is(user_row($h, $u->{user}{id})->{token_version}, 1, 'version unchanged');
    $t->post_ok($LOGOUT);
    error_is($t, 401, 'unauthorized', undef, 'logout without credentials -> 401');
    $t->get_ok($LOGOUT);
    error_is($t, 405, 'method_not_allowed', undef, 'GET logout -> 405');
}

done_testing;
