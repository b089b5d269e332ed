#!/usr/bin/env perl
# A long-running worker's memory does not grow (DESIGN.md: per-request
# memory is freed at the end of the request). With WORKERS=1, several
# keep-alive clients send 100,000 mixed requests (lists, reads, creates,
# updates, pipeline starts and ends, usage, health, and 4xx answers of
# every kind) to the one worker. Its resident set is sampled after a
# warm-up of 5,000 requests and at the end; it may grow by 512 KiB at most.
#
# Under AddressSanitizer (the CI's second pass, BP_SANITIZED=1) or
# valgrind (BP_WRAPPER) the resident set measures the tool, not the
# program (ASan keeps freed memory in quarantine): the test skips there.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use BP::Harness;
use BP::Fixtures qw(make_user auth);
use Mojo::JSON qw(decode_json encode_json);
use POSIX ();
use Time::HiRes qw(sleep time);

my $TOTAL    = $ENV{BP_RSS_REQUESTS} // 100_000;
my $WARMUP   = 5_000;
my $CLIENTS  = 4;
my $MAX_KIB  = 512;

my $bin = $ENV{BLOGPOSTER_BIN} // BP::Harness->repo . '/src/blogposter';
my $why_skip;
if ($ENV{BP_SANITIZED}) {
    $why_skip = 'BP_SANITIZED is set: a sanitizer build, whose RSS is the sanitizer\'s';
} elsif ($ENV{BP_WRAPPER}) {
    $why_skip = "BP_WRAPPER ($ENV{BP_WRAPPER}): the RSS would be the wrapper's";
} elsif (`nm -D '$bin' 2>/dev/null; ldd '$bin' 2>/dev/null` =~ /__asan_init|libasan|__msan_init|__tsan_init|__lsan/) {
    $why_skip = "$bin is built with a sanitizer (nm/ldd): its RSS is the sanitizer's";
}
plan skip_all => $why_skip if $why_skip;

my $T0 = time;
my $h = BP::Harness->new(workers => 1, env => {
    MAX_MONTHLY_COST_PER_USER       => '999999.00',
    MAX_ARTICLES_PER_USER_PER_MONTH => 1000000000,
    EMBEDDING_DIM                   => 4,
});
my ($worker) = $h->wait_workers(1);
my @users = map { make_user($h) } 1 .. $CLIENTS;

sub rss_kib {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/status" or return undef;
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)\s+kB/ }
    return undef;
}

# A kept-alive HTTP/1.1 connection over TLS that sends requests in
# pipelined batches: Test::Mojo costs more CPU per request than the worker
# does, and on two cores the clients would be what is measured. nginx
# ends a connection after keepalive_requests (1000): a new one is opened
# before that.
{
    package Pipe;
    use IO::Socket::SSL;

    sub new {
        my ($class, $port) = @_;
        my $self = bless { port => $port }, $class;
        $self->_connect;
        return $self;
    }

    sub _connect {
        my ($self) = @_;
        $self->{s} = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port}, Timeout => 30,
            SSL_verify_mode => SSL_VERIFY_NONE) or die "connect: $! $SSL_ERROR";
        $self->{buf}  = '';
        $self->{used} = 0;
    }

    # [method, path, headers (hash), body] x N -> [code, body] x N
    sub batch {
        my ($self, @reqs) = @_;
        $self->_connect if $self->{used} + @reqs > 990;
        $self->{used} += @reqs;
        my $out = '';
        for my $r (@reqs) {
            my ($m, $path, $hd, $body) = @$r;
            $out .= "$m $path HTTP/1.1\r\nHost: 127.0.0.1\r\n";
            $out .= "$_: $hd->{$_}\r\n" for keys %$hd;
            $out .= 'Content-Length: ' . length($body) . "\r\n" if defined $body;
            $out .= "\r\n" . ($body // '');
        }
        my $s = $self->{s};
        print $s $out or die "write: $!";
        return map { $self->_response } @reqs;
    }

    sub _fill {
        my ($self) = @_;
        my $n = sysread($self->{s}, my $chunk, 65536);
        die "connection closed\n" unless $n;
        $self->{buf} .= $chunk;
    }

    sub _response {
        my ($self) = @_;
        my $end;
        $self->_fill until ($end = index($self->{buf}, "\r\n\r\n")) >= 0;
        my $head = substr($self->{buf}, 0, $end + 4, '');
        my ($code) = $head =~ m{^HTTP/1\.1 (\d{3})} or die "bad answer: $head";
        my $body = '';
        if ($head =~ /^Content-Length:\s*(\d+)/mi) {
            my $len = $1;
            $self->_fill while length($self->{buf}) < $len;
            $body = substr($self->{buf}, 0, $len, '');
        } elsif ($head =~ /^Transfer-Encoding:\s*chunked/mi) {
            while (1) {
                my $e;
                $self->_fill until ($e = index($self->{buf}, "\r\n")) >= 0;
                my $len = hex substr($self->{buf}, 0, $e + 2, '');
                $self->_fill while length($self->{buf}) < $len + 2;
                $body .= substr($self->{buf}, 0, $len, '');
                substr($self->{buf}, 0, 2, '');
                last unless $len;
            }
        }
        return [ $code, $body ];
    }
}

# One client: $n requests in a fixed rotation of kinds, 16 at a time on a
# pipelined connection; after $warm of them it reports and waits for the
# go.
sub client {
    my ($c, $n, $warm, $ready_w, $go_r) = @_;
    my $u    = $users[$c];
    my $pipe = Pipe->new($h->https_port);
    my %auth = (%{ auth($u) });
    my %json = (%auth, 'Content-Type' => 'application/json');
    my (@articles, @running, %codes);
    my $long = 'x' x 20000;
    my @kinds = qw(create list get update pstart pend usage health get list create notfound badjson
                   noauth method update history pstart pend get bigcreate unknownfield);
    my $i = 0;
    while ($i < $n) {
        my $b = 16;
        $b = $n - $i if $i + $b > $n;
        $b = $warm - $i if $i < $warm && $i + $b > $warm;
        my (@reqs, @kind);
        for (1 .. $b) {
            $i++;
            my $kind = $kinds[ $i % @kinds ];
            $kind = 'create' if !@articles && $kind =~ /^(get|update)$/;
            $kind = 'pstart' if !@running && $kind eq 'pend';
            my $aid = @articles ? $articles[ $i % @articles ] : undef;
            push @kind, $kind;
            push @reqs,
                $kind eq 'create' || $kind eq 'bigcreate'
                    ? [ POST => '/api/v1/articles', \%json, encode_json({ title => "rss $c $i",
                          content_markdown => ($kind eq 'bigcreate' ? $long : "body $i"),
                          seo_score => $i % 100, embedding => [ 0.1, 0.2, 0.3, $i % 7 ] }) ]
                : $kind eq 'list'    ? [ GET => '/api/v1/articles?limit=' . (1 + $i % 100), \%auth ]
                : $kind eq 'get'     ? [ GET => "/api/v1/articles/$aid", \%auth ]
                : $kind eq 'update'  ? [ PATCH => "/api/v1/articles/$aid", \%json,
                                         encode_json({ meta_description => "meta $i", status => 'published' }) ]
                : $kind eq 'pstart'  ? [ POST => '/api/v1/pipelines', \%json, '{"estimated_cost":"0.01"}' ]
                : $kind eq 'pend'    ? [ PATCH => '/api/v1/pipelines/' . shift(@running), \%json,
                                         $i % 2 ? '{"status":"completed","total_cost":"0.0200"}'
                                                : '{"status":"failed","error_message":"x","total_cost":"0.0100"}' ]
                : $kind eq 'usage'   ? [ GET => '/api/v1/usage', \%auth ]
                : $kind eq 'history' ? [ GET => '/api/v1/usage/history?months=12', \%auth ]
                : $kind eq 'health'  ? [ GET => '/api/v1/health', {} ]
                : $kind eq 'notfound' ? [ GET => '/api/v1/articles/00000000-0000-4000-8000-000000000000', \%auth ]
                : $kind eq 'badjson' ? [ POST => '/api/v1/articles', \%json, '{"title":"a","title":"b"}' ]
                : $kind eq 'unknownfield' ? [ POST => '/api/v1/articles', \%json, encode_json({ title => 't', nope => [ 1 .. 50 ] }) ]
                : $kind eq 'noauth'  ? [ GET => '/api/v1/articles', { 'X-API-Key' => 'bp_' . ('A' x 43) } ]
                :                      [ DELETE => '/api/v1/usage', \%auth ];
        }
        my @res = $pipe->batch(@reqs);
        for my $k (0 .. $#res) {
            my ($code, $body) = @{ $res[$k] };
            $codes{$code}++;
            next unless $code == 201;
            my ($id) = $body =~ /"id":"([0-9a-f-]{36})"/ or next;
            if ($kind[$k] eq 'pstart') { push @running, $id }
            elsif ($kind[$k] =~ /create/) { push @articles, $id; shift @articles if @articles > 50 }
        }
        if ($i == $warm) {
            syswrite $ready_w, "r";
            sysread $go_r, my $buf, 1;    # EOF: go on
        }
    }
    return \%codes;
}

# Runs the clients: each does $per requests, pausing after $warm of them
# until the parent has sampled. Returns (rss after warm-up, at the end,
# answer codes, seconds for the part after the warm-up).
my $per  = int($TOTAL / $CLIENTS);
my $warm = int($WARMUP / $CLIENTS);
pipe(my $ready_r, my $ready_w) or die "pipe: $!";
pipe(my $go_r, my $go_w) or die "pipe: $!";
my $dir = $h->tmpdir;
my @kids;
for my $c (0 .. $CLIENTS - 1) {
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
        close $ready_r;
        close $go_w;
        my $codes = eval { client($c, $per, $warm, $ready_w, $go_r) } // { error => "$@" };
        open my $fh, '>', "$dir/rss-client-$c.json" or POSIX::_exit(2);
        print $fh encode_json($codes);
        close $fh;
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
close $ready_w;
close $go_r;
my $ready = 0;
while ($ready < $CLIENTS) {
    my $got = sysread $ready_r, my $buf, 16;
    last unless $got;
    $ready += $got;
}
my $t_warm = time;
is($ready, $CLIENTS, "warm-up: $CLIENTS clients sent " . $warm * $CLIENTS . ' requests');
sleep 0.3;
my $rss0 = rss_kib($worker);
close $go_w;    # go on
waitpid $_, 0 for @kids;
my $t_end = time;
sleep 0.3;
my $rss1 = rss_kib($worker);

my (%codes, @errors);
for my $c (0 .. $CLIENTS - 1) {
    my $r = eval { open my $fh, '<', "$dir/rss-client-$c.json" or die; local $/; decode_json(<$fh>) } // { error => 'no report' };
    push @errors, "client $c: $r->{error}" if $r->{error};
    $codes{$_} += $r->{$_} for grep { $_ ne 'error' } keys %$r;
}
is(scalar @errors, 0, 'every client finished') or diag("@errors");
my $sent = 0;
$sent += $_ for values %codes;
is($sent, $per * $CLIENTS, "$sent requests answered by the one worker");
is($codes{0} // 0, 0, 'none without an answer');
ok(!grep({ $_ >= 500 } keys %codes), 'no 5xx') or diag(encode_json(\%codes));
ok(($codes{404} // 0) && ($codes{400} // 0) && ($codes{401} // 0) && ($codes{405} // 0), '4xx answers of several kinds in the mix');
is_deeply([ $h->worker_pids ], [$worker], 'the same worker served them all');

ok(defined $rss0 && defined $rss1, 'RSS sampled');
my $growth = ($rss1 // 0) - ($rss0 // 0);
my $secs   = $t_end - $t_warm;
ok($growth <= $MAX_KIB, sprintf 'RSS of the worker after %d requests: %d KiB, after %d: %d KiB: grew %d KiB (at most %d)',
    $warm * $CLIENTS, $rss0 // -1, $sent, $rss1 // -1, $growth, $MAX_KIB);
diag(sprintf 'rss.t: worker RSS %d KiB after the %d-request warm-up, %d KiB after %d requests (%+d KiB); %d requests after the warm-up in %.1f s (%.0f/s); answers: %s',
    $rss0 // -1, $warm * $CLIENTS, $rss1 // -1, $sent, $growth, $sent - $warm * $CLIENTS, $secs,
    ($sent - $warm * $CLIENTS) / ($secs || 1), join(', ', map { "$_ x$codes{$_}" } sort keys %codes));
note(sprintf 'rss.t: %.1f s in all', time - $T0);
done_testing;
