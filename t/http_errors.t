# The HTTP layer as a client sees it through nginx: health, and the error
# bodies of API.md for unknown paths, wrong methods, oversized and
# malformed bodies.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use BP::Harness;
use BP::Util qw(error_is no_store_ok);
use IO::Socket::SSL;

my $h = BP::Harness->new(max_body => 4096);
my $t = $h->t;

$t->get_ok('/api/v1/health')->status_is(200)
  ->json_is('/status' => 'ok')->json_is('/database' => 'ok')
  ->json_like('/version' => qr/^\d+\.\d+\.\d+$/);
no_store_ok($t);
my $schema = $h->psql('select max(version) from schema_migrations');
$t->json_is('/schema_version' => $schema, 'schema_version is the newest applied migration');
ok($schema >= 4, 'schema has its migrations');

$t->get_ok('/api/v1/nope');
error_is($t, 404, 'not_found');
$t->get_ok('/api/v1/health/');
error_is($t, 404, 'not_found', undef, 'a trailing slash is another path');
$t->get_ok('/api/other');
error_is($t, 404, 'not_found', undef, 'unknown /api/ path outside v1');

$t->post_ok('/api/v1/health' => json => {});
error_is($t, 405, 'method_not_allowed');
$t->header_is('Allow' => 'GET');
$t->delete_ok('/api/v1/health');
error_is($t, 405, 'method_not_allowed');

# Body limit: 4096 bytes here, counted on the bytes read.
my $reg = '/api/v1/auth/register';
my $big = '{"email":"' . ('a' x 5000) . '"}';
$t->post_ok($reg => { 'Content-Type' => 'application/json' } => $big);
error_is($t, 413, 'payload_too_large');
my $fits = '{"x":"' . ('a' x (4096 - 8)) . '"}';
is(length $fits, 4096, 'a body of exactly the limit');
$t->post_ok($reg => { 'Content-Type' => 'application/json' } => $fits);
isnt($t->tx->res->code, 413, 'a body of exactly the limit is not refused for its size');

# A chunked body with no Content-Length over the limit.
sub raw_request {
    my ($req) = @_;
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $h->https_port,
        SSL_verify_mode => SSL_VERIFY_NONE) or die "connect: $!, $SSL_ERROR";
    print $s $req;
    local $/;
    my $res = <$s>;
    close $s;
    return $res // '';
}
my $chunk = 'a' x 1000;
my $chunks = join '', map { sprintf("%x\r\n%s\r\n", length $chunk, $chunk) } 1 .. 6;
my $res = raw_request("POST $reg HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunks}0\r\n\r\n");
like($res, qr{^HTTP/1\.1 413 }, 'chunked body over the limit: 413');
like($res, qr/"code":"payload_too_large"/, 'chunked 413 has the JSON error body');

# Content type and JSON
$t->post_ok($reg => { 'Content-Type' => 'text/plain' } => '{}');
error_is($t, 415, 'unsupported_media_type');
$t->post_ok($reg => '{}');
error_is($t, 415, 'unsupported_media_type', undef, 'no content type');
# No body and no content type: a request without fields, missing the first
# required one, not a body of the wrong type.
$t->post_ok($reg);
error_is($t, 400, 'validation_failed', 'email', 'no body, no content type: the email is missing');
$t->post_ok($reg => { 'Content-Type' => 'text/plain' });
error_is($t, 415, 'unsupported_media_type', undef, 'no body with a content type that is not JSON: 415');
$t->post_ok($reg => { 'Content-Type' => 'application/json; charset=utf-8' } => '{');
error_is($t, 400, 'invalid_json', undef, 'truncated JSON');
$t->post_ok($reg => { 'Content-Type' => 'application/json' } => '[1,2]');
error_is($t, 400, 'invalid_json', undef, 'array body');
$t->post_ok($reg => { 'Content-Type' => 'application/json' } => '"str"');
error_is($t, 400, 'invalid_json', undef, 'string body');
$t->post_ok($reg => { 'Content-Type' => 'application/json' } => '');
error_is($t, 400, 'invalid_json', undef, 'empty body');
$t->post_ok($reg => { 'Content-Type' => 'application/json' } => qq({"email":"a\0b"}));
error_is($t, 400, 'invalid_json', undef, 'raw NUL character');
$t->post_ok($reg => { 'Content-Type' => 'application/json' } => '{"email":"a\u0000b"}');
error_is($t, 400, 'invalid_json', undef, 'escaped NUL character');
$t->post_ok($reg => { 'Content-Type' => 'application/json' } => '{"a":1} x');
error_is($t, 400, 'invalid_json', undef, 'trailing garbage');
$t->post_ok($reg => { 'Content-Type' => 'application/json' } => ('[' x 2000) . (']' x 2000));
error_is($t, 400, 'invalid_json', undef, 'deep nesting');
$t->post_ok($reg => { 'Content-Type' => 'application/json' } => qq({"email":"\xff"}));
error_is($t, 400, 'invalid_json', undef, 'invalid UTF-8');

# The access log names the request id nginx passed.
$t->get_ok('/api/v1/health')->status_is(200);
my $rid = $t->tx->res->headers->header('X-Request-Id');
ok($rid, 'nginx returns its request id');
$h->wait_until(sub { $h->log =~ /rid=\Q$rid\E GET \/api\/v1\/health 200 \d+us/ }, 5,
    'the access-log line of that request');
pass('access-log line with the request id, method, path, status and time');
unlike($h->log, qr/runtime error|AddressSanitizer/, 'no sanitizer report so far');

done_testing;
