#!/usr/bin/env perl
# /api/v1/admin: only admins; the user list (search, keyset pages, usage),
# changing a user (activation, role, limits), and the usage of a month.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use BP::Pin;    # before any Mojo module

use Mojo::Promise;
use Mojo::Util qw(url_escape);
use Test::More;

use BP::Harness;
use BP::Util qw(error_is unique_email);
use BP::AuthTest qw(register login bearer api_key_hdr make_admin user_row PASSWORD);

my $h = BP::Harness->new;
my $admin = register($h, prefix => 'root');
make_admin($h, $admin->{user}{id});
my $user = register($h, prefix => 'plain');
my $A = bearer($admin->{token});
my $USERS = '/api/v1/admin/users';
my $USAGE = '/api/v1/admin/usage';

# ---------------------------------------------------------------- admins only
{
    my $t = $h->new_t;
    my $cookie_t = $h->new_t;
    $cookie_t->post_ok('/api/v1/auth/login', json => { email => $user->{email}, password => PASSWORD })->status_is(200);
    my @paths = (
        [ GET   => $USERS ],
        [ GET   => "$USERS?q=a&limit=5" ],
        [ GET   => "$USERS?limit=0" ],
        [ GET   => "$USERS?cursor=broken" ],
        [ PATCH => "$USERS/$user->{user}{id}", { is_active => \0 } ],
        [ PATCH => "$USERS/$admin->{user}{id}", { role => 'user' } ],
        [ PATCH => "$USERS/not-a-uuid", { role => 'admin' } ],
        [ PATCH => "$USERS/$user->{user}{id}", { role => 'admin' } ],
        [ GET   => $USAGE ],
        [ GET   => "$USAGE?month=2026-01" ],
        [ GET   => "$USAGE?month=bad" ],
    );
    for my $p (@paths) {
        my ($m, $path, $body) = @$p;
        for my $cred ([ 'token', bearer($user->{token}) ], [ 'API key', api_key_hdr($user->{api_key}) ]) {
            $t->request_ok($t->ua->build_tx($m => $path => $cred->[1], $body ? (json => $body) : ()));
            error_is($t, 403, 'forbidden', undef, "non-admin ($cred->[0]): $m $path -> 403 forbidden");
        }
        $cookie_t->request_ok($cookie_t->ua->build_tx($m => $path => { 'Content-Type' => 'application/json' },
            $body ? Mojo::JSON::encode_json($body) : ()));
        error_is($cookie_t, 403, 'forbidden', undef, "non-admin (cookie): $m $path -> 403 forbidden");
        $t->request_ok($t->ua->build_tx($m => $path => {}, $body ? (json => $body) : ()));
        error_is($t, 401, 'unauthorized', undef, "no credentials: $m $path -> 401");
    }
    is(user_row($h, $user->{user}{id})->{role}, 'user', 'the user did not make themselves admin');
    is(user_row($h, $admin->{user}{id})->{role}, 'admin', 'nor demote the admin');
    ok(user_row($h, $user->{user}{id})->{is_active}, 'nor deactivate anyone');

    $t->get_ok("$USERS/x", $A);
    error_is($t, 405, 'method_not_allowed', undef, 'GET /admin/users/{id} -> 405');
    $t->get_ok('/api/v1/admin/nothing', $A);
    error_is($t, 404, 'not_found', undef, 'unknown admin path -> 404');
    $t->post_ok($USERS, $A, json => {});
    error_is($t, 405, 'method_not_allowed', undef, 'POST /admin/users -> 405');
}

# ---------------------------------------------------------------- the list
{
    my $t = $h->new_t;
    $t->get_ok($USERS, $A)->status_is(200);
    my $b = $t->tx->res->json;
    is_deeply([ sort keys %$b ], [qw(items next_cursor)], 'items and next_cursor');
    is(scalar @{ $b->{items} }, 2, 'both users');
    is($b->{next_cursor}, undef, 'one page: next_cursor null');
    my ($it) = grep { $_->{id} eq $user->{user}{id} } @{ $b->{items} };
    is_deeply({ %$it, usage => undef }, { %{ $user->{user} }, usage => undef }, 'each item is the user object ...');
    is_deeply([ sort keys %{ $it->{usage} } ],
        [qw(articles_generated articles_in_progress limits month remaining total_cost)], '... with this month\'s usage');

    # usage per user
    $h->psql(q{INSERT INTO api_usage (user_id, month, articles_generated, total_cost)
               VALUES ($1, date_trunc('month', now() AT TIME ZONE 'UTC')::date, 2, 0.25)}, $user->{user}{id});
    $h->psql(q{INSERT INTO pipelines (user_id, status, estimated_cost) VALUES ($1, 'running', 0.5)}, $user->{user}{id});
    $t->get_ok($USERS, $A)->status_is(200);
    ($it) = grep { $_->{id} eq $user->{user}{id} } @{ $t->tx->res->json->{items} };
    is_deeply([ @{ $it->{usage} }{qw(articles_generated articles_in_progress total_cost)}, $it->{usage}{remaining} ],
        [ 2, 1, '0.2500', { cost => '49.2500', articles => 97 } ], 'the usage is the user\'s own');
    my ($ad) = grep { $_->{id} eq $admin->{user}{id} } @{ $t->tx->res->json->{items} };
    is($ad->{usage}{articles_generated}, 0, '... and not another\'s');

    # 30 more users: 20 at one instant (the same created_at: the id breaks ties)
    my @emails = map { sprintf 'page%02d-%s', $_, unique_email('p') } 1 .. 10;
    for my $e (@emails) {
        $h->psql(q{INSERT INTO users (email, password_hash, created_at) VALUES ($1, 'x', now() - random() * interval '10 days')}, $e);
    }
    $h->psql(q{INSERT INTO users (email, password_hash, created_at)
               SELECT 'same' || g || '@example.com', 'x', timestamptz '2025-06-01 12:00:00.123456+00' FROM generate_series(1, 20) g});
    my @want = map { $_->[0] } $h->psql('SELECT id FROM users ORDER BY created_at DESC, id DESC');
    is(scalar @want, 32, '32 users');
    for my $limit (1, 7, 10, 32, 100) {
        my (@got, $cursor, $pages);
        do {
            my $url = "$USERS?limit=$limit" . (defined $cursor ? '&cursor=' . url_escape($cursor) : '');
            $t->get_ok($url, $A)->status_is(200);
            my $p = $t->tx->res->json;
            cmp_ok(scalar @{ $p->{items} }, '<=', $limit, "limit=$limit: at most $limit items");
            push @got, map { $_->{id} } @{ $p->{items} };
            $cursor = $p->{next_cursor};
            like($cursor, qr/^[A-Za-z0-9_-]+$/, 'next_cursor is opaque base64url text') if defined $cursor;
            $pages++;
        } while (defined $cursor && $pages < 50);
        is_deeply(\@got, \@want, "limit=$limit: every user once, newest first, ties by id ($pages pages)");
    }
    $t->get_ok($USERS, $A)->status_is(200);
    is(scalar @{ $t->tx->res->json->{items} }, 20, 'limit defaults to 20');
    ok(defined $t->tx->res->json->{next_cursor}, '... with a next page');

    for my $bad ('0', '101', '-1', 'abc', '1.5', '', '10x') {
        $t->get_ok("$USERS?limit=$bad", $A);
        error_is($t, 400, 'validation_failed', 'limit', "limit=$bad -> 400");
    }
    my $good = do { $t->get_ok("$USERS?limit=1", $A); $t->tx->res->json->{next_cursor} };
    for my $bad ('x', 'AAAA', substr($good, 0, -1), $good . 'A', '%00', '====', ' ' . $good, '') {
        $t->get_ok("$USERS?cursor=" . ($bad =~ /%/ ? $bad : url_escape($bad)), $A);
        error_is($t, 400, 'validation_failed', 'cursor', "cursor '$bad' -> 400 on cursor");
    }
    $t->get_ok("$USERS?limit=1&limit=2", $A);
    error_is($t, 400, 'validation_failed', 'limit', 'limit twice -> 400');
}

# ---------------------------------------------------------------- q
{
    my $t  = $h->new_t;
    my $tag = 'q' . $$ . int(rand 1e6);
    my %ids;
    for my $local ('a_b', 'axb', 'c%d', 'cxd', 'MiXed') {
        my $u = register($h, email => "$tag.$local\@example.com");
        $ids{$local} = $u->{user}{id};
    }
    my $search = sub {
        my $q = shift;
        $t->get_ok("$USERS?limit=100&q=" . url_escape($q), $A)->status_is(200);
        return [ sort map { $_->{email} } @{ $t->tx->res->json->{items} } ];
    };
    is_deeply($search->("$tag.a_b"), [ lc "$tag.a_b\@example.com" ], "'_' is an ordinary character");
    is_deeply($search->("$tag.c%d"), [ lc "$tag.c%d\@example.com" ], "'%' is an ordinary character");
    is_deeply($search->(uc "$tag.A_B"), [ lc "$tag.a_b\@example.com" ], 'ignoring letter case');
    is_deeply($search->("$tag.mixed@"), [ lc "$tag.mixed\@example.com" ], 'part of the email');
    is(scalar @{ $search->($tag) }, 5, 'all five by their common part');
    is_deeply($search->('%'), [ lc "$tag.c%d\@example.com" ], "q='%' matches only emails with a '%'");
    is_deeply($search->("$tag\\"), [], 'a backslash is ordinary too');
    is_deeply($search->('no-such-email-anywhere'), [], 'no match: empty');
    $t->get_ok("$USERS?q=&limit=100", $A)->status_is(200);
    cmp_ok(scalar @{ $t->tx->res->json->{items} }, '>=', 37, 'empty q: everyone');
    $t->get_ok("$USERS?q=%ZZ", $A);
    error_is($t, 400, 'validation_failed', 'q', 'q badly percent-encoded -> 400');
    # q with pages
    $t->get_ok("$USERS?limit=2&q=$tag", $A)->status_is(200);
    my $c = $t->tx->res->json->{next_cursor};
    my @seen = map { $_->{id} } @{ $t->tx->res->json->{items} };
    while (defined $c) {
        $t->get_ok("$USERS?limit=2&q=$tag&cursor=" . url_escape($c), $A)->status_is(200);
        push @seen, map { $_->{id} } @{ $t->tx->res->json->{items} };
        $c = $t->tx->res->json->{next_cursor};
    }
    is_deeply([ sort @seen ], [ sort values %ids ], 'q with a cursor: pages of the matches only');
}

# ---------------------------------------------------------------- PATCH
{
    my $t = $h->new_t;
    my $P = "$USERS/$user->{user}{id}";

    $t->patch_ok("$USERS/not-a-uuid", $A, json => { is_active => \1 });
    error_is($t, 404, 'not_found', undef, 'id not a UUID -> 404');
    $t->patch_ok("$USERS/00000000-0000-4000-8000-000000000000", $A, json => { is_active => \1 });
    error_is($t, 404, 'not_found', undef, 'unknown id -> 404');

    $t->patch_ok($P, $A, json => {})->status_is(200, 'empty change: 200');
    is_deeply($t->tx->res->json, { %{ $user->{user} } }, 'the user object, unchanged');
    $t->patch_ok("$USERS/\U$user->{user}{id}", $A, json => {})->status_is(200, 'an upper-case UUID is the same user');

    # limits
    $t->patch_ok($P, $A, json => { max_monthly_cost => '12.5', max_articles_per_month => 5 })->status_is(200);
    is_deeply($t->tx->res->json->{limits}, { max_monthly_cost => '12.5000', max_articles_per_month => 5 }, 'overrides set');
    is_deeply($t->tx->res->json->{limits_source}, { max_monthly_cost => 'override', max_articles_per_month => 'override' },
        'limits_source says so');
    my $row = user_row($h, $user->{user}{id});
    is_deeply([ @$row{qw(max_monthly_cost max_articles_per_month)} ], [ '12.5000', 5 ], 'stored');
    $h->new_t->get_ok('/api/v1/me', bearer($user->{token}))
      ->json_is('/user/limits', { max_monthly_cost => '12.5000', max_articles_per_month => 5 })
      ->json_is('/usage/limits', { max_monthly_cost => '12.5000', max_articles_per_month => 5 }, 'the user sees them');
    $t->patch_ok($P, $A, json => { max_monthly_cost => 7.25 })->status_is(200)
      ->json_is('/limits', { max_monthly_cost => '7.2500', max_articles_per_month => 5 }, 'money as a number; the other limit kept');
    $t->patch_ok($P, $A, json => { max_monthly_cost => 0, max_articles_per_month => 0 })->status_is(200)
      ->json_is('/limits', { max_monthly_cost => '0.0000', max_articles_per_month => 0 }, 'zero is a limit, not the default');
    $t->patch_ok($P, $A, json => { max_monthly_cost => '999999.9999', max_articles_per_month => 2147483647 })->status_is(200)
      ->json_is('/limits', { max_monthly_cost => '999999.9999', max_articles_per_month => 2147483647 }, 'the largest values');
    $t->patch_ok($P, $A, json => { max_monthly_cost => undef })->status_is(200)
      ->json_is('/limits', { max_monthly_cost => '50.0000', max_articles_per_month => 2147483647 }, 'null cost: back to the default')
      ->json_is('/limits_source', { max_monthly_cost => 'default', max_articles_per_month => 'override' }, 'limits_source: one each');
    $t->patch_ok($P, $A, json => { max_articles_per_month => undef })->status_is(200)
      ->json_is('/limits', { max_monthly_cost => '50.0000', max_articles_per_month => 100 }, 'null articles: back to the default');
    $row = user_row($h, $user->{user}{id});
    ok(!defined $row->{max_monthly_cost} && !defined $row->{max_articles_per_month}, 'stored as NULL');

    my @bad = (
        [ max_monthly_cost => -1 ], [ max_monthly_cost => '-1' ], [ max_monthly_cost => '1e3' ],
        [ max_monthly_cost => '1000000' ], [ max_monthly_cost => '0.12345' ],
        [ max_monthly_cost => 'ten' ], [ max_monthly_cost => \1 ], [ max_monthly_cost => ' 1' ],
        [ max_articles_per_month => -1 ], [ max_articles_per_month => 1.5 ], [ max_articles_per_month => '5' ],
        [ max_articles_per_month => 2147483648 ], [ max_articles_per_month => \0 ],
        [ role => 'root' ], [ role => 'Admin' ], [ role => undef ], [ role => 1 ],
        [ is_active => 'false' ], [ is_active => 0 ], [ is_active => undef ],
        [ email => 'x@example.com' ], [ id => $user->{user}{id} ], [ created_at => '2020-01-01T00:00:00Z' ],
        [ password_hash => 'x' ], [ token_version => 0 ], [ api_key_prefix => 'bp_AAAAA' ],
    );
    for my $b (@bad) {
        my ($f, $v) = @$b;
        $t->patch_ok($P, $A, json => { $f => $v });
        error_is($t, 400, 'validation_failed', $f, "$f => " . Mojo::JSON::encode_json($v) . ' -> 400');
    }
    $t->patch_ok($P, { %$A, 'Content-Type' => 'application/json' }, '{"max_monthly_cost": 1e3}');
    error_is($t, 400, 'validation_failed', 'max_monthly_cost', 'an exponent in the JSON text -> 400');
    # Integers beyond 64 bits, both signs: valid JSON, a value out of range.
    for my $v ('-9223372036854775809', '-99999999999999999999', '9223372036854775808', '99999999999999999999') {
        $t->patch_ok($P, { %$A, 'Content-Type' => 'application/json' }, qq({"max_articles_per_month": $v}));
        error_is($t, 400, 'validation_failed', 'max_articles_per_month', "max_articles_per_month = $v -> 400");
        $t->patch_ok($P, { %$A, 'Content-Type' => 'application/json' }, qq({"max_monthly_cost": $v}));
        error_is($t, 400, 'validation_failed', 'max_monthly_cost', "max_monthly_cost = $v -> 400");
    }
    $row = user_row($h, $user->{user}{id});
    ok(!defined $row->{max_monthly_cost} && $row->{role} eq 'user' && $row->{is_active}, 'no refused change was stored');

    # the admin and themselves
    my $S = "$USERS/$admin->{user}{id}";
    $t->patch_ok($S, $A, json => { is_active => \0 });
    error_is($t, 409, 'conflict', undef, 'an admin cannot deactivate themselves');
    $t->patch_ok($S, $A, json => { role => 'user' });
    error_is($t, 409, 'conflict', undef, 'an admin cannot demote themselves');
    $t->patch_ok($S, $A, json => { role => 'user', max_articles_per_month => 3 });
    error_is($t, 409, 'conflict', undef, '... not even with another change');
    is(user_row($h, $admin->{user}{id})->{max_articles_per_month}, undef, '... which is not stored either');
    $t->patch_ok($S, $A, json => { is_active => \1, role => 'admin' })->status_is(200, 'setting themselves to what they are: fine');
    $t->patch_ok($S, $A, json => { max_monthly_cost => '5' })->status_is(200, 'their own limits: fine')
      ->json_is('/limits/max_monthly_cost', '5.0000');
    $t->patch_ok($S, $A, json => { max_monthly_cost => undef })->status_is(200);
    my $admin_row = user_row($h, $admin->{user}{id});
    ok($admin_row->{role} eq 'admin' && $admin_row->{is_active}, 'still an active admin');

    # deactivation: refused on the very next request, with any credential
    my $v = register($h, prefix => 'victim');
    my $vc = $h->new_t;
    $vc->post_ok('/api/v1/auth/login', json => { email => $v->{email}, password => PASSWORD })->status_is(200);
    my %creds = (token => bearer($v->{token}), 'API key' => api_key_hdr($v->{api_key}));
    $h->new_t->get_ok('/api/v1/me', $creds{$_})->status_is(200, "before: $_ works") for sort keys %creds;
    $vc->get_ok('/api/v1/me')->status_is(200, 'before: cookie works');
    $t->patch_ok("$USERS/$v->{user}{id}", $A, json => { is_active => \0 })->status_is(200);
    like($t->tx->res->body, qr/"is_active":false/, 'is_active false in the answer');
    for my $c (sort keys %creds) {
        my $x = $h->new_t;
        $x->get_ok('/api/v1/me', $creds{$c});
        error_is($x, 401, 'unauthorized', undef, "deactivated: $c refused on the next request");
    }
    $vc->get_ok('/api/v1/me');
    error_is($vc, 401, 'unauthorized', undef, 'deactivated: cookie refused on the next request');
    $vc->post_ok('/api/v1/me/api-key', { 'Content-Type' => 'application/json' });
    error_is($vc, 401, 'unauthorized', undef, 'deactivated: writes refused too');
    my $lt = $h->new_t;
    $lt->post_ok('/api/v1/auth/login', json => { email => $v->{email}, password => PASSWORD });
    error_is($lt, 403, 'account_disabled', undef, 'deactivated: login -> 403 account_disabled');
    $t->patch_ok("$USERS/$v->{user}{id}", $A, json => { is_active => \1 })->status_is(200);
    # deactivation revoked the tokens: reactivating revives none of them
    my $rt = $h->new_t;
    $rt->get_ok('/api/v1/me', $creds{token});
    error_is($rt, 401, 'unauthorized', undef, 'reactivated: the old token stays refused');
    $h->new_t->get_ok('/api/v1/me', $creds{'API key'})->status_is(200, 'reactivated: the API key works again');
    $v->{token} = login($h, $v->{email}, PASSWORD)->{token};
    $h->new_t->get_ok('/api/v1/me', bearer($v->{token}))->status_is(200, 'reactivated: a new login works');

    # role changes take effect at once
    $t->patch_ok("$USERS/$v->{user}{id}", $A, json => { role => 'admin' })->status_is(200)->json_is('/role', 'admin');
    $h->new_t->get_ok($USERS, bearer($v->{token}))->status_is(200, 'promoted: admin paths open');
    $h->new_t->patch_ok("$USERS/$admin->{user}{id}", bearer($v->{token}), json => { role => 'user' })
      ->status_is(200, 'one admin may demote another');
    error_is($h->new_t->get_ok($USERS, $A), 403, 'forbidden', undef, 'the demoted admin is refused at once');
    $h->psql(q{UPDATE users SET role = 'admin' WHERE id = $1}, $admin->{user}{id});
    $t->patch_ok("$USERS/$v->{user}{id}", $A, json => { role => 'user' })->status_is(200);

    # two admins deactivating each other at once: one stays active (several
    # rounds: without the serialisation both would win about half the time)
    for my $round (1 .. 5) {
        my $x1 = register($h, prefix => "x1r$round");
        my $x2 = register($h, prefix => "x2r$round");
        make_admin($h, $_->{user}{id}) for $x1, $x2;
        my (@codes, @uas);
        Mojo::Promise->all(map {
            my ($me, $them) = @$_;
            push @uas, my $ua = $h->new_ua;
            $ua->patch_p($h->url("$USERS/$them->{user}{id}"), bearer($me->{token}), json => { is_active => \0 })
              ->then(sub { push @codes, $_[0]->res->code });
        } [ $x1, $x2 ], [ $x2, $x1 ])->wait;
        is(scalar(grep { $_ == 200 } @codes), 1, "round $round: two admins deactivating each other at once: only one succeeds")
            or diag("@codes");
        is($h->psql(q{SELECT count(*) FROM users WHERE id IN ($1, $2) AND is_active}, $x1->{user}{id}, $x2->{user}{id}), 1,
            "round $round: one of them is still active");
    }
}

# ---------------------------------------------------------------- usage of a month
{
    my $t = $h->new_t;
    my $cur = $h->psql(q{SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM')});
    $t->get_ok($USAGE, $A)->status_is(200)->json_is('/month', $cur, 'default: the current UTC month');
    is_deeply([ sort keys %{ $t->tx->res->json } ], [qw(items month totals)], 'month, items, totals');

    my @u = map { register($h, prefix => "usage$_") } 1 .. 3;
    $h->psql(q{INSERT INTO api_usage (user_id, month, articles_generated, total_cost) VALUES
               ($1, '2025-03-01', 1, 0.0001), ($2, '2025-03-01', 10, 12.3456), ($3, '2025-03-01', 4, 5.5),
               ($1, '2025-04-01', 99, 99), ($2, '2025-02-01', 7, 7)},
        map { $_->{user}{id} } @u);
    $t->get_ok("$USAGE?month=2025-03", $A)->status_is(200);
    my $b = $t->tx->res->json;
    is($b->{month}, '2025-03', 'the month asked for');
    is_deeply($b->{items}, [
        { user_id => $u[1]{user}{id}, email => $u[1]{email}, articles_generated => 10, total_cost => '12.3456' },
        { user_id => $u[2]{user}{id}, email => $u[2]{email}, articles_generated => 4,  total_cost => '5.5000' },
        { user_id => $u[0]{user}{id}, email => $u[0]{email}, articles_generated => 1,  total_cost => '0.0001' },
    ], 'that month only, highest cost first');
    is_deeply($b->{totals}, { articles_generated => 15, total_cost => '17.8457' }, 'exact totals');
    $t->get_ok("$USAGE?month=1999-12", $A)->status_is(200);
    is_deeply($t->tx->res->json, { month => '1999-12', items => [], totals => { articles_generated => 0, total_cost => '0.0000' } },
        'a month without use');

    for my $bad ('2026-13', '2026-00', '26-01', '2026-1', 'abcd-ef', '2026-01-01', '0000-01', '', '2026/01', ' 2026-01', '+026-01') {
        $t->get_ok("$USAGE?month=" . url_escape($bad), $A);
        error_is($t, 400, 'validation_failed', 'month', "month '$bad' -> 400");
    }
}

done_testing;
