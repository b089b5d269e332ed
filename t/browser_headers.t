#!/usr/bin/env perl
# What nginx adds to the web pages (nginx/blogposter.conf.in): the security
# headers, the caching of versioned assets, clean URLs and the 404 page, the
# rate limit of /api/v1/auth/ with its JSON 429; and rules the static pages
# keep so that the Content-Security-Policy holds (no inline script or style,
# one asset version). Runs without a browser.

use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use File::Basename qw(basename);
use Time::HiRes qw(sleep time);

use BP::Harness;

my $h    = BP::Harness->new;
my $t    = $h->t;
my $REPO = BP::Harness->repo;
my $WWW  = "$REPO/nginx/www";

sub slurp { my $f = shift; open my $fh, '<:raw', $f or die "$f: $!"; local $/; return scalar <$fh> }

sub security_headers_ok {
    my ($res, $what) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $csp = $res->headers->header('Content-Security-Policy') // '';
    subtest "security headers: $what" => sub {
        my %d = map { my ($k, @v) = split ' '; ($k => "@v") } grep { /\S/ } split /;\s*/, $csp;
        is($d{'default-src'}, q{'none'}, "default-src 'none'");
        is($d{'script-src'}, q{'self'}, "script-src 'self' only: no inline script, no eval");
        is($d{'style-src'}, q{'self'}, "style-src 'self' only: no inline style");
        is($d{'connect-src'}, q{'self'}, 'the pages talk only to this origin');
        is($d{'frame-ancestors'}, q{'none'}, "frame-ancestors 'none'");
        is($d{'object-src'}, q{'none'}, 'no plugins');
        is($d{'base-uri'}, q{'none'}, 'no <base>');
        unlike($csp, qr/unsafe-(inline|eval|hashes)/, 'nothing unsafe');
        is($res->headers->header('X-Content-Type-Options'), 'nosniff', 'nosniff');
        is($res->headers->header('Referrer-Policy'), 'no-referrer', 'Referrer-Policy');
        is($res->headers->header('X-Frame-Options'), 'DENY', 'X-Frame-Options');
        like($res->headers->header('Strict-Transport-Security') // '', qr/^max-age=(\d+)/, 'HSTS');
        my ($age) = ($res->headers->header('Strict-Transport-Security') // '') =~ /max-age=(\d+)/;
        is($res->headers->header('Strict-Transport-Security'), 'max-age=63072000',
            "HSTS for two years, as Mozilla's TLS profile says (no includeSubDomains: the deployment's choice)");
    };
}

# ------------------------------------------------------------ pages

for my $path ('/', '/signin', '/signup', '/articles', '/article', '/pipelines', '/usage', '/account', '/admin') {
    $t->get_ok($path)->status_is(200)->content_type_like(qr{^text/html})
      ->header_is('Cache-Control' => 'no-cache', "$path: revalidated, never cached blindly");
}
$t->get_ok('/articles')->content_like(qr{<title>Articles · blogposter</title>}, 'a clean URL is its .html page');
security_headers_ok($t->tx->res, 'a page');

$t->get_ok('/no/such/page')->status_is(404)->content_type_like(qr{^text/html})
  ->content_like(qr/Page not found/, 'a 404 page of the site');
unlike($t->tx->res->headers->header('Cache-Control') // '', qr/immutable|max-age/, 'not cached');
$t->get_ok('/404.html')->status_is(404, 'the 404 page is not a page of its own');

# ------------------------------------------------------------ versioned assets

my @pages = glob "$WWW/*.html";
ok(@pages >= 9, 'the pages are there');
my (%versions, %assets);
for my $p (@pages) {
    my $html = slurp($p);
    my $name = basename($p);
    $versions{$1}++ while $html =~ m{/static/(v\d+)/}g;
    $assets{$1} = $name while $html =~ m{(?:src|href)="/static/v\d+/([^"]+)"}g;
    unlike($html, qr{<script(?![^>]*\bsrc=)[^>]*>}i, "$name: no inline script");
    unlike($html, qr{\sstyle\s*=|<style}i, "$name: no inline style");
    unlike($html, qr{\son[a-z]+\s*=}i, "$name: no event handler attribute");
    unlike($html, qr{<script(?![^>]*type="module")[^>]*>}i, "$name: scripts are ES modules");
}
is(scalar(keys %versions), 1, 'every page loads the same asset version (' . join(' ', sort keys %versions) . ')');
my ($v) = keys %versions;
for my $a (sort keys %assets) {
    ok(-f "$WWW/static/$a", "$assets{$a} loads static/$a, which exists");
}

$t->get_ok("/static/$v/js/app.js")->status_is(200)
  ->content_type_like(qr{^application/javascript}, 'JavaScript as JavaScript (modules need it, with nosniff)')
  ->header_is('Cache-Control' => 'public, max-age=31536000, immutable', 'a versioned asset is cached for a year');
security_headers_ok($t->tx->res, 'an asset');
$t->get_ok("/static/$v/css/app.css")->status_is(200)->content_type_like(qr{^text/css})
  ->header_is('Cache-Control' => 'public, max-age=31536000, immutable');
$t->get_ok('/static/v999/css/app.css')->status_is(200, 'any version maps to the files (the page decides which one)');
$t->get_ok("/static/$v/img/icon.svg")->status_is(200)->content_type_like(qr{^image/svg\+xml});
$t->get_ok("/static/$v/js/nope.js")->status_is(404);
$t->get_ok('/static/js/app.js')->status_is(404, 'an asset only under a version');
$t->get_ok('/static/')->status_is(404, 'no listing');
unlike($t->tx->res->headers->header('Cache-Control') // '', qr/immutable/, 'a missing asset is not cached');

# The modules never turn API data into HTML.
for my $js (glob("$WWW/static/js/*.js"), glob("$WWW/static/js/pages/*.js")) {
    my $src  = slurp($js);
    my $name = $js =~ s{^\Q$WWW\E/}{}r;
    unlike($src, qr/\.innerHTML\s*=|outerHTML\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function/,
        "$name: no HTML from strings, no eval");
    unlike($src, qr/localStorage\.setItem\([^)]*(token|key)/i, "$name: stores no token");
}

# ------------------------------------------------------------ the API keeps its own headers

$t->get_ok('/api/v1/health')->status_is(200)
  ->header_is('Cache-Control' => 'no-store', "the API's Cache-Control, once, nothing added");
security_headers_ok($t->tx->res, 'an API answer');

# ------------------------------------------------------------ rate limit of /api/v1/auth/

subtest 'limit_req on /api/v1/auth/: 429 with a JSON error' => sub {
    # The harness configures a rate the other tests never reach; lower it
    # in this nginx's generated configuration and reload it.
    my $conf = "$h->{nginx_prefix}/conf/blogposter.conf";
    my $text = slurp($conf);
    ok($text =~ s/(zone=blogposter_auth:\S+ )rate=\S+;/${1}rate=1r\/m;/ && $text =~ s/(zone=blogposter_auth )burst=\d+/${1}burst=2/,
       'the generated configuration has the rate and burst');
    open my $fh, '>:raw', $conf or die "$conf: $!";
    print $fh $text;
    close $fh;
    ok(kill('HUP', $h->{nginx_pid}), 'nginx reloads');

    my $ua = $h->new_ua;
    my ($res, $n) = (undef, 0);
    my $deadline = time + 10;
    while (time < $deadline) {
        $res = $ua->post($h->url('/api/v1/auth/login'), json => { email => 'nobody@example.com', password => 'x' x 12 })->res;
        $n++;
        last if ($res->code // 0) == 429;
        sleep 0.05 if $n > 5;
    }
    is($res->code, 429, "refused after the burst ($n requests)");
    is($res->headers->content_type, 'application/json', 'JSON');
    is_deeply($res->json, { error => { code => 'too_many_requests', message => 'too many requests, retry later' } },
        "in API.md's error shape");
    is($res->headers->header('Cache-Control'), 'no-store', 'not cached');
    ok($res->headers->header('Retry-After'), 'with Retry-After');
    is($res->headers->header('X-Content-Type-Options'), 'nosniff', 'and the security headers');
    my $other = $ua->get($h->url('/api/v1/health'))->res;
    is($other->code, 200, 'the rest of the API is not limited');
};

# ------------------------------------------------------------ TLS

# Mozilla's "intermediate" profile: TLS 1.2 and 1.3 only, and for TLS 1.2
# only forward-secret AEAD suites; no session tickets. openssl s_client
# tries each (@SECLEVEL=0 lets the client offer what the server must refuse).
SKIP: {
    my $openssl = `sh -c 'command -v openssl'`;
    chomp $openssl;
    skip 'no openssl command', 9 unless $openssl;
    my $port = $h->https_port;
    my $hs = sub {
        my @args = @_;
        my $out = `$openssl s_client -connect 127.0.0.1:$port -servername localhost @args </dev/null 2>&1`;
        # "New, TLSv1.3, Cipher is ...": a handshake done; "(NONE)": none
        my $ok = $out =~ /^New, TLSv1\.[23], Cipher is (?!\(NONE\))\S+/m ? 1 : 0;
        return ($ok, $out);
    };
    for my $v (qw(tls1 tls1_1)) {
        my ($ok, $out) = $hs->("-$v", q{-cipher 'DEFAULT:@SECLEVEL=0'});
        ok(!$ok, "-$v: refused") or diag($out);
    }
    my ($ok, $out) = $hs->('-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256');
    ok($ok, 'TLS 1.2 with ECDHE-RSA-AES128-GCM-SHA256') or diag($out);
    unlike($out, qr/TLS session ticket/, 'no session ticket');
    ($ok, $out) = $hs->('-tls1_2', '-cipher', 'ECDHE-RSA-CHACHA20-POLY1305');
    ok($ok, 'TLS 1.2 with ECDHE-RSA-CHACHA20-POLY1305') or diag($out);
    for my $c ('AES128-SHA', 'AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA256') {
        ($ok, $out) = $hs->('-tls1_2', '-cipher', "'$c:\@SECLEVEL=0'");
        ok(!$ok, "TLS 1.2 with $c (no forward secrecy or not AEAD): refused") or diag($out);
    }
    ($ok, $out) = $hs->('-tls1_3');
    ok($ok, 'TLS 1.3') or diag($out);
}

done_testing;
