#!/usr/bin/env perl
# Sign-out revokes the token it is called with, server-side, at once: on
# reads and writes, even in a worker that has the token's claims cached;
# the user's other tokens keep working. ?all=true still revokes them all.
# Deactivating a user revokes their tokens: reactivation revives none.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use BP::Pin;    # before any Mojo module

use Test::More;

use BP::Harness;
use BP::Util qw(error_is);
use BP::AuthTest qw(register login bearer jwt_claims make_admin PASSWORD);

my $h = BP::Harness->new(workers => 2);
my $u = register($h, prefix => 'logout');
my $id = $u->{user}{id};

sub code_of {
    my ($method, $path, $hdrs, @body) = @_;
    my $tx = $h->new_ua->build_tx($method => $h->url($path), $hdrs, @body);
    return $h->new_ua->start($tx)->res->code;
}

my $t1 = login($h, $u->{email}, PASSWORD)->{token};
my $t2 = login($h, $u->{email}, PASSWORD)->{token};
like(jwt_claims($t1)->{jti} // '', qr/^[0-9a-f]{32}$/, 'a token carries a jti claim');
isnt(jwt_claims($t1)->{jti}, jwt_claims($t2)->{jti}, 'each token its own');

# Both work, on reads (and so are in the workers' caches) and writes.
for (1 .. 4) {
    is(code_of(GET => '/api/v1/me', bearer($t1)), 200, 'token 1 reads');
    is(code_of(GET => '/api/v1/me', bearer($t2)), 200, 'token 2 reads');
}
is(code_of(POST => '/api/v1/articles', bearer($t1), json => { title => 'before' }), 201, 'token 1 writes');

# Sign out with token 1.
is(code_of(POST => '/api/v1/auth/logout', bearer($t1)), 204, 'sign-out: 204');
for (1 .. 4) {
    my $t = $h->new_t;
    $t->get_ok('/api/v1/me', bearer($t1));
    error_is($t, 401, 'unauthorized', undef, 'signed-out token refused on a read');
    $t->get_ok('/api/v1/articles', bearer($t1));
    error_is($t, 401, 'unauthorized', undef, 'signed-out token refused on a list');
}
{
    my $t = $h->new_t;
    $t->post_ok('/api/v1/articles', bearer($t1), json => { title => 'after' });
    error_is($t, 401, 'unauthorized', undef, 'signed-out token refused on a write');
    $t->post_ok('/api/v1/auth/logout', bearer($t1));
    error_is($t, 401, 'unauthorized', undef, 'signing out twice: 401');
}
is($h->psql(q{SELECT count(*) FROM articles WHERE user_id = $1 AND title = 'after'}, $id), 0, 'nothing written');

# The other writes send the check with their statements, COMMIT included:
# a check that fails stops them all.
{
    my $art = $h->new_t->post_ok('/api/v1/articles', bearer($t2), json => { title => 'kept' })
        ->status_is(201)->tx->res->json;
    my $run = $h->new_t->post_ok('/api/v1/pipelines', bearer($t2), json => { estimated_cost => '0.0100' })
        ->status_is(201)->tx->res->json;
    my $t = $h->new_t;
    $t->patch_ok("/api/v1/articles/$art->{id}", bearer($t1), json => { title => 'changed' });
    error_is($t, 401, 'unauthorized', undef, 'signed-out token refused on an update');
    $t->delete_ok("/api/v1/articles/$art->{id}", bearer($t1));
    error_is($t, 401, 'unauthorized', undef, 'signed-out token refused on a delete');
    $t->post_ok('/api/v1/pipelines', bearer($t1), json => { estimated_cost => '0.0100' });
    error_is($t, 401, 'unauthorized', undef, 'signed-out token refused on a pipeline start');
    $t->patch_ok("/api/v1/pipelines/$run->{id}", bearer($t1),
                 json => { status => 'completed', total_cost => '0.0100' });
    error_is($t, 401, 'unauthorized', undef, 'signed-out token refused on a pipeline end');
    is($h->psql(q{SELECT title FROM articles WHERE id = $1}, $art->{id}), 'kept',
       'the article neither changed nor deleted');
    is($h->psql(q{SELECT count(*) FROM pipelines WHERE user_id = $1}, $id), 1, 'no run started');
    is($h->psql(q{SELECT status FROM pipelines WHERE id = $1}, $run->{id}), 'running', 'nor ended');
    $h->new_t->patch_ok("/api/v1/pipelines/$run->{id}", bearer($t2),
                        json => { status => 'failed', error_message => 'test' })->status_is(200);
}
is(code_of(GET => '/api/v1/me', bearer($t2)), 200, 'the other token still works');
is(code_of(POST => '/api/v1/articles', bearer($t2), json => { title => 'other' }), 201, 'and writes');
is(code_of(GET => '/api/v1/me', { 'X-API-Key' => $u->{api_key} }), 200, 'the API key still works');

is($h->psql(q{SELECT count(*) FROM revoked_tokens WHERE jti = $1 AND user_id = $2
              AND expires_at = to_timestamp($3)}, jwt_claims($t1)->{jti}, $id, jwt_claims($t1)->{exp}),
   1, 'the jti is kept until the token expires');

# The browser's sign-out: the cookie it had is dead too.
{
    my $ua = $h->new_ua;
    my $tx = $ua->post($h->url('/api/v1/auth/login'), json => { email => $u->{email}, password => PASSWORD });
    is($tx->res->code, 200, 'browser login');
    my ($c) = grep { $_->name eq 'bp_session' } @{ $tx->res->cookies };
    my $cookie = { Cookie => 'bp_session=' . $c->value };
    is(code_of(GET => '/api/v1/me', $cookie), 200, 'the cookie works');
    is($ua->post($h->url('/api/v1/auth/logout'), { 'Content-Type' => 'application/json' })->res->code, 204,
       'browser sign-out');
    is(code_of(GET => '/api/v1/me', $cookie), 401, 'the old cookie value is refused');
}

# Expired entries go with the next sign-outs, up to 100 at a time.
$h->psql(q{INSERT INTO revoked_tokens (jti, user_id, expires_at)
           SELECT 'old' || g, $1, now() - interval '1 hour' FROM generate_series(1, 150) g}, $id);
my $t3 = login($h, $u->{email}, PASSWORD)->{token};
is(code_of(POST => '/api/v1/auth/logout', bearer($t3)), 204, 'sign-out');
is($h->psql(q{SELECT count(*) FROM revoked_tokens WHERE expires_at < now()}), 50, '100 expired entries purged');
my $t4 = login($h, $u->{email}, PASSWORD)->{token};
is(code_of(POST => '/api/v1/auth/logout', bearer($t4)), 204, 'sign-out');
is($h->psql(q{SELECT count(*) FROM revoked_tokens WHERE expires_at < now()}), 0, 'the rest too');
is($h->psql(q{SELECT count(*) FROM revoked_tokens WHERE jti = $1}, jwt_claims($t4)->{jti}), 1,
   'current entries stay');

# Sign out everywhere still revokes every token.
my $t5 = login($h, $u->{email}, PASSWORD)->{token};
my $t6 = login($h, $u->{email}, PASSWORD)->{token};
is(code_of(POST => '/api/v1/auth/logout?all=true', bearer($t5)), 204, 'sign out everywhere');
is(code_of(GET => '/api/v1/me', bearer($t6)), 401, 'another token is refused');
is(code_of(GET => '/api/v1/me', bearer($t2)), 401, 'and an older one');

# Deactivation revokes the tokens: reactivating revives none of them.
my $adm = register($h, prefix => 'logout-admin');
make_admin($h, $adm->{user}{id});
my $at = login($h, $adm->{email}, PASSWORD)->{token};
my $t7 = login($h, $u->{email}, PASSWORD)->{token};
is(code_of(GET => '/api/v1/me', bearer($t7)), 200, 'token before deactivation');
is(code_of(PATCH => "/api/v1/admin/users/$id", bearer($at), json => { is_active => Mojo::JSON::false }), 200,
   'deactivated');
is(code_of(PATCH => "/api/v1/admin/users/$id", bearer($at), json => { is_active => Mojo::JSON::true }), 200,
   'reactivated');
is(code_of(GET => '/api/v1/me', bearer($t7)), 401, 'the token from before is refused');
is(code_of(POST => '/api/v1/articles', bearer($t7), json => { title => 'x' }), 401, 'on a write too');
my $t8 = login($h, $u->{email}, PASSWORD)->{token};
is(code_of(GET => '/api/v1/me', bearer($t8)), 200, 'a new login works');
my $ver = $h->psql(q{SELECT token_version FROM users WHERE id = $1}, $id);
is(code_of(PATCH => "/api/v1/admin/users/$id", bearer($at), json => { is_active => Mojo::JSON::true }), 200,
   'activating an active user');
is($h->psql(q{SELECT token_version FROM users WHERE id = $1}, $id), $ver, 'changes no token');

# An account's entries go with it.
is(code_of(DELETE => '/api/v1/me', bearer($t8), json => { password => PASSWORD }), 204, 'account deleted');
is($h->psql(q{SELECT count(*) FROM revoked_tokens WHERE user_id = $1}, $id), 0, 'its revoked tokens too');

done_testing;
