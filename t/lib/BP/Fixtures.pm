package BP::Fixtures;

# Test data made straight in the database, so that the tests of articles,
# pipelines and usage do not depend on the account endpoints.
#
#   use BP::Fixtures qw(make_user auth);
#   my $u = make_user($h, max_articles_per_month => 3);
#   $h->t->get_ok('/api/v1/usage', auth($u))->status_is(200);
#
# make_user($h, %opts) inserts an active user with an API key (only its
# SHA-256 is stored, as the application stores it) and returns
#   { id => UUID, email => ..., api_key => 'bp_...', headers => {X-API-Key} }
# Options: email, role ('user'), is_active (1), max_monthly_cost (money
# text or undef: the default), max_articles_per_month (integer or undef).
#
# auth($u, %more) is the header hash of a request as $u (X-API-Key), plus
# %more (e.g. 'Idempotency-Key' => 'k1').
#
# race($h, $n, sub { my ($ua, $i) = @_; return $ua->post(...) }) runs the
# code in $n forked clients at once: each connects first (TLS and all, on
# a kept-alive connection), then all are released together. Returns the
# answers in client order: { code, body, json, headers => {lower-case
# name => value} }.

use strict;
use warnings;

use BP::Pin;    # before any Mojo module: see BP/Pin.pm

use Exporter 'import';

our @EXPORT_OK = qw(make_user auth api_key random_uuid race);

use File::Temp qw(tempdir);
use Mojo::JSON qw(decode_json encode_json);
use POSIX ();

my @B64URL = ('A' .. 'Z', 'a' .. 'z', '0' .. '9', '-', '_');
my $seq    = 0;

# A fresh API key: "bp_" and 43 base64url characters (256 bits).
sub api_key {
    my $k = 'bp_';
    # the 43rd character carries 4 bits: one of 16 values ends it
    $k .= $B64URL[ int rand 64 ] for 1 .. 42;
    $k .= $B64URL[ 4 * int rand 16 ];
    return $k;
}

sub random_uuid {
    my @h = map { sprintf '%04x', int rand 65536 } 1 .. 8;
    substr($h[3], 0, 1) = '4';
    substr($h[4], 0, 1) = (qw(8 9 a b))[ int rand 4 ];
    return "$h[0]$h[1]-$h[2]-$h[3]-$h[4]-$h[5]$h[6]$h[7]";
}

sub make_user {
    my ($h, %o) = @_;
    my $email = $o{email} // sprintf 'fixture-%d-%d-%d@example.com', $$, time, ++$seq;
    my $key   = api_key();
    my $id    = $h->psql(
        q{INSERT INTO users (email, password_hash, role, is_active, api_key_hash, api_key_prefix,
                             max_monthly_cost, max_articles_per_month)
          VALUES ($1, '$y$fixture$no-login', $2, $3, sha256(convert_to($4, 'UTF8')), left($4, 8),
                  $5::numeric, $6::integer)
          RETURNING id},
        lc $email, $o{role} // 'user', ($o{is_active} // 1) ? 'true' : 'false', $key,
        $o{max_monthly_cost}, $o{max_articles_per_month});
    return { id => $id, email => lc $email, api_key => $key, headers => { 'X-API-Key' => $key } };
}

sub race {
    my ($h, $n, $code) = @_;
    my $dir = tempdir('bp-race-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    pipe(my $go_r, my $go_w) or die "pipe: $!";
    pipe(my $ready_r, my $ready_w) or die "pipe: $!";
    my @pids;
    for my $i (0 .. $n - 1) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            close $go_w;
            close $ready_r;
            my $out = eval {
                my $ua = $h->new_ua;
                $ua->get($h->url('/api/v1/health'));    # connect now
                syswrite $ready_w, 'x';
                my $buf;
                sysread $go_r, $buf, 1;                 # EOF: go
                my $tx  = $code->($ua, $i);
                my $res = $tx->res;
                my %hd  = map { lc($_) => $res->headers->header($_) } @{ $res->headers->names };
                +{ code => $res->code, body => $res->body, headers => \%hd };
            } // { code => 0, body => "client error: $@", headers => {} };
            open my $fh, '>', "$dir/$i.json" or POSIX::_exit(2);
            print $fh encode_json($out);
            close $fh;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    close $go_r;
    close $ready_w;
    my $ready = 0;
    while ($ready < $n) {
        my $buf;
        my $got = sysread $ready_r, $buf, $n;
        last unless $got;
        $ready += $got;
    }
    close $go_w;    # every client goes at once
    waitpid $_, 0 for @pids;
    my @res;
    for my $i (0 .. $n - 1) {
        open my $fh, '<', "$dir/$i.json" or die "client $i left no answer";
        local $/;
        my $r = decode_json(<$fh>);
        $r->{json} = eval { decode_json($r->{body}) };
        push @res, $r;
    }
    return @res;
}

sub auth {
    my ($u, %more) = @_;
    return { %{ $u->{headers} }, %more };
}

1;
