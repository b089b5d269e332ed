#!/usr/bin/env perl
# POST /api/v1/auth/register: the answer, the email and password rules at
# their boundaries, duplicates (also under concurrency), and the request
# errors of API.md that a registration can meet.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use BP::Pin;    # before any Mojo module

use Digest::SHA qw(sha256_hex);
use Mojo::IOLoop;
use Mojo::Promise;
use Test::More;

use BP::Harness;
use BP::Util qw(error_is unique_email);
use BP::AuthTest qw(register bearer api_key_hdr user_row PASSWORD);

my $h = BP::Harness->new(workers => 4);
my $t = $h->t;
my $REG = '/api/v1/auth/register';
my $RFC3339 = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

sub reg {
    my ($body, %o) = @_;
    my $t = $h->new_t;
    return $t->post_ok($REG, json => $body);
}

# ---------------------------------------------------------------- success
{
    my $email = unique_email('reg');
    my $tx_t  = reg({ email => " \t" . uc($email) . " \n", password => PASSWORD });
    $tx_t->status_is(201)->header_like('Cache-Control' => qr/no-store/);
    my $b = $tx_t->tx->res->json;
    is_deeply([ sort keys %$b ], [qw(api_key expires_at token user)], 'register: exactly user, token, expires_at, api_key');
    is_deeply([ sort keys %{ $b->{user} } ],
        [qw(api_key_prefix created_at email id is_active limits limits_source role)], 'the user object has the fields of API.md');
    is($b->{user}{email}, lc $email, 'email trimmed and lower-cased');
    like($b->{user}{id}, qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'id is a lower-case UUID');
    is($b->{user}{role}, 'user', 'role user');
    like($tx_t->tx->res->body, qr/"is_active":true/, 'is_active is JSON true');
    like($b->{user}{created_at}, $RFC3339, 'created_at RFC 3339 UTC, no fraction');
    like($b->{expires_at}, $RFC3339, 'expires_at RFC 3339 UTC');
    like($b->{api_key}, qr/^bp_[A-Za-z0-9_-]{43}$/, 'api_key: bp_ + 43 base64url');
    is($b->{user}{api_key_prefix}, substr($b->{api_key}, 0, 8), 'api_key_prefix: its first 8 characters');
    is_deeply($b->{user}{limits}, { max_monthly_cost => '50.0000', max_articles_per_month => 100 }, 'default limits');
    $h->t->get_ok('/api/v1/auth/config')->status_is(200)->json_is('', { registration_open => Mojo::JSON->true },
        'GET /auth/config: registration is open');
    is_deeply($b->{user}{limits_source}, { max_monthly_cost => 'default', max_articles_per_month => 'default' },
        'limits_source: both the defaults');
    like($tx_t->tx->res->body, qr/"max_monthly_cost":"50\.0000"/, 'money is a string with 4 decimals');

    my $row = user_row($h, $b->{user}{id});
    is($row->{email}, lc $email, 'stored normalised');
    like($row->{password_hash}, qr/^\$y\$/, 'password stored as a yescrypt hash');
    unlike($row->{password_hash}, qr/\Q${\PASSWORD}\E/, 'not in clear');
    is($row->{api_key_hash_hex}, sha256_hex($b->{api_key}), 'only the SHA-256 of the key is stored');
    is($row->{token_version}, 0, 'token version 0');

    my $claims = BP::AuthTest::jwt_claims($b->{token});
    is($claims->{sub}, $b->{user}{id}, 'token sub is the user');
    is($claims->{ver}, 0, 'token ver');
    cmp_ok(abs($claims->{exp} - $claims->{iat} - 7 * 86400), '<=', 1, 'JWT_TTL default 7 days');

    $h->new_t->get_ok('/api/v1/me', bearer($b->{token}))->status_is(200)->json_is('/user/id', $b->{user}{id});
    $h->new_t->get_ok('/api/v1/me', api_key_hdr($b->{api_key}))->status_is(200)->json_is('/user/id', $b->{user}{id});
    like($tx_t->tx->res->headers->header('Set-Cookie') // '', qr/^bp_session=\Q$b->{token}\E;/,
        'registration signs the browser in (session cookie)');
}

# ---------------------------------------------------------------- duplicates
{
    my $email = unique_email('dup');
    register($h, email => $email);
    for my $variant (uc($email), "  $email  ", "\t" . ucfirst($email) . "\r\n") {
        my $tt = reg({ email => $variant, password => PASSWORD });
        error_is($tt, 409, 'email_taken', undef, "same email as '" . ($variant =~ s/\s/ /gr) . "' -> 409 email_taken");
    }
    is($h->psql('SELECT count(*) FROM users WHERE email = $1', lc $email), 1, 'one account for all spellings');
}

# ---------------------------------------------------------------- passwords
{
    my %cases = (
        'ascii 11'             => [ 'a' x 11,          400 ],
        'ascii 12'             => [ 'a' x 12,          201 ],
        'ascii 128'            => [ 'b' x 128,         201 ],
        'ascii 129'            => [ 'c' x 129,         400 ],
        '2-byte x 11 (22 B)'   => [ "\x{e9}" x 11,     400 ],
        '2-byte x 12'          => [ "\x{e9}" x 12,     201 ],
        '3-byte x 128 (384 B)' => [ "\x{20ac}" x 128,  201 ],
        '3-byte x 129'         => [ "\x{20ac}" x 129,  400 ],
        '4-byte x 11 (44 B)'   => [ "\x{1f600}" x 11,  400 ],
        '4-byte x 12'          => [ "\x{1f600}" x 12,  201 ],
        'empty'                => [ '',                400 ],
    );
    for my $name (sort keys %cases) {
        my ($pw, $want) = @{ $cases{$name} };
        my $email = unique_email('pw');
        my $tt = reg({ email => $email, password => $pw });
        if ($want == 201) {
            $tt->status_is(201, "password $name characters: accepted");
            # and the same password (as characters) logs in
            $h->new_t->post_ok('/api/v1/auth/login', json => { email => $email, password => $pw })
              ->status_is(200, "password $name: logs in");
        } else {
            error_is($tt, 400, 'validation_failed', 'password', "password $name: 400 on password");
            is($h->psql('SELECT count(*) FROM users WHERE email = $1', $email), 0, "password $name: no account");
        }
    }
}

# ---------------------------------------------------------------- emails
{
    my $dom = '@example.com';
    my $n   = 0;
    my $mk  = sub { my ($len, $ch) = @_; $n++; return "$n" . ($ch // 'a') x ($len - length($dom) - length("$n")) . $dom };
    my $e254 = $mk->(254);
    is(length $e254, 254, '254-character address');
    reg({ email => $e254, password => PASSWORD })->status_is(201, 'email of 254 characters: accepted');
    my $e255 = $mk->(255);
    error_is(reg({ email => $e255, password => PASSWORD }), 400, 'validation_failed', 'email', 'email of 255 characters: 400');
    my $e254s = $mk->(254);
    reg({ email => "   $e254s\t", password => PASSWORD })->status_is(201, '254 characters plus surrounding blanks: trimmed first');
    my $m254 = $mk->(254, "\x{e9}");
    is(length $m254, 254, '254 characters, 2 bytes each in the local part');
    reg({ email => $m254, password => PASSWORD })->status_is(201, 'multi-byte email of 254 characters (> 254 bytes): accepted');
    error_is(reg({ email => $mk->(255, "\x{e9}"), password => PASSWORD }), 400, 'validation_failed', 'email',
        'multi-byte email of 255 characters: 400');

    for my $bad ('', '   ', 'plain', '@example.com', 'user@', 'a@@example.com', 'a@b@example.com',
        'a b@example.com', "a\tb\@example.com", "a\x{a0}b\@example.com", "a\x{2028}b\@example.com",
        "a\x{1}b\@example.com", "a\x{7f}\@example.com", "\x{feff}a\@example.com", '@') {
        (my $show = $bad) =~ s/([^\x21-\x7e])/sprintf '\\x{%x}', ord $1/ge;
        error_is(reg({ email => $bad, password => PASSWORD }), 400, 'validation_failed', 'email', "email '$show': 400 on email");
    }
    error_is(reg({ email => 42, password => PASSWORD }), 400, 'validation_failed', 'email', 'email as a number');
    error_is(reg({ email => undef, password => PASSWORD }), 400, 'validation_failed', 'email', 'email null');
    error_is(reg({ email => [ 'a@example.com' ], password => PASSWORD }), 400, 'validation_failed', 'email', 'email as an array');
    error_is(reg({ password => PASSWORD }), 400, 'validation_failed', 'email', 'email missing');
    error_is(reg({ email => unique_email('x') }), 400, 'validation_failed', 'password', 'password missing');
    error_is(reg({ email => unique_email('x'), password => 123456789012 }), 400, 'validation_failed', 'password',
        'password as a number');
}

# ---------------------------------------------------------------- unknown and read-only fields
for my $f (qw(role id is_active created_at api_key name)) {
    my $email = unique_email('ro');
    error_is(reg({ email => $email, password => PASSWORD, $f => 'admin' }), 400, 'validation_failed', $f,
        "field '$f' refused");
    is($h->psql('SELECT count(*) FROM users WHERE email = $1', $email), 0, "... and nothing created ($f)");
}

# ---------------------------------------------------------------- body errors
{
    my $tt = $h->new_t;
    $tt->post_ok($REG, { 'Content-Type' => 'application/json' }, '{"email": "a@example.com", ');
    error_is($tt, 400, 'invalid_json', undef, 'truncated JSON');
    $tt->post_ok($REG, { 'Content-Type' => 'application/json' }, '["a@example.com"]');
    error_is($tt, 400, 'invalid_json', undef, 'an array is not an object');
    $tt->post_ok($REG, { 'Content-Type' => 'application/json' }, '');
    error_is($tt, 400, 'invalid_json', undef, 'empty body');
    $tt->post_ok($REG, { 'Content-Type' => 'application/json' },
        '{"email":"nul\u0000@example.com","password":"' . PASSWORD . '"}');
    error_is($tt, 400, 'invalid_json', undef, 'NUL character');
    $tt->post_ok($REG, { 'Content-Type' => 'text/plain' }, '{"email":"a@example.com","password":"' . PASSWORD . '"}');
    error_is($tt, 415, 'unsupported_media_type', undef, 'text/plain -> 415');
    $tt->post_ok($REG, form => { email => 'a@example.com', password => PASSWORD });
    error_is($tt, 415, 'unsupported_media_type', undef, 'a form post -> 415');
    $tt->post_ok($REG, { 'Content-Type' => 'application/json; charset=utf-8' },
        '{"email":"' . unique_email('cs') . '","password":"' . PASSWORD . '"}')->status_is(201, 'charset parameter allowed');
    $tt->get_ok($REG);
    error_is($tt, 405, 'method_not_allowed', undef, 'GET register -> 405');
    is($tt->tx->res->headers->header('Allow'), 'POST', 'Allow: POST');
}

# ---------------------------------------------------------------- concurrency
{
    my $email = unique_email('race');
    my $n     = 10;
    my @uas   = map { $h->new_ua } 1 .. $n;
    my @codes;
    my @p = map {
        my $i = $_;
        $uas[$i]->post_p($h->url($REG), json => { email => ($i % 2 ? uc $email : $email), password => PASSWORD })
          ->then(sub { push @codes, $_[0]->res->code // 0 });
    } 0 .. $n - 1;
    Mojo::Promise->all(@p)->wait;
    is(scalar @codes, $n, "$n concurrent registrations answered");
    is(scalar(grep { $_ == 201 } @codes), 1, 'exactly one 201');
    is(scalar(grep { $_ == 409 } @codes), $n - 1, 'the rest 409') or diag("@codes");
    is($h->psql('SELECT count(*) FROM users WHERE email = $1', $email), 1, 'one account');
}

done_testing;
