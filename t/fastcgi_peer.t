# A TCP listener. FastCGI has no authentication: whoever reaches the
# socket is believed. So blogposter refuses to start on a TCP address that
# is not a loopback one unless FASTCGI_ALLOWED_ADDRS lists the web
# server's addresses, and with that setting it closes, unanswered, a
# connection from any other peer.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use BP::Harness;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);

my $h = BP::Harness->new(start_bp => 0);    # migrated, not serving

# ------------------------------------------------------------ refused at start

for my $listen ('0.0.0.0:' . free_port(), '[::]:' . free_port()) {
    my ($st, $out, $err) = $h->run_bp({ LISTEN => $listen, FASTCGI_ALLOWED_ADDRS => undef }, 'serve');
    isnt($st, 0, "LISTEN=$listen without FASTCGI_ALLOWED_ADDRS: serve refuses to start");
    like($err, qr/LISTEN: \Q$listen\E .*not a loopback address/, '... naming LISTEN');
    like($err, qr/FASTCGI_ALLOWED_ADDRS/, '... and the setting that allows it');
}

for my $bad ('nope', '127.0.0.1, 300.1.1.1', ',') {
    my ($st, $out, $err) = $h->run_bp({ FASTCGI_ALLOWED_ADDRS => $bad }, 'check-config');
    isnt($st, 0, "FASTCGI_ALLOWED_ADDRS='$bad' refused");
    like($err, qr/FASTCGI_ALLOWED_ADDRS/, '... naming it');
}
{
    my ($st, $out, $err) = $h->run_bp({ FASTCGI_ALLOWED_ADDRS => '127.0.0.2, ::1 10.0.0.7' }, 'check-config');
    is($st, 0, 'a list of IPv4 and IPv6 addresses is accepted') or diag($err);
    like($out, qr/^FASTCGI_ALLOWED_ADDRS=127\.0\.0\.2, ::1 10\.0\.0\.7$/m, 'check-config prints it');
}

# ------------------------------------------------------------ the peer check

# One FastCGI request (GET /api/v1/health) from $from; returns what came back.
sub fcgi_get {
    my ($port, $from) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, LocalAddr => $from,
        Proto => 'tcp', Timeout => 5) or return "cannot connect: $!";
    my $rec = sub {
        my ($type, $content) = @_;
        return pack('CCnnCx', 1, $type, 1, length $content, 0) . $content;
    };
    my %p = (REQUEST_METHOD => 'GET', REQUEST_URI => '/api/v1/health', SCRIPT_NAME => '/api/v1/health',
             QUERY_STRING => '', SERVER_PROTOCOL => 'HTTP/1.1', REQUEST_ID => 'peer-test');
    my $params = join '', map { pack('CC', length $_, length $p{$_}) . $_ . $p{$_} } sort keys %p;
    print {$s} $rec->(1, pack('nCx5', 1, 0)) . $rec->(4, $params) . $rec->(4, '') . $rec->(5, '');
    my ($all, $buf) = ('');
    my $deadline = time + 10;
    $s->blocking(0);
    while (time < $deadline) {
        my $n = sysread($s, $buf, 65536);
        if (defined $n) { last if $n == 0; $all .= $buf; next }
        sleep 0.05;
    }
    close $s;
    return $all;
}

sub serve_tcp {
    my (%env) = @_;
    my $port = free_port();
    $h->start_bp(wait => 'none', LISTEN => "127.0.0.1:$port", %env);
    $h->wait_until(sub {
        IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp', Timeout => 1)
    }, 20, "blogposter on 127.0.0.1:$port");
    $h->wait_workers;
    return $port;
}

{
    my $port = serve_tcp(FASTCGI_ALLOWED_ADDRS => undef);
    like(fcgi_get($port, '127.0.0.1'), qr/Status: 200/, 'a loopback TCP listener without the setting serves');
    $h->stop_bp;
}
{
    my $port = serve_tcp(FASTCGI_ALLOWED_ADDRS => '127.0.0.2');
    is(fcgi_get($port, '127.0.0.1'), '', 'a peer not in FASTCGI_ALLOWED_ADDRS gets no answer');
    like($h->log, qr/refused a FastCGI connection from 127\.0\.0\.1: not in FASTCGI_ALLOWED_ADDRS/,
        '... and the refusal is logged');
    like(fcgi_get($port, '127.0.0.2'), qr/Status: 200.*"status"/s, 'a listed peer is answered');
    is($h->stop_bp, 0, 'blogposter stops cleanly');
}

sub free_port {
    for (1 .. 200) {
        my $port = 15000 + int rand 17000;
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Proto => 'tcp',
            Listen => 1, ReuseAddr => 1) or next;
        close $s;
        return $port;
    }
    die "no free TCP port\n";
}

done_testing;
