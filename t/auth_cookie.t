# A session cookie that no longer works is removed from the browser: an
# expired or revoked session answers 401 with a Set-Cookie that clears it,
# so that signing out with a dead session leaves no stale cookie behind.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use BP::Harness;
use BP::Util qw(error_is unique_email);
use BP::AuthTest qw(register jwt_sign);

my $h = BP::Harness->new;
my $t = $h->t;
my $u = register($h, email => unique_email());

sub cleared_ok {
    my ($name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    like($t->tx->res->headers->header('Set-Cookie') // '',
        qr/^bp_session=;.*Max-Age=0.*HttpOnly.*Secure.*SameSite=Strict/, $name);
}

# expired (signed with the right key)
my $now = time;
my $expired = jwt_sign(claims => { sub => $u->{user}{id}, iat => $now - 100, exp => $now - 10, ver => 0 },
    key => $h->secret_key);
$t->post_ok('/api/v1/auth/logout', { Cookie => "bp_session=$expired", 'Content-Type' => 'application/json' });
error_is($t, 401, 'unauthorized');
cleared_ok('logout with an expired session clears the cookie');

$t->get_ok('/api/v1/me', { Cookie => "bp_session=garbage" });
error_is($t, 401, 'unauthorized');
cleared_ok('a malformed session cookie is cleared');

# blanks only after the name: the parser trims them and stops at the
# value's start (it once read the byte before it: the sanitizer build
# catches such a read)
for my $c ('bp_session= ;x=1', 'bp_session=  ;', "bp_session=\t; x=1", 'x=1; bp_session= ;') {
    $t->get_ok('/api/v1/me', { Cookie => $c });
    error_is($t, 401, 'unauthorized');
    cleared_ok("an empty session cookie ('$c') is a clean 401");
}
# (trailing blanks at the header's end never reach it: nginx trims them)
$t->get_ok('/api/v1/me', { Cookie => 'bp_session=  ' });
error_is($t, 401, 'unauthorized');
$t->get_ok('/api/v1/me', { Cookie => "bp_session=$u->{token} ; x=1" })->status_is(200);
$t->get_ok('/api/v1/me', { Cookie => "bp_session=$u->{token}  " })->status_is(200);

# revoked: the token is well signed but its version is old
$t->post_ok('/api/v1/auth/logout?all=true', { Authorization => "Bearer $u->{token}" })->status_is(204);
$t->get_ok('/api/v1/me', { Cookie => "bp_session=$u->{token}" });
error_is($t, 401, 'unauthorized');
cleared_ok('a revoked session cookie is cleared');

# a bad bearer token does not touch the cookie
$t->get_ok('/api/v1/me', { Authorization => 'Bearer nope' });
error_is($t, 401, 'unauthorized');
is($t->tx->res->headers->header('Set-Cookie'), undef, 'no Set-Cookie for a bad bearer token');

done_testing;
