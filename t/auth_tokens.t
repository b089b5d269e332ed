#!/usr/bin/env perl
# Credentials that must not work: forged and stale JWTs, rotated and
# deleted API keys, and the rule that the first credential present decides.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use BP::Pin;    # before any Mojo module

use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64url);
use Mojo::JSON qw(encode_json);
use Test::More;

use BP::Harness;
use BP::Util qw(error_is);
use BP::AuthTest qw(register bearer api_key_hdr jwt_sign jwt_claims user_row PASSWORD);

my $h   = BP::Harness->new;
my $KEY = $h->secret_key;
my $u   = register($h, prefix => 'tok');
my $other = register($h, prefix => 'tok-other');
my $id  = $u->{user}{id};
my $now = time;
my %good = (sub => $id, iat => $now - 10, exp => $now + 3600, ver => 0);

sub me_ok {
    my ($hdrs, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $t = $h->new_t;
    $t->get_ok('/api/v1/me', $hdrs);
    return is($t->tx->res->code, 200, $name) && is($t->tx->res->json->{user}{id}, $id, "$name: the right user");
}

sub me_refused {
    my ($hdrs, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $t = $h->new_t;
    $t->get_ok('/api/v1/me', $hdrs);
    return error_is($t, 401, 'unauthorized', undef, $name);
}

# Our own signing is right: the same recipe with the real key works, so
# each refusal below is about the one thing that was changed.
me_ok(bearer(jwt_sign(claims => \%good, key => $KEY)), 'a token signed here with SECRET_KEY works');
me_ok(bearer(jwt_sign(header => { alg => 'HS256' }, claims => \%good, key => $KEY)), 'typ is optional');
me_ok({ Authorization => 'bearer ' . jwt_sign(claims => \%good, key => $KEY) }, 'the scheme is case-insensitive');
me_ok(bearer($u->{token}), 'the issued token works');

# ---------------------------------------------------------------- forged headers
my %forged = (
    'alg none, no signature'      => jwt_sign(header => { alg => 'none', typ => 'JWT' }, claims => \%good, alg => 'none'),
    'alg none, HS256 signature'   => do {
        my $t = jwt_sign(header => { alg => 'none', typ => 'JWT' }, claims => \%good, alg => 'none');
        $t . encode_base64url(hmac_sha256(substr($t, 0, -1), $KEY));
    },
    'alg None'                    => jwt_sign(header => { alg => 'None' }, claims => \%good, alg => 'none'),
    'alg HS512, right key'        => jwt_sign(header => { alg => 'HS512', typ => 'JWT' }, claims => \%good, key => $KEY, alg => 'HS512'),
    'alg hs256 (lower case)'      => jwt_sign(header => { alg => 'hs256', typ => 'JWT' }, claims => \%good, key => $KEY),
    'alg Hs256'                   => jwt_sign(header => { alg => 'Hs256' }, claims => \%good, key => $KEY),
    'alg RS256'                   => jwt_sign(header => { alg => 'RS256' }, claims => \%good, key => $KEY),
    'no alg'                      => jwt_sign(header => { typ => 'JWT' }, claims => \%good, key => $KEY),
    'header with kid'             => jwt_sign(header => { alg => 'HS256', kid => '../../dev/null' }, claims => \%good, key => $KEY),
    'header not JSON'             => jwt_sign(header => 'HS256', claims => \%good, key => $KEY),
    'wrong key'                   => jwt_sign(claims => \%good, key => 'x' x 40),
    'key with a byte more'        => jwt_sign(claims => \%good, key => $KEY . 'x'),
    'empty key'                   => jwt_sign(claims => \%good, key => ''),
    'signature cut short'         => substr(jwt_sign(claims => \%good, key => $KEY), 0, -2),
    'no signature'                => jwt_sign(claims => \%good, sig => ''),
);
for my $name (sort keys %forged) {
    me_refused(bearer($forged{$name}), "forged: $name -> 401");
}

# ---------------------------------------------------------------- claims
my %bad_claims = (
    'expired'            => { %good, exp => $now - 5 },
    'exp = now - 1'      => { %good, exp => $now - 1 },
    'issued in the future' => { %good, iat => $now + 3600, exp => $now + 7200 },
    'wrong ver (+1)'     => { %good, ver => 1 },
    'ver as a string'    => { %good, ver => '0' },
    'ver negative'       => { %good, ver => -1 },
    'ver huge'           => { %good, ver => 2**40 },
    'exp as a string'    => { %good, exp => '' . ($now + 3600) },
    'exp fractional'     => { %good, exp => $now + 3600.5 },
    'sub not a UUID'     => { %good, sub => 'admin' },
    'sub unknown'        => { %good, sub => '00000000-0000-4000-8000-000000000000' },
    'sub as a number'    => { %good, sub => 42 },
);
for my $c (qw(sub exp ver iat)) {
    my %m = %good;
    delete $m{$c};
    $bad_claims{"missing $c"} = \%m;
}
for my $name (sort keys %bad_claims) {
    me_refused(bearer(jwt_sign(claims => $bad_claims{$name}, key => $KEY)), "claims: $name -> 401");
}

# tampered payload: another user's id under this user's signature
{
    my ($hd, undef, $sig) = split /\./, $u->{token};
    my $tampered = join '.', $hd, encode_base64url(encode_json({ %{ jwt_claims($u->{token}) }, sub => $other->{user}{id} })), $sig;
    me_refused(bearer($tampered), 'payload changed, signature kept -> 401');
    my $longer = join '.', $hd, encode_base64url(encode_json({ %{ jwt_claims($u->{token}) }, exp => $now + 86400 * 365 })), $sig;
    me_refused(bearer($longer), 'exp extended, signature kept -> 401');
}

# ---------------------------------------------------------------- garbage
for my $g ('', 'garbage', 'a.b.c', '...', 'a.b', "$u->{token}.x", "$u->{token} x", ' ', 'x' x 5000,
           "\x{e9}t\x{e9}", $u->{api_key}) {
    (my $show = substr($g, 0, 30)) =~ s/[^\x21-\x7e]/?/g;
    me_refused(bearer($g), "garbage token '$show' -> 401");
}
me_refused({ Authorization => "Basic " . encode_base64url("a:b") }, 'Basic auth -> 401');
me_refused({ Authorization => $u->{token} }, 'a token without the Bearer scheme -> 401');
me_refused({ Authorization => '' }, 'an empty Authorization header -> 401');

# ---------------------------------------------------------------- the first credential decides
{
    my $bad = jwt_sign(claims => \%good, key => 'y' x 40);
    me_refused({ Authorization => "Bearer $bad", 'X-API-Key' => $u->{api_key} }, 'bad bearer + good API key -> 401');
    me_refused({ Authorization => "Bearer $bad", Cookie => "bp_session=$u->{token}" }, 'bad bearer + good cookie -> 401');
    me_refused({ 'X-API-Key' => 'bp_' . ('A' x 43), Cookie => "bp_session=$u->{token}" }, 'bad API key + good cookie -> 401');
    me_ok({ Cookie => "bp_session=$u->{token}" }, 'the good cookie alone works');
    me_refused({ Cookie => "bp_session=$bad" }, 'a forged cookie -> 401');
    me_refused({ Cookie => "bp_other=$u->{token}" }, 'a token in another cookie -> 401');
    me_refused({}, 'no credentials -> 401');
}

# ---------------------------------------------------------------- API keys
{
    my $t = $h->new_t;
    me_ok(api_key_hdr($u->{api_key}), 'the registration key works');
    me_refused(api_key_hdr('bp_short'), 'malformed key -> 401');
    me_refused(api_key_hdr('bp_' . ('A' x 43)), 'a well-formed unknown key -> 401');
    me_refused(api_key_hdr(lc $u->{api_key}), 'the key in another letter case -> 401');
    me_refused(api_key_hdr(substr($u->{api_key}, 3)), 'the key without bp_ -> 401');
    me_refused(api_key_hdr("$u->{api_key}x"), 'a character more -> 401');

    $t->post_ok('/api/v1/me/api-key', api_key_hdr($u->{api_key}))->status_is(201);
    my $r = $t->tx->res->json;
    is_deeply([ sort keys %$r ], [qw(api_key api_key_prefix)], 'rotate: api_key and api_key_prefix');
    like($r->{api_key}, qr/^bp_[A-Za-z0-9_-]{43}$/, 'a new key');
    isnt($r->{api_key}, $u->{api_key}, 'not the old one');
    is($r->{api_key_prefix}, substr($r->{api_key}, 0, 8), 'its prefix');
    is(user_row($h, $id)->{api_key_prefix}, $r->{api_key_prefix}, 'stored prefix');
    me_refused(api_key_hdr($u->{api_key}), 'the rotated (old) key is dead at once');
    me_ok(api_key_hdr($r->{api_key}), 'the new key works');
    $t->get_ok('/api/v1/me', bearer($u->{token}))->json_is('/user/api_key_prefix', $r->{api_key_prefix}, '/me shows the new prefix');

    $t->delete_ok('/api/v1/me/api-key', bearer($u->{token}))->status_is(204)->content_is('');
    me_refused(api_key_hdr($r->{api_key}), 'the deleted key is dead');
    my $row = user_row($h, $id);
    ok(!defined $row->{api_key_prefix} && !defined $row->{api_key_hash_hex}, 'no key stored');
    $t->get_ok('/api/v1/me', bearer($u->{token}))->status_is(200);
    like($t->tx->res->body, qr/"api_key_prefix":null/, 'api_key_prefix null without a key');
    $t->delete_ok('/api/v1/me/api-key', bearer($u->{token}))->status_is(204, 'deleting no key: 204 too');
    $t->post_ok('/api/v1/me/api-key', bearer($u->{token}))->status_is(201, 'a key again');
    me_ok(api_key_hdr($t->tx->res->json->{api_key}), 'and it works');
    $t->post_ok('/api/v1/me/api-key');
    error_is($t, 401, 'unauthorized', undef, 'POST /me/api-key without credentials -> 401');
    $t->get_ok('/api/v1/me/api-key', bearer($u->{token}));
    error_is($t, 405, 'method_not_allowed', undef, 'GET /me/api-key -> 405 (a key is never shown again)');
}

done_testing;
