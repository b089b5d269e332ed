#!/usr/bin/env perl
# The web pages in a real browser: headless Chromium from Debian, driven
# over WebDriver (t/lib/BP/WebDriver.pm), against the whole stack of
# BP::Harness (nginx serving nginx/www, blogposter, PostgreSQL).
#
#   sign up -> sign out -> sign in (keyboard only) -> articles made through
#   the API (list, paging, filter) -> one article (metadata, sandboxed
#   preview, related) -> an article whose HTML holds scripts runs nothing ->
#   pipeline history -> account (rotate the key, password, sign out
#   everywhere) -> a second user sees none of the first one's articles ->
#   admin (deactivate, limits) -> usage bars and chart against the API ->
#   delete an account -> phone width -> registration closed -> 404.
#
# After every page: no console error (console.error, exceptions, CSP
# reports, failed loads) except the API errors the step provokes on
# purpose. A screenshot of each page goes to t/tmp/screenshots/.
#
# Skipped only when chromium or chromedriver is not installed, and never
# under CI (tools/dev test installs them).

use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/lib";
use BP::Pin;    # before any Mojo module

use Test::More;
use Mojo::JSON qw(true false);
use Time::HiRes qw(sleep time);
use POSIX ();

use BP::WebDriver;

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);
my $T0 = time;
my ($have, $why) = BP::WebDriver->available;
if (!$have) {
    if ($ENV{CI}) {
        fail("browser tests cannot run under CI: $why");
        done_testing;
        exit;
    }
    plan skip_all => $why;
}

require BP::Harness;
my $REPO  = BP::Harness->repo;
my $SHOTS = "$REPO/t/tmp/screenshots";
unlink glob "$SHOTS/*.png";

my $h  = BP::Harness->new(env => { EMBEDDING_DIM => 3 });
my $wd = BP::WebDriver->new(base => $h->base_url, shots => $SHOTS);
note 'chromium ' . $wd->browser_version;

my $api_ua = $h->new_ua;
my $TAG    = "$$-" . int(rand 1e6);
my $PW     = 'correct horse battery staple';

# ------------------------------------------------------------ helpers

# api(METHOD, PATH, {auth headers}, BODY) -> (code, json)
sub api {
    my ($method, $path, $auth, $body) = @_;
    my %hdr = %{ $auth // {} };
    my $tx = defined $body
        ? $api_ua->build_tx($method => $h->url($path), \%hdr, json => $body)
        : $api_ua->build_tx($method => $h->url($path), \%hdr);
    $tx = $api_ua->start($tx);
    my $code = $tx->res->code // 0;
    return ($code, ($code == 204 ? undef : eval { $tx->res->json }));
}

sub key_auth { return { 'X-API-Key' => $_[0] } }

# The status of an API request.
sub code_of { my ($code) = api(@_); return $code }

# "1.3345" -> "$1.33": dollars rounded half up to the cent, as the pages show them.
sub usd {
    my ($v) = @_;
    my ($i, $f) = $v =~ /^(\d+)(?:\.(\d{0,4}))?$/ or return $v;
    my $units = $i * 10000 + (($f // '') . '0000') =~ s/^(\d{4}).*/$1/r;
    my $cents = int(($units + 50) / 100);
    my $d = int($cents / 100);
    1 while $d =~ s/^(\d+)(\d{3})/$1,$2/;
    return sprintf('$%s.%02d', $d, $cents % 100);
}

# "2026-11" minus n months.
sub month_minus {
    my ($ym, $n) = @_;
    my ($y, $m) = split /-/, $ym;
    my $i = $y * 12 + ($m - 1) - $n;
    return sprintf '%04d-%02d', int($i / 12), $i % 12 + 1;
}

# api_ok: like api() but asserts the status (one test).
sub api_ok {
    my ($want, @a) = @_;
    my ($code, $json) = api(@a);
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is($code, $want, "API $a[0] $a[1] -> $want") or diag explain $json;
    return $json;
}

# No SEVERE console entry since the last check, except those matching one
# of the allowed patterns (errors that the step provokes on purpose).
sub console_clean {
    my ($what, @allow) = @_;
    my @errors = $wd->console_errors;
    my @bad;
    for my $e (@errors) {
        push @bad, $e unless grep { $e =~ $_ } @allow;
    }
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    ok(!@bad, "no console errors: $what") or diag join "\n", @bad;
}

# A failed API request as Chromium reports it in the console.
sub api_status { my ($path, $status) = @_; return qr{\Q$path\E\S* - Failed to load resource: the server responded with a status of $status\b} }

# What the preview's sandbox and CSP block in an article's HTML, reported by
# Chromium from the srcdoc frame: expected, the page does not clean it.
my $PREVIEW_BLOCKED = qr{about:srcdoc};

sub open_page {
    my ($path, $url_re) = @_;
    $wd->get($path);
    return $wd->wait_ready($url_re);
}

# The text of the first element matching css, as rendered (innerText), white space folded.
sub text_of { my $css = shift; return $wd->js('var e = document.querySelector(arguments[0]); return e ? e.innerText.replace(/\s+/g, " ").trim() : null', $css) }
sub count_of { my $css = shift; return $wd->js('return document.querySelectorAll(arguments[0]).length', $css) }

sub no_overflow {
    my $what = shift;
    my $r = $wd->js('return [document.documentElement.scrollWidth, window.innerWidth]');
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    ok($r->[0] <= $r->[1], "$what: no horizontal scrolling at phone width ($r->[0] <= $r->[1])");
}

sub sign_out_header {
    $wd->click('#sign-out');
    $wd->wait_ready(qr{/signin\?signed_out=1});
}

sub sign_in {
    my ($email, $pw, $url_re) = @_;
    open_page('/signin', qr{/signin});
    $wd->type('#email', $email);
    $wd->type('#password', $pw);
    $wd->click('#signin-submit');
    return $wd->wait_ready($url_re // qr{/articles});
}

# ------------------------------------------------------------ the console check can fail

subtest 'the console check sees errors' => sub {
    open_page('/signin');
    $wd->js('console.error("deliberate console error")');
    $wd->js('setTimeout(function () { throw new Error("deliberate exception") }, 0)');
    sleep 0.2;
    my @e = $wd->console_errors;
    ok((grep { /deliberate console error/ } @e), 'console.error is reported') or diag explain \@e;
    ok((grep { /deliberate exception/ } @e), 'an uncaught exception is reported') or diag explain \@e;
    is(scalar($wd->console_errors), 0, 'each check sees only what is new');
};

# ------------------------------------------------------------ sign up

my $alice = { email => "alice-$TAG\@example.com" };
subtest 'sign up' => sub {
    open_page('/signup');
    is($wd->active_id, 'email', 'the email field has the focus');

    $wd->type('#email', $alice->{email});
    $wd->type('#password', 'too short');
    $wd->type('#password2', 'too short');
    $wd->click('#signup-submit');
    $wd->wait_for('#password-error:not([hidden])');
    my (undef, $expect) = api('POST', '/api/v1/auth/register', {}, { email => 'x@example.com', password => 'too short' });
    is(text_of('#password-error'), $expect->{error}{message}, "the API's message is shown") ;
    is($wd->js('return document.getElementById("password").nextElementSibling.id'), 'password-error',
        'next to the password field');
    is($wd->attr('#password', 'aria-invalid'), 'true', 'the field is marked invalid');
    like($wd->attr('#password', 'aria-describedby'), qr/\bpassword-error\b/, 'and described by the message');
    is($wd->active_id, 'password', 'the focus moved to it');
    console_clean('sign-up, refused password', api_status('/api/v1/auth/register', 400));

    $wd->type('#password', $PW);
    $wd->type('#password2', "$PW!");
    $wd->click('#signup-submit');
    $wd->wait_for('#password2-error:not([hidden])');
    like(text_of('#password2-error'), qr/differ/, 'the two passwords must match');
    ok(!$wd->displayed('#password-error'), 'the earlier message is gone');

    $wd->type('#password2', $PW);
    $wd->click('#signup-submit');
    $wd->wait_for('#new-key');
    $alice->{key} = $wd->prop('#new-key', 'value');
    like($alice->{key}, qr/^bp_[A-Za-z0-9_-]{43}$/, 'the new API key is shown once');
    my $me = api_ok(200, 'GET', '/api/v1/me', key_auth($alice->{key}));
    is($me->{user}{email}, $alice->{email}, 'and it is the key of the new account');
    $alice->{id} = $me->{user}{id};
    $wd->click('#new-key-copy');
    $wd->wait_for(sub { text_of('#new-key-status') }, 'the copy status');
    like(text_of('#new-key-status'), qr/Copied|copy it/, 'the copy button answers');
    $wd->screenshot('signup-api-key');
    console_clean('sign-up, done');

    $wd->click('#continue');
    $wd->wait_ready(qr{/articles$});
    like(text_of('#empty'), qr/No articles yet/, 'signed in: the empty list of articles');
    is(text_of('#who-email'), $alice->{email}, 'the header names the user');
    console_clean('articles, empty');
};

subtest 'no token in the pages' => sub {
    my $store = $wd->js(q{
        var out = [];
        [localStorage, sessionStorage].forEach(function (s) {
            for (var i = 0; i < s.length; i++) out.push(s.key(i) + '=' + s.getItem(s.key(i)));
        });
        return out;
    });
    ok(!(grep { /eyJ[\w-]+\.[\w-]+\.|bp_[A-Za-z0-9_-]{20}/ } @$store), 'no token or key in localStorage or sessionStorage')
        or diag explain $store;
    is($wd->js('return document.cookie'), '', 'the session cookie is out of reach of scripts');
};

# ------------------------------------------------------------ sign out, sign in

subtest 'sign out and sign in' => sub {
    sign_out_header();
    is(text_of('#notice'), 'You are signed out.', 'signed out');
    is(code_of('GET', '/api/v1/me', {}), 401, 'sanity: no session in the API client');

    $wd->type('#email', $alice->{email});
    $wd->type('#password', 'not the password at all');
    $wd->click('#signin-submit');
    $wd->wait_for('#password-error:not([hidden])');
    my (undef, $expect) = api('POST', '/api/v1/auth/login', {}, { email => $alice->{email}, password => 'nope nope nope' });
    is(text_of('#password-error'), $expect->{error}{message}, "wrong password: the API's message under the password");
    ok(!$wd->exists('#email-error:not([hidden])'), 'nothing under the email');
    $wd->screenshot('signin-error');
    console_clean('sign-in, wrong password', api_status('/api/v1/auth/login', 401));

    # By keyboard only: the email field has the focus on arrival.
    open_page('/articles', qr{/signin\?next=});
    console_clean('a signed-out visit to /articles', api_status('/api/v1/me', 401));
    like(text_of('#notice'), qr/Sign in to continue/, 'a protected page sends to the sign-in page');
    is($wd->active_id, 'email', 'the email field has the focus');
    $wd->keys_to_active($alice->{email} . BP::WebDriver::KEY_TAB);
    is($wd->active_id, 'password', 'Tab goes to the password');
    $wd->keys_to_active($PW . BP::WebDriver::KEY_ENTER);
    $wd->wait_ready(qr{/articles$});
    pass('Enter signs in and goes back to the page asked for');
    console_clean('sign-in by keyboard');
};

subtest 'after sign-in, only pages of this site are followed' => sub {
    # signed in: the sign-in page sends on to ?next at once, without a click
    my $base = $h->base_url;
    my $leave = sub {
        my ($next) = @_;
        $wd->get('/signin?next=' . $next);
        my $u = eval {
            $wd->wait_for(sub { my $x = $wd->current_url; $x =~ m{/signin\b} ? 0 : $x },
                "leaving the sign-in page (next=$next)", 10);
        };
        return $u // ('still at ' . $wd->current_url . ($@ ? " ($@)" : ''));
    };
    for my $evil ('/%09/evil.example', '/%0A/evil.example', '/%0D/evil.example', '/%5C/evil.example',
                  '//evil.example', 'https://evil.example/', '/%09%09//evil.example/x', 'javascript:alert(1)') {
        my $u = $leave->($evil);
        like($u, qr{^\Q$base\E/articles(?:\.html)?$}, "next=$evil stays on the site (the article list)");
        $wd->wait_ready(qr{/articles}) if $u =~ /^\Q$base\E/;
    }
    my $u = $leave->('/articles.html?x=1');
    like($u, qr{^\Q$base\E/articles\.html\?x=1$}, 'next=/articles.html?x=1 is followed');
    $wd->wait_ready(qr{/articles});
    $u = $leave->('/usage');
    like($u, qr{^\Q$base\E/usage$}, 'next=/usage is followed');
    $wd->wait_ready(qr{/usage});
    console_clean('sign-in page with ?next');
};

# ------------------------------------------------------------ articles

my (%art, @fillers);
subtest 'articles made through the API' => sub {
    my $auth = key_auth($alice->{key});
    for my $i (1 .. 20) {
        my $a = api_ok(201, 'POST', '/api/v1/articles', $auth, { title => "Filler article $i", status => 'draft' });
        push @fillers, $a;
    }
    $art{related} = api_ok(201, 'POST', '/api/v1/articles', $auth, {
        title => 'Keyword research basics', status => 'scheduled', seo_score => 64,
        primary_keyword => 'keyword research', embedding => [0.9, 0.1, 0],
        content_html => '<p>Related.</p>',
    });
    $art{xss} = api_ok(201, 'POST', '/api/v1/articles', $auth, {
        title => q{<script>window.__bp_pwned='title'</script> An article with scripts},
        primary_keyword => q{<img src=x onerror="window.__bp_pwned='keyword'">},
        status => 'draft',
        content_html => join('',
            '<p id="harmless">Harmless paragraph.</p>',
            q{<script>window.__bp_pwned = 'script'; try { parent.__bp_pwned = 'script' } catch (e) {}</script>},
            q{<img src="/nonexistent.png" onerror="window.__bp_pwned='onerror'; parent.__bp_pwned='onerror'">},
            q{<img src=x onerror=parent.__bp_pwned='onerror2'>},
            q{<svg><script>parent.__bp_pwned='svg'</script></svg>},
            q{<a id="jslink" href="javascript:parent.__bp_pwned='href'">a scripted link</a>},
            q{<iframe srcdoc="&lt;script&gt;parent.parent.__bp_pwned='nested'&lt;/script&gt;"></iframe>},
            q{<object data="javascript:parent.__bp_pwned='object'"></object>},
            q{<div id="hover" onmouseover="parent.__bp_pwned='hover'">hover me</div>},
            q{<style>body { display: none }</style>},
            q{<meta http-equiv="refresh" content="0; url=javascript:parent.__bp_pwned='meta'">}),
    });
    $art{main} = api_ok(201, 'POST', '/api/v1/articles', $auth, {
        title => 'Ten tips for <b>SEO</b> & more', status => 'published', seo_score => 87.5,
        primary_keyword => 'seo tips', meta_description => 'Ten practical tips.',
        wp_post_id => 42, wp_url => 'https://blog.example.com/ten-tips', embedding => [1, 0, 0],
        content_html => join('',
            '<h2>Why it matters</h2>',
            '<p id="styled" style="color: rgb(200, 0, 0)">Search engines <strong>reward</strong> ',
            '<a id="out" href="https://example.org/">useful</a> pages.</p>',
            '<ul><li>Write for people</li><li>Answer the question first</li></ul>',
            '<blockquote>Content is king.</blockquote>',
            '<img alt="a red pixel" width="40" height="40" src="data:image/png;base64,',
            'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==">'),
    });

    open_page('/articles', qr{/articles$});
    is(count_of('#articles tbody tr'), 20, 'the first page: 20 articles');
    ok($wd->displayed('#more'), '"Load more" is offered');
    my $first = '#articles tbody tr:first-child';
    is(text_of("$first td.title"), $art{main}{title}, 'newest first, the title as text');
    is(text_of("$first td:nth-child(2)"), 'Published', 'status');
    is(text_of("$first td.seo"), '87.5', 'SEO score');
    is(text_of("$first td.keyword"), 'seo tips', 'primary keyword');
    is($wd->attr("$first td:nth-child(5) a", 'href'), 'https://blog.example.com/ten-tips', 'WordPress link');
    is($wd->attr("$first td:nth-child(5) a", 'rel'), 'noopener noreferrer', 'opened without referrer or opener');
    is($wd->attr("$first time", 'datetime'), $art{main}{created_at}, 'created date');
    (my $utc = $art{main}{created_at}) =~ s/^(\S+)T(\S+)Z$/$1 $2 UTC/;
    is($wd->attr("$first time", 'title'), $utc, 'in UTC on hover');
    is(text_of('#articles tbody tr:nth-child(2) td.title'), $art{xss}{title}, 'a title with markup is shown as text');
    $wd->full_screenshot('articles');
    console_clean('articles');

    $wd->click('#more');
    $wd->wait_for(sub { count_of('#articles tbody tr') == 23 }, '23 rows');
    ok(!$wd->displayed('#more'), 'all loaded: no more "Load more"');
    is(text_of('#articles tbody tr:last-child td.title'), 'Filler article 1', 'the oldest last');
    my %ids = map { $_ => 1 } @{ $wd->js('return Array.from(document.querySelectorAll("#articles tbody tr")).map(function (r) { return r.dataset.id })') };
    is(scalar keys %ids, 23, 'no article twice');

    # The place in the list survives leaving and coming back.
    like($wd->current_url, qr{/articles\?cursor=[A-Za-z0-9_-]+$}, 'the cursor of the page loaded is in the URL');
    my $url = $wd->current_url;
    $wd->js('window.scrollTo(0, document.documentElement.scrollHeight)');
    sleep 0.3;
    my $y = $wd->js('return window.scrollY');
    ok($y > 0, "scrolled down ($y)");
    $wd->js('location.href = document.querySelector("#articles tbody tr:last-child td.title a").href');
    $wd->wait_ready(qr{/article\?id=});
    $wd->cmd('POST', '/back', {});
    $wd->wait_ready(qr{/articles\?cursor=});
    $wd->wait_for(sub { count_of('#articles tbody tr') == 23 }, '23 rows after Back');
    is(count_of('#articles tbody tr'), 23, 'Back: the same 23 rows');
    ok(abs($wd->js('return window.scrollY') - $y) < 5, 'at the same place');
    open_page($url);
    is(count_of('#articles tbody tr'), 23, 'the URL alone brings back the 23 rows');
    is(text_of('#articles tbody tr:last-child td.title'), 'Filler article 1', 'in order');
    ok(!$wd->displayed('#more'), 'and knows there are no more');

    # Oldest first.
    open_page('/articles');
    $wd->send_keys('#order', 'Oldest first');
    $wd->wait_for(sub { (text_of('#articles tbody tr:first-child td.title') // '') eq 'Filler article 1' }, 'oldest first');
    like($wd->current_url, qr/order=oldest/, 'the order is in the URL');
    is(text_of('#articles-caption'), 'Your articles, oldest first', 'the caption says so');
    $wd->click('#more');
    $wd->wait_for(sub { count_of('#articles tbody tr') == 23 }, '23 rows');
    is(text_of('#articles tbody tr:last-child td.title'), $art{main}{title}, 'the newest last');
    $wd->send_keys('#order', 'Newest first');
    $wd->wait_for(sub { (text_of('#articles tbody tr:first-child td.title') // '') eq $art{main}{title} }, 'newest first again');
    unlike($wd->current_url, qr/cursor=|order=/, 'a new order starts from the top');

    # Search by title, with the keyboard.
    $wd->type('#q', 'filler article 1');
    $wd->keys_to_active(BP::WebDriver::KEY_ENTER);
    $wd->wait_for(sub { count_of('#articles tbody tr') == 11 }, 'the titles containing "filler article 1"');
    like($wd->current_url, qr/q=filler\+article\+1|q=filler%20article%201/, 'the search is in the URL');
    $wd->type('#q', 'no such title');
    $wd->click('#search');
    $wd->wait_for('#empty:not([hidden])');
    is(text_of('#empty'), 'No articles whose title contains “no such title”.', 'nothing found: it says so');
    $wd->clear_field('#q');
    $wd->click('#search');
    $wd->wait_for(sub { count_of('#articles tbody tr') == 20 }, 'all again');
    console_clean('articles, places and order');

    $wd->send_keys('#status', 'Published');
    $wd->wait_for(sub { count_of('#articles tbody tr') == 1 }, 'the filtered list');
    like($wd->current_url, qr/status=published/, 'the filter is in the URL');
    is(text_of('#articles tbody tr td.title'), $art{main}{title}, 'only the published article');
    $wd->send_keys('#status', BP::WebDriver::KEY_DOWN);    # the option after Published
    $wd->wait_for('#empty:not([hidden])');
    is(text_of('#empty'), 'No archived articles.', 'an empty filter says so');
    console_clean('articles, filtered');
};

subtest 'one article' => sub {
    open_page('/articles');
    $wd->click('#articles tbody tr:first-child td.title a');
    $wd->wait_ready(qr{/article\?id=\Q$art{main}{id}\E$});
    is(text_of('#title'), $art{main}{title}, 'the title');
    is($wd->title, "$art{main}{title} · blogposter", 'the document title');
    like(text_of('#meta'), qr/Published/, 'status');
    is($wd->prop('#edit-status', 'value'), 'published', 'status, in its field');
    is($wd->prop('#edit-seo', 'value'), '87.5', 'SEO score');
    is($wd->prop('#edit-keyword', 'value'), 'seo tips', 'keyword');
    is($wd->prop('#edit-meta', 'value'), 'Ten practical tips.', 'meta description');
    is(text_of('#edit-meta-count'), '19 of 320 characters', 'with its length');
    is($wd->prop('#edit-wp-id', 'value'), '42', 'WordPress id');
    is($wd->prop('#edit-wp-url', 'value'), 'https://blog.example.com/ten-tips', 'WordPress URL');
    is($wd->attr('#wp-link', 'href'), 'https://blog.example.com/ten-tips', 'the WordPress link');

    my $sandbox = $wd->attr('#content', 'sandbox');
    ok(defined $sandbox, 'the preview is sandboxed');
    unlike($sandbox // '', qr/allow-scripts|allow-same-origin/, 'without allow-scripts or allow-same-origin');
    my $srcdoc = $wd->prop('#content', 'srcdoc');
    like($srcdoc, qr/\Q$art{main}{content_html}\E/, 'the article HTML, as it is, is the srcdoc');

    $wd->frame('#content');
    is(text_of('h2'), 'Why it matters', 'the content renders in the frame');
    is(count_of('li'), 2, 'with its list');
    like($wd->js('return getComputedStyle(document.querySelector("h2")).fontFamily'), qr/system-ui/,
        "the preview's stylesheet applies inside the sandbox");
    isnt($wd->js('return getComputedStyle(document.getElementById("styled")).color'), 'rgb(200, 0, 0)',
        'the inline colour is not applied');
    is($wd->js('return document.querySelector("base").getAttribute("target")'), '_blank', 'links open in a new tab');
    is($wd->js('return document.querySelector("img").naturalWidth'), 1, 'a data: image loads');
    is($wd->js('return String(window.origin)'), 'null', 'the preview runs in an opaque origin');
    $wd->frame(undef);

    $wd->wait_for('#related li');
    like(text_of('#related'), qr/Keyword research basics.*distance 0\.0/, 'the related article, with its distance');
    $wd->full_screenshot('article');
    console_clean('article', $PREVIEW_BLOCKED);
};

subtest 'an article with scripts runs nothing' => sub {
    open_page("/article?id=$art{xss}{id}");
    # Give any script, handler or refresh the time to run.
    $wd->js('var d = document.getElementById("content"); d.dispatchEvent(new Event("mouseover"));');
    sleep 0.5;
    $wd->frame('#content');
    is(text_of('#harmless'), 'Harmless paragraph.', 'the harmless part renders');
    ok($wd->exists('#jslink'), 'the javascript: link is there');
    $wd->click('#jslink');
    $wd->click('#hover');
    is($wd->js('return typeof window.__bp_pwned'), 'undefined', 'nothing ran inside the preview');
    isnt($wd->js('return getComputedStyle(document.body).display'), 'none', 'its <style> is not applied');
    $wd->frame(undef);
    sleep 0.2;
    is($wd->js('return typeof window.__bp_pwned'), 'undefined', 'nothing ran in the page (no global set)');
    is(text_of('#title'), $art{xss}{title}, 'the title with <script> is text');
    like($wd->prop('#edit-keyword', 'value'), qr/\Q<img src=x onerror=\E/, 'so is the keyword');
    like($wd->prop('#content', 'srcdoc'), qr/\Q$art{xss}{content_html}\E/, 'the HTML is not cleaned: the sandbox is the boundary');
    $wd->screenshot('article-with-scripts');
    # The browser reports what it blocked, from the frame only.
    my @blocked = $wd->console_errors;
    ok(scalar(grep { /sandboxed|allow-scripts|Content Security Policy/ } @blocked), 'Chromium blocked them')
        or diag explain \@blocked;
    my @other = grep { !/$PREVIEW_BLOCKED/ } @blocked;
    ok(!@other, 'every report comes from the preview') or diag explain \@other;

    # The articles list shows the keyword as text as well.
    open_page('/articles?status=draft');
    is($wd->js('return typeof window.__bp_pwned'), 'undefined', 'the list runs nothing either');
    console_clean('articles with the script article');
};

# ------------------------------------------------------------ editing

# Records the bodies of the PATCH requests the page sends.
sub record_patches {
    $wd->js(q{
        window.__patches = [];
        var f = window.fetch;
        window.fetch = function (url, init) {
            if (init && init.method === 'PATCH') window.__patches.push({ body: init.body, ifMatch: init.headers['If-Match'] });
            return f.apply(this, arguments);
        };
    });
}
sub patches { return $wd->js('return window.__patches') }

subtest 'edit an article' => sub {
    my $auth = key_auth($alice->{key});
    $art{edit} = api_ok(201, 'POST', '/api/v1/articles', $auth, {
        title => 'A draft to edit', status => 'draft', primary_keyword => 'editing',
        content_markdown => "# A draft\n\nSome *Markdown*.", content_html => '<h1>A draft</h1><p>Some <em>Markdown</em>.</p>',
    });
    my $id = $art{edit}{id};
    open_page("/article?id=$id");
    is($wd->prop('#edit-title', 'value'), 'A draft to edit', 'the title in its field');
    is($wd->prop('#edit-markdown', 'value'), "# A draft\n\nSome *Markdown*.", 'the Markdown, editable');
    ok($wd->displayed('#content'), 'the HTML beside it, in its frame');
    is(text_of('#edit-meta-count'), '0 of 320 characters', 'an empty meta description');
    record_patches();

    # The count follows the typing, and says when it is too long.
    $wd->type('#edit-meta', 'x' x 330);
    is(text_of('#edit-meta-count'), '330 of 320 characters: 10 too many', 'too long: the count says so');
    $wd->type('#edit-meta', 'Short and to the point.');
    is(text_of('#edit-meta-count'), '23 of 320 characters', 'the count as you type');

    # A refused field: the API's message next to it.
    $wd->type('#edit-slug', 'Not A Slug');
    $wd->click('#save');
    $wd->wait_for('#edit-slug-error:not([hidden])');
    my (undef, $expect) = api('PATCH', "/api/v1/articles/$id", $auth, { slug => 'Not A Slug' });
    is(text_of('#edit-slug-error'), $expect->{error}{message}, "the API's message");
    is($wd->js('return document.getElementById("edit-slug").nextElementSibling.id'), 'edit-slug-error', 'next to the slug');
    is($wd->attr('#edit-slug', 'aria-invalid'), 'true', 'the field is marked invalid');
    is($wd->active_id, 'edit-slug', 'and has the focus');
    console_clean('edit, refused slug', api_status("/api/v1/articles/$id", 400));

    # Save: only the changed fields, with the ETag loaded.
    $wd->type('#edit-slug', 'a-draft-edited');
    $wd->type('#edit-title', 'A draft, edited');
    $wd->send_keys('#edit-status', 'Scheduled');
    $wd->type('#edit-seo', '71');
    $wd->type('#edit-wp-id', '9007199254740993');
    $wd->type('#edit-markdown', "# A draft\n\nEdited.");
    my $n = scalar @{ patches() };
    $wd->click('#save');
    $wd->wait_for(sub { (text_of('#save-status') // '') eq 'Saved.' }, 'saved');
    my $sent = patches()->[$n];
    like($sent->{ifMatch}, qr/^"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"$/, 'If-Match: the ETag loaded');
    my $body = Mojo::JSON::decode_json($sent->{body});
    is_deeply([ sort keys %$body ], [ sort qw(title slug status seo_score meta_description wp_post_id content_markdown) ],
        'the PATCH holds only the changed fields');
    like($sent->{body}, qr/"wp_post_id":9007199254740993\b/, 'a large integer sent exactly');
    my $got = api_ok(200, 'GET', "/api/v1/articles/$id", $auth);
    is($got->{$_->[0]}, $_->[1], "saved: $_->[0]") for ['title', 'A draft, edited'], ['slug', 'a-draft-edited'],
        ['status', 'scheduled'], ['seo_score', 71], ['meta_description', 'Short and to the point.'],
        ['content_markdown', "# A draft\n\nEdited."], ['primary_keyword', 'editing'];
    is($h->psql('SELECT wp_post_id FROM articles WHERE id = $1', $id), '9007199254740993', 'the large id exactly');
    is($wd->prop('#edit-wp-id', 'value'), '9007199254740993', 'and shown exactly after saving');
    is(text_of('#title'), 'A draft, edited', 'the heading follows');
    is($wd->title, 'A draft, edited · blogposter', 'so does the document title');
    ok(!$wd->displayed('#edit-slug-error'), 'the old message is gone');

    $wd->click('#save');
    $wd->wait_for(sub { (text_of('#save-status') // '') =~ /Nothing to save/ }, 'nothing to save');
    is(scalar @{ patches() }, $n + 1, 'no request when nothing changed');
    $wd->full_screenshot('article-edit');
    console_clean('edit, saved');

    # Changed elsewhere meanwhile: refused, and nothing is overwritten.
    api_ok(200, 'PATCH', "/api/v1/articles/$id", $auth, { title => 'Changed by the pipeline' });
    $wd->type('#edit-keyword', 'my keyword');
    $wd->click('#save');
    $wd->wait_for(sub { $wd->displayed('#conflict') }, 'the conflict message');
    like(text_of('#conflict-text'), qr/changed elsewhere/, 'says the article changed elsewhere');
    is($wd->active_id, 'reload', 'the focus is on "Load the current version"');
    $got = api_ok(200, 'GET', "/api/v1/articles/$id", $auth);
    is($got->{title}, 'Changed by the pipeline', 'the other change stays');
    is($got->{primary_keyword}, 'editing', 'ours was not saved');
    $wd->screenshot('article-conflict');
    console_clean('edit, conflict', api_status("/api/v1/articles/$id", 409));
    $wd->click('#reload');
    $wd->wait_for(sub { ($wd->prop('#edit-title', 'value') // '') eq 'Changed by the pipeline' }, 'the current version');
    ok(!$wd->displayed('#conflict'), 'the conflict message is gone');
    $wd->type('#edit-keyword', 'my keyword');
    $wd->click('#save');
    $wd->wait_for(sub { (text_of('#save-status') // '') eq 'Saved.' }, 'saved after reloading');
    is(api_ok(200, 'GET', "/api/v1/articles/$id", $auth)->{primary_keyword}, 'my keyword', 'now it is saved');
    console_clean('edit, after the conflict');
};

subtest 'edit and save with the keyboard alone' => sub {
    my $id = $art{edit}{id};
    open_page("/article?id=$id");
    my $tabs = 0;
    while (($wd->active_id // '') ne 'edit-title' && $tabs < 30) { $wd->press(BP::WebDriver::KEY_TAB); $tabs++ }
    is($wd->active_id, 'edit-title', "Tab reaches the title ($tabs presses)");
    ok($wd->js('return document.activeElement.matches(":focus-visible")'), 'the focus is visible');
    $wd->press(BP::WebDriver::KEY_END . ' by keyboard');
    $tabs = 0;
    while (($wd->active_id // '') ne 'save' && $tabs < 30) { $wd->press(BP::WebDriver::KEY_TAB); $tabs++ }
    is($wd->active_id, 'save', 'Tab reaches "Save changes"');
    my $outline = $wd->js('var s = getComputedStyle(document.activeElement); return s.outlineStyle + " " + s.outlineWidth');
    like($outline, qr/^solid [1-9]/, "a visible focus outline ($outline)");
    $wd->press(BP::WebDriver::KEY_ENTER);
    $wd->wait_for(sub { (text_of('#save-status') // '') eq 'Saved.' }, 'saved by keyboard');
    is(api_ok(200, 'GET', "/api/v1/articles/$id", key_auth($alice->{key}))->{title}, 'Changed by the pipeline by keyboard',
        'Enter on "Save changes" saved the title');

    # Delete is offered, and Escape cancels it.
    $wd->press(BP::WebDriver::KEY_TAB);
    is($wd->active_id, 'delete', 'Tab goes on to "Delete…"');
    $wd->press(BP::WebDriver::KEY_ENTER);
    is($wd->active_id, 'delete-yes', 'Enter asks, with the focus on the confirmation');
    $wd->press(BP::WebDriver::KEY_ESCAPE);
    ok(!$wd->displayed('#delete-confirm'), 'Escape cancels');
    is($wd->active_id, 'delete', 'and the focus goes back');
    console_clean('keyboard editing');
};

subtest 'delete an article' => sub {
    my $id = $art{edit}{id};
    open_page("/article?id=$id");
    $wd->click('#delete');
    $wd->wait_for(sub { $wd->displayed('#delete-confirm') }, 'the confirmation');
    like(text_of('#delete-confirm-text'), qr/^Delete “Changed by the pipeline by keyboard” for good\?/, 'it names the article');
    $wd->screenshot('article-delete-confirm');
    $wd->click('#delete-no');
    ok(!$wd->displayed('#delete-confirm'), 'Cancel keeps it');
    is(code_of('GET', "/api/v1/articles/$id", key_auth($alice->{key})), 200, 'still there');
    $wd->click('#delete');
    $wd->click('#delete-yes');
    $wd->wait_ready(qr{/articles$});
    is(text_of('#notice'), '“Changed by the pipeline by keyboard” was deleted.', 'the list says what was deleted');
    ok(!$wd->exists(qq{#articles tr[data-id="$id"]}), 'and no longer lists it');
    is(code_of('GET', "/api/v1/articles/$id", key_auth($alice->{key})), 404, 'gone from the API');
    open_page('/articles');
    ok(!$wd->displayed('#notice'), 'the message is shown once');
    console_clean('article deleted');
};

# ------------------------------------------------------------ pipelines

my %run;
subtest 'pipeline history' => sub {
    my $auth = key_auth($alice->{key});
    $run{ok} = api_ok(201, 'POST', '/api/v1/pipelines', $auth, { article_id => $art{main}{id}, estimated_cost => '2.0000' });
    $run{ok} = api_ok(200, 'PATCH', "/api/v1/pipelines/$run{ok}{id}", $auth, { status => 'completed', total_cost => '1.2345' });
    $run{failed} = api_ok(201, 'POST', '/api/v1/pipelines', $auth, { estimated_cost => '0.5' });
    $run{failed} = api_ok(200, 'PATCH', "/api/v1/pipelines/$run{failed}{id}", $auth,
        { status => 'failed', error_message => 'WordPress answered 502 Bad Gateway', total_cost => '0.1000' });
    $run{running} = api_ok(201, 'POST', '/api/v1/pipelines', $auth, { estimated_cost => '0.7500' });

    open_page('/pipelines');
    is(count_of('#pipelines tbody tr'), 3, 'three runs');
    my $ok = qq{#pipelines tr[data-id="$run{ok}{id}"]};
    is(text_of("$ok td:nth-child(2)"), 'Completed', 'status');
    is(text_of("$ok td.cost"), '$1.23', 'cost, in dollars and cents');
    like($wd->attr("$ok td.cost span", 'title'), qr/^1\.2345 \(estimated 2\.0000\)$/, 'the exact cost on hover');
    like($wd->attr("$ok td:first-child time", 'title'), qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/, 'the start in UTC on hover');
    like(text_of("$ok td:nth-child(4)"), qr/^\d+ s$/, 'duration');
    is($wd->attr("$ok td:nth-child(6) a", 'href'), "/article?id=$art{main}{id}", 'link to the article');
    my $failed = qq{#pipelines tr[data-id="$run{failed}{id}"]};
    is(text_of("$failed td:nth-child(2)"), 'Failed', 'a failed run');
    is(text_of("$failed td.error-message"), 'WordPress answered 502 Bad Gateway', 'with its error message');
    my $running = qq{#pipelines tr[data-id="$run{running}{id}"]};
    is(text_of("$running td:nth-child(2)"), 'Running', 'a running run');
    like(text_of("$running td.cost"), qr/^\$0\.75 \(estimate\)$/, 'shows its estimate');
    $wd->full_screenshot('pipelines');
    console_clean('pipelines');

    $wd->click("$ok td:nth-child(6) a");
    $wd->wait_ready(qr{/article\?id=});
    is(text_of('#title'), $art{main}{title}, 'the link opens the article');
    console_clean('article from pipelines', $PREVIEW_BLOCKED);
};

subtest 'a pipeline run in detail, and the filter' => sub {
    open_page('/pipelines');
    $wd->click(qq{#pipelines tr[data-id="$run{failed}{id}"] td.started a});
    $wd->wait_ready(qr{/pipeline\?id=\Q$run{failed}{id}\E$});
    is(text_of('#run-status'), 'Failed', 'its status');
    is(text_of('#run-error-text'), 'WordPress answered 502 Bad Gateway', 'its error message');
    is(text_of('#run-estimate'), '$0.50', 'the estimated cost');
    is($wd->attr('#run-estimate .money', 'title'), '0.5000', 'exact on hover');
    is(text_of('#run-cost'), '$0.10', 'the total cost');
    like(text_of('#run-article'), qr/^none/, 'no article');
    is($wd->attr('#run-started time', 'datetime'), $run{failed}{started_at}, 'started');
    is($wd->attr('#run-ended time', 'datetime'), $run{failed}{completed_at}, 'ended');
    like(text_of('#run-duration'), qr/^\d+ s$/, 'how long it took');
    ok($wd->exists('a[href="/pipelines"][aria-current="page"]'), 'the navigation marks Pipelines');
    $wd->full_screenshot('pipeline-run');
    console_clean('pipeline run, failed');

    open_page("/pipeline?id=$run{ok}{id}");
    is(text_of('#run-article'), $art{main}{title}, 'a completed run names its article');
    is($wd->attr('#run-article-link', 'href'), "/article?id=$art{main}{id}", 'with a link to it');
    is(text_of('#run-cost'), '$1.23', 'its cost');
    ok(!$wd->displayed('#run-error'), 'no error message');
    open_page("/pipeline?id=$run{running}{id}");
    like(text_of('#run-cost'), qr/not known/, 'a running run has no total yet');
    like(text_of('#run-duration'), qr/^running for/, 'and says how long it has run');
    console_clean('pipeline runs');

    open_page('/pipeline?id=00000000-0000-0000-0000-000000000000');
    is(text_of('#page-error'), 'There is no such pipeline run among yours.', 'an unknown run');
    console_clean('unknown run', api_status('/api/v1/pipelines/00000000-0000-0000-0000-000000000000', 404));

    open_page('/pipelines?status=failed');
    is(count_of('#pipelines tbody tr'), 1, 'the failed filter from the URL: one run');
    $wd->send_keys('#status', 'Completed');
    $wd->wait_for(sub { (text_of('#pipelines tbody tr td:nth-child(2)') // '') eq 'Completed' }, 'the completed runs');
    is(count_of('#pipelines tbody tr'), 1, 'one completed run');
    like($wd->current_url, qr/status=completed/, 'the filter is in the URL');
    console_clean('pipelines filtered');
};

# ------------------------------------------------------------ account

subtest 'account: API key, password, sign out everywhere' => sub {
    open_page('/account');
    my $me = api_ok(200, 'GET', '/api/v1/me', key_auth($alice->{key}));
    is(text_of('#key-prefix'), "$me->{user}{api_key_prefix}…", "the key's prefix");
    is(text_of('#profile-limits'), 'cost $50.00 (the server default), 100 articles (the server default)',
        'the limits, and that they are the defaults');
    is($wd->attr('#profile-limits .money', 'title'), '50.0000', 'the exact limit on hover');
    $wd->click('#rotate-key');
    $wd->wait_for(sub { $wd->displayed('#rotate-yes') }, 'the confirmation');
    is($wd->active_id, 'rotate-yes', 'the focus goes to the confirmation');
    $wd->click('#rotate-yes');
    $wd->wait_for('#new-key');
    my $new = $wd->prop('#new-key', 'value');
    like($new, qr/^bp_[A-Za-z0-9_-]{43}$/, 'the new key is shown');
    isnt($new, $alice->{key}, 'a different one');
    is(code_of('GET', '/api/v1/me', key_auth($alice->{key})), 401, 'the old key stops working');
    $me = api_ok(200, 'GET', '/api/v1/me', key_auth($new));
    is(text_of('#key-prefix'), "$me->{user}{api_key_prefix}…", 'the new prefix is shown');
    is(substr($new, 0, length $me->{user}{api_key_prefix}), $me->{user}{api_key_prefix}, 'the prefix of the new key');
    $alice->{key} = $new;
    $wd->click('#new-key-copy');
    $wd->wait_for(sub { text_of('#new-key-status') }, 'the copy status');
    $wd->full_screenshot('account-new-key');
    console_clean('account, key rotated');

    # The export: a download link to the archive of everything the user owns.
    is($wd->attr('#export-link', 'href'), '/api/v1/me/export', 'the account page links to the export');
    ok(defined $wd->attr('#export-link', 'download'), 'as a download');
    is($wd->js(q{var x = new XMLHttpRequest(); x.open('GET', '/api/v1/me/export', false); x.send();
                 return x.status + ' ' + x.getResponseHeader('Content-Type') + ' ' + x.getResponseHeader('Content-Disposition')}),
       '200 application/x-tar attachment; filename="blogposter-export-' . POSIX::strftime('%Y-%m-%d', gmtime) . '.tar"',
       'the signed-in browser gets the archive');

    # Password: a wrong current password, then the right one.
    $wd->type('#current_password', 'not my password!!');
    $wd->type('#new_password', "$PW 2");
    $wd->type('#new_password2', "$PW 2");
    $wd->click('#password-submit');
    $wd->wait_for('#current_password-error:not([hidden])');
    is(text_of('#current_password-error'), 'wrong password', "the API's message, next to the current password");
    console_clean('account, wrong password', api_status('/api/v1/me/password', 401));
    $wd->type('#current_password', $PW);
    $wd->type('#new_password', "$PW 2");
    $wd->type('#new_password2', "$PW 2");
    $wd->click('#password-submit');
    $wd->wait_for('#password-status:not([hidden])');
    like(text_of('#password-status'), qr/Password changed/, 'changed');
    ok(!$wd->displayed('#current_password-error'), 'the old message is gone');
    $alice->{pw} = "$PW 2";
    open_page('/account', qr{/account$});
    pass('this browser stays signed in');
    is(code_of('POST', '/api/v1/auth/login', {}, { email => $alice->{email}, password => $PW }), 401, 'the old password is refused');
    console_clean('account, password changed');

    # Sign out everywhere: a token of another "device" stops working.
    my (undef, $login) = api('POST', '/api/v1/auth/login', {}, { email => $alice->{email}, password => $alice->{pw} });
    my $bearer = { Authorization => "Bearer $login->{token}" };
    is(code_of('GET', '/api/v1/me', $bearer), 200, 'another session is signed in');
    $wd->click('#signout-all');
    $wd->wait_ready(qr{/signin\?signed_out=1});
    is(code_of('GET', '/api/v1/me', $bearer), 401, 'sign out everywhere ended it too');
    open_page('/account', qr{/signin\?next=});
    pass('and this browser is signed out');
    console_clean('signed out everywhere', api_status('/api/v1/me', 401));
};

# ------------------------------------------------------------ a second user

my $bob = { email => "bob-$TAG\@example.com", pw => $PW };
subtest 'a second user never sees the first one\'s articles' => sub {
    my $reg = api_ok(201, 'POST', '/api/v1/auth/register', {}, { email => $bob->{email}, password => $bob->{pw} });
    $bob->{key} = $reg->{api_key};
    $bob->{id}  = $reg->{user}{id};
    my $own = api_ok(201, 'POST', '/api/v1/articles', key_auth($bob->{key}), { title => "Bob's private notes" });

    sign_in($bob->{email}, $bob->{pw});
    is(count_of('#articles tbody tr'), 1, 'one article');
    is(text_of('#articles tbody td.title'), "Bob's private notes", 'his own');
    my $body = $wd->js('return document.body.textContent');
    unlike($body, qr/Ten tips|Filler article|Keyword research|An article with scripts/, "none of alice's titles anywhere");
    $wd->screenshot('articles-second-user');
    console_clean('second user, articles');

    open_page("/article?id=$art{main}{id}");
    is($wd->js('return document.body.dataset.state'), 'error', "alice's article by its id: an error");
    is(text_of('#page-error'), 'There is no such article among yours.', 'not found');
    ok(!$wd->displayed('#article'), 'nothing of it is shown');
    unlike($wd->js('return document.body.textContent'), qr/Ten tips/, 'not even its title');
    $wd->screenshot('article-not-found');
    console_clean('second user, alice\'s article', api_status("/api/v1/articles/$art{main}{id}", 404));

    open_page('/pipelines');
    is(count_of('#pipelines tbody tr'), 0, "none of alice's runs");
    console_clean('second user, pipelines');
};

# ------------------------------------------------------------ admin

subtest 'admin: users, activation, limits' => sub {
    open_page('/admin');
    is($wd->js('return document.body.dataset.state'), 'error', 'a user who is not an admin is refused');
    is(text_of('#page-error'), 'This page is for administrators.', 'with a message');
    ok(!$wd->exists('a[href="/admin"]'), 'and has no Admin link');
    console_clean('admin, refused');

    $h->psql(q{UPDATE users SET role = 'admin' WHERE id = $1}, $bob->{id});
    open_page('/admin');
    ok($wd->exists('a[href="/admin"][aria-current="page"]'), 'an admin has the Admin link');
    my $row = qq{#users tr[data-id="$alice->{id}"]};
    ok($wd->exists($row), 'alice is listed');
    like(text_of("$row td.usage"), qr/^Cost \$1\.33 of \$50\.00 1 of 100 articles \(1 running\)$/, 'with her usage this month');
    ok($wd->prop(qq{#users tr[data-id="$bob->{id}"] td.status button}, 'disabled'), 'an admin cannot deactivate himself');

    $wd->click("$row td.status button");
    $wd->wait_for(sub { (text_of("$row td.status") // '') =~ /Deactivated/ }, 'alice deactivated');
    is(code_of('GET', '/api/v1/me', key_auth($alice->{key})), 401, 'her key is refused');
    is($wd->js('var r = document.activeElement.closest("tr"); return r && r.dataset.id'), $alice->{id},
        'the focus stays on her row');
    $wd->click("$row td.status button");
    $wd->wait_for(sub { (text_of("$row td.status") // '') =~ /Active/ }, 'alice active again');
    is(code_of('GET', '/api/v1/me', key_auth($alice->{key})), 200, 'her key works again');

    is(text_of("$row .limit-source"), 'Default', 'her limits are the defaults');
    $wd->type("$row input[name=max_monthly_cost]", 'lots');
    $wd->click("$row form.limits button[type=submit]");
    $wd->wait_for("$row .field-error:not([hidden])");
    my (undef, $expect) = api('PATCH', "/api/v1/admin/users/$alice->{id}",
        { 'X-API-Key' => $bob->{key} }, { max_monthly_cost => 'lots' });
    is(text_of("$row .field-error"), $expect->{error}{message}, "a refused limit: the API's message next to the field");
    console_clean('admin, refused limit', api_status("/api/v1/admin/users/$alice->{id}", 400));

    $wd->type("$row input[name=max_monthly_cost]", '10');
    $wd->type("$row input[name=max_articles_per_month]", '5');
    $wd->click("$row form.limits button[type=submit]");
    $wd->wait_for(sub { (text_of("$row .saved") // '') eq 'Saved.' }, 'saved');
    is($wd->prop("$row input[name=max_monthly_cost]", 'value'), '10.0000', 'the limit as the API keeps it');
    is($wd->js('return Array.from(document.querySelectorAll(arguments[0])).map(function (e) { return e.textContent }).join(" ")',
        "$row .limit-source"), 'Override Override', 'now both are overrides');
    my $u = api_ok(200, 'GET', '/api/v1/usage', key_auth($alice->{key}));
    is($u->{limits}{max_monthly_cost}, '10.0000', 'her cost limit changed');
    is($u->{limits}{max_articles_per_month}, 5, 'her article limit changed');

    like(text_of('#month-usage tfoot'), qr/Total 1 \$1\.33/, 'usage of the month, with totals');
    is($wd->attr('#total-cost', 'title'), '1.3345', 'the exact total on hover');
    $wd->full_screenshot('admin');
    console_clean('admin');

    $wd->set_size(390, 844);
    open_page('/admin');
    no_overflow('admin');
    $wd->full_screenshot('admin-phone');
    $wd->set_size(1280, 900);
    console_clean('admin, phone');
    sign_out_header();
};

# ------------------------------------------------------------ usage

subtest 'usage bars and chart match the API' => sub {
    # Earlier months, as runs of those months would have left them.
    for my $m ([1, 3, '4.5000'], [3, 1, '0.7500'], [11, 2, '12.0000'], [13, 9, '99.0000']) {
        $h->psql(q{INSERT INTO api_usage (user_id, month, articles_generated, total_cost)
                   VALUES ($1, (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => $2))::date, $3, $4)},
            $alice->{id}, @$m);
    }
    sign_in($alice->{email}, $alice->{pw});
    open_page('/usage');
    my $u = api_ok(200, 'GET', '/api/v1/usage', key_auth($alice->{key}));
    my $hist = api_ok(200, 'GET', '/api/v1/usage/history?months=12', key_auth($alice->{key}));

    is($wd->attr('#cost-bar', 'data-used'), $u->{total_cost}, 'cost bar: used is the API total_cost');
    is($wd->attr('#cost-bar', 'data-max'), $u->{limits}{max_monthly_cost}, 'cost bar: the limit');
    is($wd->prop('#cost-bar', 'value') + 0, $u->{total_cost} + 0, 'cost bar: its value');
    is($wd->prop('#cost-bar', 'max') + 0, $u->{limits}{max_monthly_cost} + 0, 'cost bar: its maximum');
    is(text_of('#cost-text'), usd($u->{total_cost}) . ' of ' . usd($u->{limits}{max_monthly_cost}) . ' (13 %)', 'cost in words, in dollars and cents');
    is($wd->attr('#cost-text', 'title'), "$u->{total_cost} of $u->{limits}{max_monthly_cost}", 'the exact amounts on hover');
    like(text_of('#cost-note'), qr/^\Q@{[ usd($u->{remaining}{cost}) ]}\E left\. Runs in progress reserve \$0\.75\.$/, 'what is left and reserved');
    is($wd->prop('#articles-bar', 'value') + 0, $u->{articles_generated}, 'articles bar: its value');
    is($wd->prop('#articles-bar', 'max') + 0, $u->{limits}{max_articles_per_month}, 'articles bar: its maximum');
    is(text_of('#articles-text'), "$u->{articles_generated} of $u->{limits}{max_articles_per_month} (20 %)", 'articles in words');
    like(text_of('#articles-note'), qr/^$u->{remaining}{articles} left\. 1 run in progress\.$/, 'articles left and running');

    is(count_of('#cost-chart svg g.bar-group'), 12, 'the chart has 12 months');
    is($wd->attr('#cost-chart svg', 'aria-describedby'), 'history', 'the chart is described by the table');
    is($wd->attr('#articles-chart svg', 'aria-describedby'), 'history', 'so is the other one');
    my $row0 = $hist->{items}[0];
    is($wd->js('return document.querySelector("#history tr[data-month=\'" + arguments[0] + "\'] td:last-child").textContent', $row0->{month}),
        $row0->{total_cost}, 'the table has the exact amount');
    is($wd->attr(qq{#cost-chart g.bar-group:last-of-type}, 'data-key'), $u->{month}, 'ending with this month');
    my %api = map { $_->{month} => $_ } @{ $hist->{items} };
    ok(keys %api >= 3, 'the API has history');
    my $months = $wd->js('return Array.from(document.querySelectorAll("#cost-chart g.bar-group")).map(function (g) { return [g.dataset.key, g.dataset.value] })');
    my $articles = $wd->js('return Array.from(document.querySelectorAll("#articles-chart g.bar-group")).map(function (g) { return [g.dataset.key, g.dataset.value] })');
    my $bad = 0;
    for my $i (0 .. $#$months) {
        my ($m, $v) = @{ $months->[$i] };
        my $want = $api{$m} ? $api{$m}{total_cost} : '0.0000';
        my $want_n = $api{$m} ? $api{$m}{articles_generated} : 0;
        $bad++, diag "cost $m: $v, API $want" if $v ne $want;
        $bad++, diag "articles $m: $articles->[$i][1], API $want_n" if $articles->[$i][1] ne $want_n;
    }
    is($bad, 0, 'every bar is the API\'s number (months without use are 0)');
    is($months->[0][0], month_minus($u->{month}, 11), 'starting 11 months before');
    my $old = month_minus($u->{month}, 13);
    ok(!(grep { $_->[0] eq $old } @$months), 'the month 13 months ago is not in the chart');
    my $h0 = $wd->js('return parseFloat(document.querySelector("#cost-chart g.bar-group:last-of-type rect").getAttribute("height"))');
    ok($h0 > 0, 'the bar of this month has a height');
    $wd->full_screenshot('usage');
    console_clean('usage');
};

# ------------------------------------------------------------ phone width

subtest 'phone width' => sub {
    $wd->set_size(390, 844);
    for my $p (['/articles', 'articles'], ["/article?id=$art{main}{id}", 'article'], ['/pipelines', 'pipelines'],
               ['/usage', 'usage'], ['/account', 'account']) {
        open_page($p->[0]);
        no_overflow($p->[1]);
        $wd->full_screenshot("$p->[1]-phone");
    }
    console_clean('phone width pages', $PREVIEW_BLOCKED);
    sign_out_header();
    for my $p (['/signin', 'signin'], ['/signup', 'signup']) {
        open_page($p->[0]);
        no_overflow($p->[1]);
        $wd->screenshot("$p->[1]-phone");
    }
    $wd->set_size(1280, 900);
    open_page('/signin');
    $wd->screenshot('signin');
    console_clean('sign-in pages at phone width');
};

# ------------------------------------------------------------ accessibility

# axe-core (t/vendor, test-only: nginx never serves it), injected into the
# page over WebDriver. No violation of impact "serious" or "critical".
my $AXE = do { local (@ARGV, $/) = ("$REPO/t/vendor/axe.min.js"); <> };
sub axe_violations {
    $wd->js($AXE . "\n;return typeof axe") eq 'object' or die 'axe-core did not load';
    my $r = $wd->js_async(q{
        var done = arguments[arguments.length - 1];
        axe.run(document, { iframes: false, resultTypes: ['violations'] })
          .then(function (r) {
            done(r.violations.filter(function (v) { return v.impact === 'serious' || v.impact === 'critical' })
              .map(function (v) { return v.impact + ' ' + v.id + ': ' + v.help + ' [' + v.nodes.map(function (n) { return n.target.join(' ') }).slice(0, 5).join(', ') + ']' }));
          }, function (e) { done(['axe failed: ' + e]) });
    });
    return @$r;
}
sub axe_ok {
    my ($what) = @_;
    my $r = [ axe_violations() ];
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is_deeply($r, [], "axe-core: no serious or critical violation on $what") or diag join "\n", @$r;
}

subtest 'accessibility: axe-core on every page' => sub {
    open_page('/');
    $wd->js('var i = document.createElement("input"); i.type = "text"; document.querySelector("main").append(i)');
    my @v = axe_violations();
    ok((grep { /^critical label:/ } @v), 'the check sees an input without a label') or diag explain \@v;
    for my $p (['/', 'start page'], ['/signin', 'sign-in'], ['/signup', 'sign-up']) {
        open_page($p->[0]);
        axe_ok($p->[1]);
    }
    $wd->get('/no/such/page');
    axe_ok('404 page');
    open_page('/signin');
    $wd->type('#email', $alice->{email});
    $wd->type('#password', 'wrong wrong wrong');
    $wd->click('#signin-submit');
    $wd->wait_for('#password-error:not([hidden])');
    axe_ok('sign-in with an error');
    console_clean('pages signed out', api_status('/api/v1/auth/login', 401),
        qr{/no/such/page - Failed to load resource: the server responded with a status of 404});

    sign_in($alice->{email}, $alice->{pw});
    for my $p (['/articles', 'articles'], ["/article?id=$art{main}{id}", 'article'], ['/pipelines', 'pipelines'],
               ["/pipeline?id=$run{failed}{id}", 'pipeline run'], ['/usage', 'usage'], ['/account', 'account']) {
        open_page($p->[0]);
        axe_ok($p->[1]);
    }
    open_page('/usage');
    $wd->js('document.querySelector("#history").closest("details").open = true');
    axe_ok('usage, with the table open');
    open_page("/article?id=$art{main}{id}");
    $wd->type('#edit-slug', 'Not A Slug');
    $wd->click('#save');
    $wd->wait_for('#edit-slug-error:not([hidden])');
    $wd->click('#delete');
    axe_ok('article, with a field error and the delete confirmation');
    console_clean('pages signed in', api_status("/api/v1/articles/$art{main}{id}", 400), $PREVIEW_BLOCKED);
    sign_out_header();

    sign_in($bob->{email}, $bob->{pw});
    open_page('/admin');
    axe_ok('admin');
    console_clean('admin page');
    sign_out_header();
};

# ------------------------------------------------------------ delete an account

subtest 'delete the account' => sub {
    my $carol = { email => "carol-$TAG\@example.com" };
    my $reg = api_ok(201, 'POST', '/api/v1/auth/register', {}, { email => $carol->{email}, password => $PW });
    sign_in($carol->{email}, $PW);
    open_page('/account');

    # First her API key alone.
    $wd->click('#delete-key');
    $wd->wait_for(sub { $wd->displayed('#delete-key-yes') }, 'the confirmation');
    $wd->click('#delete-key-yes');
    $wd->wait_for('#key-status:not([hidden])');
    is(text_of('#key-prefix'), 'none', 'the key is removed');
    ok(!$wd->displayed('#delete-key'), 'nothing left to remove');
    is(code_of('GET', '/api/v1/me', key_auth($reg->{api_key})), 401, 'the key stops working');
    console_clean('key removed');
    $wd->type('#delete-password', 'wrong wrong wrong');
    $wd->click('#delete-submit');
    $wd->wait_for('#delete-password-error:not([hidden])');
    is(text_of('#delete-password-error'), 'wrong password', 'a wrong password: the message next to it');
    console_clean('delete, wrong password', api_status('/api/v1/me', 401));
    $wd->type('#delete-password', $PW);
    $wd->click('#delete-submit');
    $wd->wait_ready(qr{/signin\?deleted=1});
    like(text_of('#notice'), qr/deleted/, 'deleted, and told so');
    is(code_of('POST', '/api/v1/auth/login', {}, { email => $carol->{email}, password => $PW }), 401, 'the account is gone');
    console_clean('deleted');
};

# ------------------------------------------------------------ start page, 404

subtest 'start page and 404' => sub {
    open_page('/', qr{/$});
    ok($wd->exists('a[href="/signin"]'), 'signed out: the start page links to sign in');
    $wd->screenshot('start');
    console_clean('start page');

    $wd->get('/no/such/page');
    is($wd->title, 'Not found · blogposter', 'an unknown path: the 404 page');
    $wd->screenshot('not-found');
    console_clean('404 page', qr{/no/such/page - Failed to load resource: the server responded with a status of 404});
};

# ------------------------------------------------------------ registration closed

subtest 'registration closed' => sub {
    my $h2 = BP::Harness->new(env => { ENABLE_USER_REGISTRATION => 'false' });
    $wd->get($h2->url('/signup'));
    $wd->wait_ready;
    ok($wd->displayed('#closed'), 'the page knows on arrival, before any form is filled');
    like(text_of('#closed'), qr/Registration is closed/, 'a clear message');
    ok(!$wd->displayed('#signup-form'), 'instead of the form');
    $wd->screenshot('signup-closed');
    console_clean('registration closed');
    ok(!grep({ m{POST /api/v1/auth/register} } split /\n/, $h2->log), 'no registration was attempted');
    $h2->teardown;
};

$wd->quit;
note sprintf 'browser tests: %.1f s', time - $T0;
done_testing;
