#!/usr/bin/env perl
# The caller's own account: GET /me with its usage, PUT /me/password and
# DELETE /me (everything the user owns goes; the last admin stays).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use BP::Harness;
use BP::Util qw(error_is);
use BP::AuthTest qw(register login bearer api_key_hdr make_admin user_row PASSWORD);

my $h = BP::Harness->new;
my $ME = '/api/v1/me';
my $this_month = $h->psql(q{SELECT date_trunc('month', now() AT TIME ZONE 'UTC')::date});
my $last_month = $h->psql(q{SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '1 month')::date});
(my $month_text = $this_month) =~ s/-01$//;

# ---------------------------------------------------------------- GET /me
{
    my $u = register($h, prefix => 'me');
    my $id = $u->{user}{id};
    my $t = $h->new_t;
    $t->get_ok($ME, bearer($u->{token}))->status_is(200)->header_like('Cache-Control' => qr/no-store/);
    my $b = $t->tx->res->json;
    is_deeply([ sort keys %$b ], [qw(usage user)], 'user and usage');
    is_deeply($b->{user}, $u->{user}, 'the same user object as at registration');
    is_deeply($b->{usage}, {
        month => $month_text, articles_generated => 0, articles_in_progress => 0, total_cost => '0.0000',
        limits => { max_monthly_cost => '50.0000', max_articles_per_month => 100 },
        remaining => { cost => '50.0000', articles => 100 },
    }, 'a new user: no usage, the default limits');

    # this month: 3 articles for 1.2345; one run in progress reserving 0.5;
    # one timed out (holds nothing); last month does not count
    $h->psql(q{INSERT INTO api_usage (user_id, month, articles_generated, total_cost) VALUES ($1, $2, 3, 1.2345), ($1, $3, 7, 9)},
        $id, $this_month, $last_month);
    $h->psql(q{INSERT INTO pipelines (user_id, status, estimated_cost) VALUES ($1, 'running', 0.5)}, $id);
    $h->psql(q{INSERT INTO pipelines (user_id, status, estimated_cost, started_at) VALUES ($1, 'running', 3, now() - interval '3 hours')}, $id);
    $h->psql(q{INSERT INTO pipelines (user_id, status, estimated_cost, total_cost, completed_at) VALUES ($1, 'completed', 1, 1, now())}, $id);
    $t->get_ok($ME, bearer($u->{token}))->status_is(200);
    is_deeply($t->tx->res->json->{usage}, {
        month => $month_text, articles_generated => 3, articles_in_progress => 1, total_cost => '1.2345',
        limits => { max_monthly_cost => '50.0000', max_articles_per_month => 100 },
        remaining => { cost => '48.2655', articles => 96 },
    }, 'usage: this month, runs in progress reserve their estimate');
    like($t->tx->res->body, qr/"total_cost":"1\.2345"/, 'money as a string');
    $t->get_ok('/api/v1/usage', bearer($u->{token}))->status_is(200);
    is_deeply($t->tx->res->json, $h->new_t->get_ok($ME, bearer($u->{token}))->tx->res->json->{usage},
        'usage in /me is exactly GET /usage');

    # overrides: limits in both places; remaining never below 0
    $h->psql(q{UPDATE users SET max_monthly_cost = 1, max_articles_per_month = 2 WHERE id = $1}, $id);
    $t->get_ok($ME, bearer($u->{token}))->status_is(200);
    is_deeply($t->tx->res->json->{user}{limits}, { max_monthly_cost => '1.0000', max_articles_per_month => 2 }, 'user limits: the overrides');
    is_deeply($t->tx->res->json->{usage}{limits}, { max_monthly_cost => '1.0000', max_articles_per_month => 2 }, 'usage limits: the overrides');
    is_deeply($t->tx->res->json->{usage}{remaining}, { cost => '0.0000', articles => 0 }, 'remaining never below 0');

    $t->get_ok($ME);
    error_is($t, 401, 'unauthorized', undef, 'GET /me without credentials');
    $t->post_ok($ME, bearer($u->{token}));
    error_is($t, 405, 'method_not_allowed', undef, 'POST /me -> 405');
    like($t->tx->res->headers->header('Allow') // '', qr/^(?=.*GET)(?=.*DELETE)/, 'Allow lists GET and DELETE');
}

# ---------------------------------------------------------------- PUT /me/password
{
    my $u = register($h, prefix => 'pw');
    my $s = login($h, $u->{email}, PASSWORD);
    my $t = $h->new_t;
    my $P = '/api/v1/me/password';
    my $new = "new password \x{e9}\x{e9}\x{e9} ok";

    $t->put_ok($P, bearer($u->{token}), json => { current_password => 'wrong wrong wrong', new_password => $new });
    error_is($t, 401, 'invalid_credentials', undef, 'wrong current_password -> 401 invalid_credentials');
    $t->put_ok($P, bearer($u->{token}), json => { current_password => PASSWORD, new_password => 'x' x 11 });
    error_is($t, 400, 'validation_failed', 'new_password', 'new password of 11 characters');
    $t->put_ok($P, bearer($u->{token}), json => { current_password => PASSWORD, new_password => "\x{20ac}" x 129 });
    error_is($t, 400, 'validation_failed', 'new_password', 'new password of 129 characters');
    $t->put_ok($P, bearer($u->{token}), json => { new_password => $new });
    error_is($t, 400, 'validation_failed', 'current_password', 'current_password missing');
    $t->put_ok($P, bearer($u->{token}), json => { current_password => PASSWORD });
    error_is($t, 400, 'validation_failed', 'new_password', 'new_password missing');
    $t->put_ok($P, bearer($u->{token}), json => { current_password => PASSWORD, new_password => $new, password => 'x' });
    error_is($t, 400, 'validation_failed', 'password', 'unknown field');
    $t->put_ok($P, { %{ bearer($u->{token}) }, 'Content-Type' => 'text/plain' }, 'x');
    error_is($t, 415, 'unsupported_media_type', undef, 'not JSON -> 415');
    $t->put_ok($P, json => { current_password => PASSWORD, new_password => $new });
    error_is($t, 401, 'unauthorized', undef, 'no credentials -> 401');
    is(user_row($h, $u->{user}{id})->{token_version}, 0, 'nothing changed so far');

    $t->put_ok($P, bearer($s->{token}), json => { current_password => PASSWORD, new_password => $new })->status_is(200);
    my $b = $t->tx->res->json;
    is_deeply([ sort keys %$b ], [qw(expires_at token)], 'token and expires_at');
    ok(!defined $t->tx->res->headers->header('Set-Cookie'), 'bearer-authenticated: no cookie set');
    is(user_row($h, $u->{user}{id})->{token_version}, 1, 'token version bumped');
    for my $old ([ 'the token used', $s->{token} ], [ 'the registration token', $u->{token} ]) {
        $t->get_ok($ME, bearer($old->[1]));
        error_is($t, 401, 'unauthorized', undef, "after the change: $old->[0] -> 401");
    }
    $t->get_ok($ME, bearer($b->{token}))->status_is(200, 'the new token works');
    $t->get_ok($ME, api_key_hdr($u->{api_key}))->status_is(200, 'the API key is not a token: it still works');
    ok(!login($h, $u->{email}, PASSWORD), 'the old password no longer logs in');
    ok(login($h, $u->{email}, $new), 'the new one does');
    $t->put_ok($P, bearer($b->{token}), json => { current_password => PASSWORD, new_password => $new });
    error_is($t, 401, 'invalid_credentials', undef, 'the old password is no longer current');

    # in the browser: cookie-authenticated, the cookie is replaced
    my $c = $h->new_t;
    $c->post_ok('/api/v1/auth/login', json => { email => $u->{email}, password => $new })->status_is(200);
    $c->put_ok($P, { 'Content-Type' => 'application/json' },
        Mojo::JSON::encode_json({ current_password => $new, new_password => PASSWORD }))->status_is(200);
    my $tok = $c->tx->res->json->{token};
    like($c->tx->res->headers->header('Set-Cookie') // '', qr/^bp_session=\Q$tok\E;/, 'cookie-authenticated: the cookie gets the new token');
    $c->get_ok($ME)->status_is(200, 'so the browser stays signed in');
}

# ---------------------------------------------------------------- DELETE /me
sub owned_counts {
    my $id = shift;
    my %n;
    for my $r ($h->psql(q{SELECT table_name FROM information_schema.columns
                           WHERE table_schema = 'public' AND column_name = 'user_id' ORDER BY 1})) {
        my $tbl = $r->[0];
        $n{$tbl} = $h->psql(qq{SELECT count(*) FROM "$tbl" WHERE user_id = \$1}, $id);
    }
    $n{users} = $h->psql(q{SELECT count(*) FROM users WHERE id = $1}, $id);
    return \%n;
}

sub give_rows {
    my $id = shift;
    my $art = $h->psql(q{INSERT INTO articles (user_id, title, slug) VALUES ($1, 'T', 'slug-' || left(md5($1::text), 8)) RETURNING id}, $id);
    $h->psql(q{INSERT INTO pipelines (user_id, article_id, status, total_cost, completed_at) VALUES ($1, $2, 'completed', 1, now())}, $id, $art);
    $h->psql(q{INSERT INTO pipelines (user_id, status) VALUES ($1, 'running')}, $id);
    $h->psql(q{INSERT INTO api_usage (user_id, month, articles_generated, total_cost) VALUES ($1, $2, 1, 1)}, $id, $this_month);
    $h->psql(q{INSERT INTO idempotency_keys (user_id, key, request_hash, status, response_body) VALUES ($1, 'k1', sha256('x'), 201, '{}')}, $id);
    $h->psql(q{INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES (md5($1::text), $1, now() + interval '1 day')}, $id);
}

{
    my $u = register($h, prefix => 'del');
    my $keep = register($h, prefix => 'keep');
    give_rows($u->{user}{id});
    give_rows($keep->{user}{id});
    my $before = owned_counts($u->{user}{id});
    ok(!grep({ !$_ } values %$before), 'the user owns rows in every table: ' . join ', ', sort keys %$before);
    my $keep_before = owned_counts($keep->{user}{id});
    my $t = $h->new_t;

    $t->delete_ok($ME, bearer($u->{token}), json => { password => 'not the password' });
    error_is($t, 401, 'invalid_credentials', undef, 'wrong password -> 401 invalid_credentials');
    $t->delete_ok($ME, bearer($u->{token}));
    error_is($t, 400, 'validation_failed', 'password', 'no body, no content type -> 400 naming password');
    $t->delete_ok($ME, { %{ bearer($u->{token}) }, 'Content-Type' => 'text/plain' }, 'x');
    error_is($t, 415, 'unsupported_media_type', undef, 'a body of another type -> 415');
    $t->delete_ok($ME, { %{ bearer($u->{token}) }, 'Content-Type' => 'application/json' }, '');
    error_is($t, 400, 'invalid_json', undef, 'no body -> 400 invalid_json');
    $t->delete_ok($ME, bearer($u->{token}), json => {});
    error_is($t, 400, 'validation_failed', 'password', 'password missing');
    $t->delete_ok($ME, bearer($u->{token}), json => { password => PASSWORD, confirm => \1 });
    error_is($t, 400, 'validation_failed', 'confirm', 'unknown field');
    $t->delete_ok($ME, json => { password => PASSWORD });
    error_is($t, 401, 'unauthorized', undef, 'no credentials -> 401');
    is_deeply(owned_counts($u->{user}{id}), $before, 'nothing deleted so far');

    $t->delete_ok($ME, api_key_hdr($u->{api_key}), json => { password => PASSWORD })->status_is(204)->content_is('');
    like($t->tx->res->headers->header('Set-Cookie') // '', qr/^bp_session=;.*Max-Age=0/, 'the cookie is cleared');
    my $after = owned_counts($u->{user}{id});
    is_deeply($after, { map { $_ => 0 } keys %$before }, 'no row of the user left in any table');
    is_deeply(owned_counts($keep->{user}{id}), $keep_before, "another user's rows are untouched");
    $t->get_ok($ME, bearer($u->{token}));
    error_is($t, 401, 'unauthorized', undef, 'its token is dead');
    $t->get_ok($ME, api_key_hdr($u->{api_key}));
    error_is($t, 401, 'unauthorized', undef, 'its key is dead');
    ok(!login($h, $u->{email}, PASSWORD), 'it cannot log in');
    register($h, email => $u->{email});    # the email is free again
}

# ---------------------------------------------------------------- the last admin
{
    $h->psql(q{UPDATE users SET role = 'user'});
    my $a1 = register($h, prefix => 'admin1');
    my $a2 = register($h, prefix => 'admin2');
    my $a3 = register($h, prefix => 'admin3');
    make_admin($h, $a1->{user}{id});
    my $t = $h->new_t;
    $t->delete_ok($ME, bearer($a1->{token}), json => { password => PASSWORD });
    error_is($t, 409, 'conflict', undef, 'the only admin cannot delete themselves -> 409 conflict');
    is(user_row($h, $a1->{user}{id})->{role}, 'admin', '... and still exists');

    make_admin($h, $a3->{user}{id});
    $h->psql('UPDATE users SET is_active = false WHERE id = $1', $a3->{user}{id});
    $t->delete_ok($ME, bearer($a1->{token}), json => { password => PASSWORD });
    error_is($t, 409, 'conflict', undef, 'a deactivated admin does not count');

    make_admin($h, $a2->{user}{id});
    $t->delete_ok($ME, bearer($a1->{token}), json => { password => PASSWORD })->status_is(204, 'with another active admin: deleted');
    ok(!defined user_row($h, $a1->{user}{id}), 'gone');
    $t->delete_ok($ME, bearer($a2->{token}), json => { password => PASSWORD });
    error_is($t, 409, 'conflict', undef, 'now the other one is the last');

    # two admins deleting themselves at once: one of them stays (several
    # rounds: without the serialisation both would win about half the time)
    my $last = $a2;
    for my $round (1 .. 5) {
        my $b1 = register($h, prefix => "race$round");
        make_admin($h, $b1->{user}{id});
        my (@codes, @uas);
        Mojo::Promise->all(map {
            my $who = $_;
            push @uas, my $ua = $h->new_ua;
            $ua->delete_p($h->url($ME), bearer($who->{token}), json => { password => PASSWORD })
              ->then(sub { push @codes, $_[0]->res->code });
        } $last, $b1)->wait;
        is_deeply([ sort @codes ], [ 204, 409 ], "round $round: concurrent self-deletion of the last two admins: one 204, one 409");
        is($h->psql(q{SELECT count(*) FROM users WHERE role = 'admin' AND is_active}), 1, "round $round: one active admin remains");
        ($last) = grep { defined user_row($h, $_->{user}{id}) } $last, $b1;
        last unless $last;
    }
}

done_testing;
