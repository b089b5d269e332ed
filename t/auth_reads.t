#!/usr/bin/env perl
# Reads check the credential in the same round trip as their first query,
# and a worker remembers the tokens and API keys it has verified.  Neither
# may let a credential live a request longer than it should: every read
# refuses a revoked token, a rotated key or a deactivated user at once,
# also on the worker that has just served it, and also when the handler
# would have answered 400 or 404 without a query.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use BP::Harness;
use BP::Util qw(error_is);
use BP::AuthTest qw(register bearer api_key_hdr jwt_sign make_admin user_row);

# One worker: every request meets the memory of the ones before it.
my $h = BP::Harness->new(workers => 1);

# A user with one article and one pipeline run, so that every read has
# something to show.
sub with_data {
    my ($prefix) = @_;
    my $u = register($h, prefix => $prefix);
    my $t = $h->new_t;
    $t->post_ok('/api/v1/articles', bearer($u->{token}),
        json => { title => "Article of $prefix", content_markdown => '# x', content_html => '<p>x</p>' })->status_is(201);
    $u->{article} = $t->tx->res->json->{id};
    $t->post_ok('/api/v1/pipelines', bearer($u->{token}), json => {})
        ->status_is(201);
    $u->{pipeline} = $t->tx->res->json->{id};
    ok($u->{article} && $u->{pipeline}, "$prefix: an article and a run to read") or BAIL_OUT('set-up failed');
    return $u;
}

# Every read a user can make, by route name.
sub reads {
    my ($u) = @_;
    return (
        [ articles_list    => '/api/v1/articles' ],
        [ articles_get     => "/api/v1/articles/$u->{article}" ],
        [ articles_related => "/api/v1/articles/$u->{article}/related" ],
        [ pipelines_list   => '/api/v1/pipelines' ],
        [ pipelines_get    => "/api/v1/pipelines/$u->{pipeline}" ],
        [ usage_get        => '/api/v1/usage' ],
        [ usage_history    => '/api/v1/usage/history' ],
        [ me_get           => '/api/v1/me' ],
    );
}

sub all_ok {
    my ($u, $hdrs, $what) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $t = $h->new_t;
    for my $r (reads($u)) {
        $t->get_ok($r->[1], $hdrs);
        is($t->tx->res->code, 200, "$what: $r->[0] 200") or diag($t->tx->res->body);
    }
}

sub all_refused {
    my ($u, $hdrs, $what) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $t = $h->new_t;
    for my $r (reads($u)) {
        $t->get_ok($r->[1], $hdrs);
        error_is($t, 401, 'unauthorized', undef, "$what: $r->[0] 401");
        is($t->tx->res->headers->header('WWW-Authenticate'), 'Bearer', "$what: $r->[0] WWW-Authenticate");
        unlike($t->tx->res->body, qr/\Q$u->{article}\E|\Q$u->{pipeline}\E|Article of/,
            "$what: $r->[0] shows nothing of the data");
    }
    # answers the handler gives without a query are replaced too
    for my $p ('/api/v1/articles?limit=abc', '/api/v1/articles/not-a-uuid',
               '/api/v1/articles/00000000-0000-4000-8000-000000000000',
               '/api/v1/pipelines?status=bogus') {
        $t->get_ok($p, $hdrs);
        error_is($t, 401, 'unauthorized', undef, "$what: GET $p 401, not 400 or 404");
    }
}

# ------------------------------------------------------------ a token revoked
{
    my $u = with_data('rev');
    all_ok($u, bearer($u->{token}), 'token, before');
    all_ok($u, bearer($u->{token}), 'token, again (remembered)');
    my $t = $h->new_t;
    $t->post_ok('/api/v1/auth/logout?all=true', bearer($u->{token}))->status_is(204);
    is(user_row($h, $u->{user}{id})->{token_version}, 1, 'logout?all=true bumped ver');
    all_refused($u, bearer($u->{token}), 'token after logout?all=true');
    all_refused($u, bearer($u->{token}), 'token after logout?all=true, again');

    # a new token of the same user works; the old one stays dead
    my $fresh = BP::AuthTest::login($h, $u->{email}, $u->{password});
    ok($fresh && $fresh->{token}, 'logged in again');
    all_ok($u, bearer($fresh->{token}), 'the new token');
    all_refused($u, bearer($u->{token}), 'the old token, after the new one');
    # the API key was never revoked
    all_ok($u, api_key_hdr($u->{api_key}), 'the API key still');
}

# ------------------------------------------------------------ the cookie
{
    my $u = with_data('cookie');
    my $c = { Cookie => "bp_session=$u->{token}" };
    all_ok($u, $c, 'cookie, before');
    my $t = $h->new_t;
    $t->put_ok('/api/v1/me/password', bearer($u->{token}),
        json => { current_password => $u->{password}, new_password => 'another good password 2' })->status_is(200);
    $t->get_ok('/api/v1/articles', $c);
    error_is($t, 401, 'unauthorized', undef, 'a revoked session cookie -> 401');
    like($t->tx->res->headers->header('Set-Cookie') // '', qr/^bp_session=;.*Max-Age=0/,
        'and the browser is told to drop it');
}

# ------------------------------------------------------------ an API key rotated
{
    my $u = with_data('key');
    all_ok($u, api_key_hdr($u->{api_key}), 'key, before');
    my $t = $h->new_t;
    $t->post_ok('/api/v1/me/api-key', bearer($u->{token}))->status_is(201);
    my $new = $t->tx->res->json->{api_key};
    all_refused($u, api_key_hdr($u->{api_key}), 'the rotated key');
    all_refused($u, api_key_hdr($u->{api_key}), 'the rotated key, again');
    all_ok($u, api_key_hdr($new), 'the new key');
    $t->delete_ok('/api/v1/me/api-key', bearer($u->{token}))->status_is(204);
    all_refused($u, api_key_hdr($new), 'a deleted key');
}

# ------------------------------------------------------------ a user deactivated
{
    my $u = with_data('off');
    all_ok($u, bearer($u->{token}), 'before deactivation, token');
    all_ok($u, api_key_hdr($u->{api_key}), 'before deactivation, key');
    my $adm = register($h, prefix => 'off-admin');
    make_admin($h, $adm->{user}{id});
    my $t = $h->new_t;
    $t->patch_ok("/api/v1/admin/users/$u->{user}{id}", bearer($adm->{token}), json => { is_active => \0 })
        ->status_is(200);
    all_refused($u, bearer($u->{token}), 'a deactivated user, token');
    all_refused($u, api_key_hdr($u->{api_key}), 'a deactivated user, key');
    $t->patch_ok("/api/v1/admin/users/$u->{user}{id}", bearer($adm->{token}), json => { is_active => \1 })
        ->status_is(200);
    all_ok($u, api_key_hdr($u->{api_key}), 'reactivated, key');
}

# ------------------------------------------------------------ a remembered token expires
{
    my $u = with_data('exp');
    my $now = time;
    my $tok = jwt_sign(claims => { sub => $u->{user}{id}, iat => $now - 1, exp => $now + 2, ver => 0 },
        key => $h->secret_key);
    my $t = $h->new_t;
    $t->get_ok('/api/v1/articles', bearer($tok))->status_is(200, 'a token with 2 s to live works');
    sleep 1 while time <= $now + 2;
    $t->get_ok('/api/v1/articles', bearer($tok));
    error_is($t, 401, 'unauthorized', undef, 'the same token once its exp has passed -> 401');
}

# ------------------------------------------------------------ others' data, remembered credentials
{
    my $a = with_data('own-a');
    my $b = with_data('own-b');
    my $t = $h->new_t;
    for (1 .. 2) {
        $t->get_ok("/api/v1/articles/$b->{article}", bearer($a->{token}));
        error_is($t, 404, 'not_found', undef, "another user's article by id -> 404 (round $_)");
        $t->get_ok("/api/v1/pipelines/$b->{pipeline}", api_key_hdr($a->{api_key}));
        error_is($t, 404, 'not_found', undef, "another user's run by id, API key -> 404 (round $_)");
        $t->get_ok('/api/v1/articles', api_key_hdr($a->{api_key}))->status_is(200);
        is_deeply([ map { $_->{id} } @{ $t->tx->res->json->{items} } ], [ $a->{article} ],
            "the list shows only the key owner's article (round $_)");
    }
}

# ------------------------------------------------------------ the database away
{
    my $u = with_data('down');
    all_ok($u, bearer($u->{token}), 'before the outage');
    $h->stop_pg;
    my $t = $h->new_t;
    for my $hdrs (bearer($u->{token}), api_key_hdr($u->{api_key})) {
        $t->get_ok('/api/v1/articles', $hdrs);
        error_is($t, 503, 'service_unavailable', undef, 'a remembered credential while the database is away -> 503');
        ok($t->tx->res->headers->header('Retry-After'), 'with Retry-After');
    }
    $h->start_pg;
    ok($h->wait_until(sub { $h->new_ua->get($h->url('/api/v1/articles'), bearer($u->{token}))->res->code == 200 }, 20),
        'reads work again once it is back');
    all_ok($u, bearer($u->{token}), 'after the outage');
}

unlike($h->log, qr/answered 5\d\d/, 'no request was answered 5xx other than the outage 503s');

done_testing;
