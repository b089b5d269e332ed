package BP::WebDriver;

# Headless Chromium for the browser tests: Debian's chromium, driven by
# Debian's chromedriver over the W3C WebDriver protocol, from Perl with
# Mojo::UserAgent (no other module, no downloaded browser).
#
#   use BP::WebDriver;
#   my ($ok, $why) = BP::WebDriver->available;
#   plan skip_all => $why unless $ok;
#   my $wd = BP::WebDriver->new(base => $h->base_url, shots => "$repo/t/tmp/screenshots");
#   $wd->get('/signin');
#   $wd->type('#email', 'a@example.com');
#   $wd->click('#signin-submit');
#   $wd->wait_ready;                       # <body data-state="ready|error">
#   my @errors = $wd->console_errors;      # SEVERE entries of the browser log
#   $wd->screenshot('articles');           # t/tmp/screenshots/articles.png
#
# new() starts chromedriver on a free port in a process group of its own
# (chromium is its child), and one session: a fresh profile in a temp dir,
# --headless, the self-signed certificate of the test nginx accepted, and
# the browser's console log kept (goog:loggingPrefs browser ALL). quit()
# (also at DESTROY and END) ends the session and stops that process group.
#
# Environment: CHROMIUM_BIN (/usr/bin/chromium), CHROMEDRIVER_BIN
# (/usr/bin/chromedriver), BP_WD_TIMEOUT (seconds the wait_* helpers wait,
# default 10), BP_WD_HEADFUL=1 (no --headless, for a person with a display).

use strict;
use warnings;

use BP::Pin;    # before any Mojo module: see BP/Pin.pm

use Carp qw(croak);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use MIME::Base64 qw(decode_base64);
use Mojo::JSON qw(encode_json decode_json true false);
use Mojo::UserAgent;
use POSIX qw(:sys_wait_h);
use Scalar::Util qw(weaken);
use Time::HiRes qw(sleep time);

our $VERSION = '1';

# The W3C element reference key.
use constant ELEM => 'element-6066-11e4-a52e-4f735466cecf';

# Keys (WebDriver code points).
use constant { KEY_TAB => "\x{E004}", KEY_ENTER => "\x{E007}", KEY_ESCAPE => "\x{E00C}", KEY_DOWN => "\x{E015}",
               KEY_END => "\x{E010}", KEY_SPACE => "\x{E00D}" };

my %LIVE;

sub chromium_bin {
    return $ENV{CHROMIUM_BIN} if $ENV{CHROMIUM_BIN};
    for (qw(/usr/bin/chromium /usr/bin/chromium-browser)) { return $_ if -x $_ }
    return undef;
}

sub chromedriver_bin {
    return $ENV{CHROMEDRIVER_BIN} if $ENV{CHROMEDRIVER_BIN};
    for (qw(/usr/bin/chromedriver /usr/lib/chromium/chromedriver)) { return $_ if -x $_ }
    return undef;
}

# (1) when chromium and chromedriver are installed, else (0, why).
sub available {
    my $c = chromium_bin();
    my $d = chromedriver_bin();
    return (0, 'chromium is not installed (Debian: apt-get install chromium chromium-driver; tools/dev test installs them)')
        unless $c && -x $c;
    return (0, 'chromedriver is not installed (Debian: apt-get install chromium-driver; tools/dev test installs it)')
        unless $d && -x $d;
    return (1);
}

sub new {
    my ($class, %o) = @_;
    my $self = bless {
        base    => $o{base} // croak('base is required'),
        shots   => $o{shots},
        timeout => $ENV{BP_WD_TIMEOUT} // 10,
        pid     => $$,
        tmp     => tempdir('bp-chromium-XXXXXX', TMPDIR => 1, CLEANUP => 1),
    }, $class;
    $LIVE{"$self"} = $self;
    weaken($LIVE{"$self"});
    make_path($self->{shots}) if $self->{shots};

    my $ua = Mojo::UserAgent->new;
    $ua->connect_timeout(5)->request_timeout(60)->inactivity_timeout(60)->max_redirects(0);
    $self->{ua} = $ua;

    $self->_start_driver;
    my ($w, $hgt) = @{ $o{size} // [1280, 900] };
    my @args = (
        '--no-first-run', '--no-default-browser-check', '--disable-gpu', '--disable-quic',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--disable-extensions', '--disable-dev-shm-usage', '--disable-features=Translate,MediaRouter,IsolateSandboxedIframes',
        '--password-store=basic', '--use-mock-keychain', '--lang=en-US',
        '--ignore-certificate-errors', "--user-data-dir=$self->{tmp}/profile", "--window-size=$w,$hgt",
    );
    # IsolateSandboxedIframes off: Chromium would put a sandboxed frame (the
    # article preview) in a process of its own, whose console messages
    # chromedriver's log does not collect; in-process, the console check
    # sees them too. The sandbox itself is enforced the same either way.
    push @args, '--headless=new' unless $ENV{BP_WD_HEADFUL};
    push @args, '--no-sandbox' if $> == 0;    # chromium's own sandbox refuses to run as root
    my $caps = {
        browserName           => 'chrome',
        acceptInsecureCerts   => true,
        pageLoadStrategy      => 'normal',
        unhandledPromptBehavior => 'dismiss and notify',
        timeouts              => { implicit => 0, pageLoad => 30000, script => 15000 },
        'goog:chromeOptions'  => { binary => chromium_bin(), args => \@args },
        'goog:loggingPrefs'   => { browser => 'ALL' },
    };
    my $res = $self->_raw('POST', '/session', { capabilities => { alwaysMatch => $caps } });
    $self->{session} = $res->{sessionId} // croak('no session id in ' . encode_json($res));
    $self->{browser_version} = $res->{capabilities}{browserVersion};
    return $self;
}

sub browser_version { $_[0]{browser_version} }
sub base            { $_[0]{base} }

# ---------------------------------------------------------------- driver process

sub _free_port {
    for (1 .. 100) {
        my $port = 20000 + int rand 20000;
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 1, ReuseAddr => 1) or next;
        close $s;
        return $port;
    }
    croak 'no free port for chromedriver';
}

sub _start_driver {
    my $self = shift;
    for my $try (1 .. 3) {
        my $port = _free_port();
        my $log  = "$self->{tmp}/chromedriver.log";
        my $pid  = fork // croak "fork: $!";
        if (!$pid) {
            POSIX::setsid();
            open STDIN,  '<',  '/dev/null';
            open STDOUT, '>>', $log;
            open STDERR, '>&', \*STDOUT;
            exec { chromedriver_bin() } chromedriver_bin(), "--port=$port", '--allowed-ips=127.0.0.1',
                "--log-path=$log"
                or POSIX::_exit(127);
        }
        $self->{driver_pid} = $pid;
        $self->{url}        = "http://127.0.0.1:$port";
        my $deadline = time + 15;
        while (time < $deadline) {
            if (waitpid($pid, WNOHANG) == $pid) { delete $self->{driver_pid}; last }
            my $tx = $self->{ua}->get("$self->{url}/status");
            my $ready = eval { $tx->res->json->{value}{ready} };
            return 1 if $ready;
            sleep 0.05;
        }
        $self->_stop_driver;
        croak "chromedriver did not start:\n" . _slurp($log) if $try == 3;
    }
}

sub _stop_driver {
    my $self = shift;
    my $pid  = delete $self->{driver_pid} or return;
    kill 'TERM', -$pid;    # its own process group: chromedriver and the chromium it started
    my $deadline = time + 5;
    while (time < $deadline) {
        last if waitpid($pid, WNOHANG) == $pid;
        sleep 0.05;
    }
    kill 'KILL', -$pid;
    waitpid($pid, 0);
}

# Ends the session (chromium exits) and stops chromedriver.
sub quit {
    my $self = shift;
    return if $self->{quit} || $self->{pid} != $$;
    $self->{quit} = 1;
    delete $LIVE{"$self"};
    if ($self->{session} && $self->{driver_pid}) {
        eval { $self->{ua}->request_timeout(10); $self->_raw('DELETE', "/session/$self->{session}") };
    }
    $self->_stop_driver;
}

sub DESTROY { $_[0]->quit }
END { $_->quit for grep { defined } values %LIVE }

# ---------------------------------------------------------------- protocol

sub _raw {
    my ($self, $method, $path, $body) = @_;
    my $tx = $self->{ua}->build_tx($method => "$self->{url}$path",
        { 'Content-Type' => 'application/json; charset=utf-8' },
        defined $body ? encode_json($body) : ($method eq 'POST' ? '{}' : ()));
    $tx = $self->{ua}->start($tx);
    my $res = $tx->res;
    croak "WebDriver $method $path: " . ($tx->error->{message} // 'no answer') unless $res->code;
    my $json = eval { decode_json($res->body) };
    croak "WebDriver $method $path: not JSON: " . substr($res->body // '', 0, 300) unless ref $json;
    my $v = $json->{value};
    if ($res->code >= 400 || (ref $v eq 'HASH' && defined $v->{error} && !ref $v->{error})) {
        my $e = ref $v eq 'HASH' ? $v : {};
        my $msg = $e->{message} // '';
        $msg =~ s/\n\s*\(Session info:.*//s;
        $msg =~ s/\nStacktrace:.*//s;
        croak "WebDriver $method $path: " . ($e->{error} // $res->code) . ": $msg";
    }
    return $path eq '/session' ? $v : $v;
}

sub cmd {
    my ($self, $method, $path, $body) = @_;
    return $self->_raw($method, "/session/$self->{session}$path", $body);
}

# ---------------------------------------------------------------- navigation

sub url_for {
    my ($self, $u) = @_;
    return $u =~ m{^[a-z]+:}i ? $u : $self->{base} . $u;
}

# get('/articles') or get('https://...'): loads it and waits for the load event.
sub get {
    my ($self, $u) = @_;
    $self->cmd('POST', '/url', { url => $self->url_for($u) });
    return $self;
}

sub current_url { $_[0]->cmd('GET', '/url') }
sub title       { $_[0]->cmd('GET', '/title') }
sub refresh     { $_[0]->cmd('POST', '/refresh', {}); $_[0] }

sub set_size {
    my ($self, $w, $hgt) = @_;
    $self->cmd('POST', '/window/rect', { width => $w + 0, height => $hgt + 0 });
    return $self;
}

# ---------------------------------------------------------------- elements

sub _ref { ref $_[1] eq 'HASH' ? $_[1]{+ELEM} : $_[1] }

# find('#css') -> element id; dies when there is none.
sub find {
    my ($self, $css) = @_;
    return $css if ref $css eq 'BP::WebDriver::El';
    my $v = $self->cmd('POST', '/element', { using => 'css selector', value => $css });
    return bless { id => $v->{+ELEM}, css => $css }, 'BP::WebDriver::El';
}

sub find_all {
    my ($self, $css) = @_;
    my $v = $self->cmd('POST', '/elements', { using => 'css selector', value => $css });
    return map { bless { id => $_->{+ELEM}, css => $css }, 'BP::WebDriver::El' } @$v;
}

sub exists { my ($self, $css) = @_; return scalar $self->find_all($css) }

sub _eid { my ($self, $el) = @_; return $self->find($el)->{id} }

sub click {
    my ($self, $el) = @_;
    $self->cmd('POST', '/element/' . $self->_eid($el) . '/click', {});
    return $self;
}

sub clear_field {
    my ($self, $el) = @_;
    $self->cmd('POST', '/element/' . $self->_eid($el) . '/clear', {});
    return $self;
}

# type($el, $text): clears the field, then types (keys as a person would).
sub type {
    my ($self, $el, $text) = @_;
    my $id = $self->_eid($el);
    $self->cmd('POST', "/element/$id/clear", {});
    $self->cmd('POST', "/element/$id/value", { text => $text });
    return $self;
}

# send_keys($el, $text): types without clearing (special keys: KEY_TAB ...).
sub send_keys {
    my ($self, $el, $text) = @_;
    $self->cmd('POST', '/element/' . $self->_eid($el) . '/value', { text => $text });
    return $self;
}

# Keys to whatever has the focus.
sub keys_to_active {
    my ($self, $text) = @_;
    my $v = $self->cmd('GET', '/element/active');
    $self->cmd('POST', "/element/$v->{+ELEM}/value", { text => $text });
    return $self;
}

# press($text): keys as a person presses them, to whatever has the focus
# (the page itself included): each character (or KEY_*) down and up.
sub press {
    my ($self, $text) = @_;
    my @a = map { ({ type => 'keyDown', value => $_ }, { type => 'keyUp', value => $_ }) } split //, $text;
    $self->cmd('POST', '/actions', { actions => [ { type => 'key', id => 'keyboard', actions => \@a } ] });
    return $self;
}

sub text      { my ($self, $el) = @_; return $self->cmd('GET', '/element/' . $self->_eid($el) . '/text') }
sub attr      { my ($self, $el, $n) = @_; return $self->cmd('GET', '/element/' . $self->_eid($el) . "/attribute/$n") }
sub prop      { my ($self, $el, $n) = @_; return $self->cmd('GET', '/element/' . $self->_eid($el) . "/property/$n") }
sub displayed { my ($self, $el) = @_; return $self->cmd('GET', '/element/' . $self->_eid($el) . '/displayed') ? 1 : 0 }

# The id attribute of the focused element (or its tag name).
sub active_id {
    my $self = shift;
    return $self->js('var e = document.activeElement; return e ? (e.id || e.name || e.tagName.toLowerCase()) : null');
}

# Into an iframe (element) and back out (frame(undef)).
sub frame {
    my ($self, $el) = @_;
    my $id = defined $el ? { ELEM, $self->_eid($el) } : undef;
    $self->cmd('POST', '/frame', { id => $id });
    return $self;
}

# ---------------------------------------------------------------- script

# js('return document.title') ; elements are passed as {ELEM => id}.
sub js {
    my ($self, $script, @args) = @_;
    @args = map { ref $_ eq 'BP::WebDriver::El' ? { ELEM, $_->{id} } : $_ } @args;
    return $self->cmd('POST', '/execute/sync', { script => $script, args => \@args });
}

# js_async('var done = arguments[arguments.length - 1]; ... done(x)'): x.
sub js_async {
    my ($self, $script, @args) = @_;
    return $self->cmd('POST', '/execute/async', { script => $script, args => \@args });
}

# ---------------------------------------------------------------- waiting

# wait_for(sub { ... } | '#css', $what, $timeout): polls until true; dies
# (with the URL and the page's state) when the time is up.
sub wait_for {
    my ($self, $cond, $what, $timeout) = @_;
    my $deadline = time + ($timeout // $self->{timeout});
    my $check = ref $cond eq 'CODE' ? $cond : sub { $self->exists($cond) };
    $what //= ref $cond ? 'a condition' : $cond;
    my $last_err;
    while (1) {
        my $r = eval { $check->() };
        $last_err = $@;
        return $r if $r;
        if (time > $deadline) {
            my $url = eval { $self->current_url } // '?';
            croak "timed out waiting for $what at $url" . ($last_err ? " ($last_err)" : '');
        }
        sleep 0.05;
    }
}

# Waits until the page says it is done (body[data-state] ready or error) at
# a URL matching $url_re (when given); returns the state.
sub wait_ready {
    my ($self, $url_re) = @_;
    return $self->wait_for(sub {
        return 0 if $url_re && $self->current_url !~ $url_re;
        my $s = $self->js('return document.readyState === "complete" ? (document.body && document.body.dataset.state) || null : null');
        return $s && $s ne 'loading' ? $s : 0;
    }, 'the page to be ready' . ($url_re ? " at $url_re" : ''));
}

# Waits for the URL to match.
sub wait_url {
    my ($self, $re) = @_;
    return $self->wait_for(sub { $self->current_url =~ $re }, "a URL matching $re");
}

# ---------------------------------------------------------------- logs, screenshots

# Entries of the browser log since the last call: [{level, message, source, timestamp}].
sub logs {
    my $self = shift;
    my $v = $self->cmd('POST', '/se/log', { type => 'browser' });
    return @{ $v // [] };
}

# The SEVERE entries (console.error, uncaught exceptions, CSP and network
# errors) since the last call, as strings.
sub console_errors {
    my $self = shift;
    return map { "$_->{level} $_->{message}" } grep { $_->{level} eq 'SEVERE' } $self->logs;
}

# screenshot('name'): PNG of the viewport in the shots directory; the path.
sub screenshot {
    my ($self, $name) = @_;
    return undef unless $self->{shots};
    my $png = decode_base64($self->cmd('GET', '/screenshot'));
    my $file = "$self->{shots}/$name.png";
    open my $fh, '>:raw', $file or croak "$file: $!";
    print $fh $png;
    close $fh;
    return $file;
}

# A screenshot of the whole page (scrolls height): the window is made as
# tall as the document for the shot, then put back.
sub full_screenshot {
    my ($self, $name) = @_;
    my $rect = $self->cmd('GET', '/window/rect');
    my $hgt  = $self->js('return Math.ceil(Math.max(document.documentElement.scrollHeight, document.body.scrollHeight))');
    my $chrome = $self->js('return window.outerHeight - window.innerHeight') || 0;
    my $want = $hgt + $chrome;
    $want = 6000 if $want > 6000;
    $self->set_size($rect->{width}, $want) if $want > $rect->{height};
    my $file = $self->screenshot($name);
    $self->set_size($rect->{width}, $rect->{height}) if $want > $rect->{height};
    return $file;
}

sub _slurp {
    my $f = shift;
    open my $fh, '<', $f or return '';
    local $/;
    return <$fh> // '';
}

package BP::WebDriver::El;    # an element reference: { id, css }

1;
