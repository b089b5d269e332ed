package BP::Util;

# Small test helpers shared by the t/*.t files.
#
#   use BP::Util qw(error_is no_store_ok unique_email);
#   $t->post_ok('/api/v1/articles', json => {})->status_is(400);
#   error_is($t, 400, 'validation_failed', 'title');

use strict;
use warnings;

use BP::Pin;    # before any Mojo module: see BP/Pin.pm

use Exporter 'import';
use JSON::PP ();
use Mojo::JSON qw(decode_json);
use Test::More ();

our @EXPORT_OK = qw(error_is no_store_ok json_body json_bytes json_of unique_email);

# error_is($t, $status, $code, $field): the last response of Test::Mojo $t
# is the API.md error: that status, Content-Type application/json,
# Cache-Control: no-store, and exactly the body
#   {"error": {"code": $code, "message": "<non-empty string>", "field": $field}}
# where "field" is present only when $field is defined (then it must be equal)
# and "details" is allowed besides. One assertion; the problems are in diag.
sub error_is {
    my ($t, $status, $code, $field, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $res = $t->tx->res;
    my @bad;
    my $got_status = $res->code // '(no response)';
    push @bad, "status is $got_status, expected $status" if $got_status ne $status;
    my $ct = $res->headers->content_type // '';
    push @bad, "Content-Type is '$ct', expected application/json" unless $ct =~ m{^application/json\s*(;|$)}i;
    my $cc = $res->headers->cache_control // '';
    push @bad, "Cache-Control is '$cc', expected no-store" unless $cc =~ /\bno-store\b/;
    my $body = $res->body // '';
    my $json = eval { decode_json($body) };
    if (ref $json ne 'HASH') {
        push @bad, "body is not a JSON object: " . substr($body, 0, 300);
    } else {
        my @top = sort keys %$json;
        push @bad, "top-level keys are (@top), expected (error)" unless "@top" eq 'error';
        my $e = $json->{error};
        if (ref $e ne 'HASH') {
            push @bad, 'error is not an object';
        } else {
            my @extra = grep { !/^(code|message|field|details)$/ } sort keys %$e;
            push @bad, "unexpected keys in error: @extra" if @extra;
            push @bad, sprintf("error.code is %s, expected '%s'", _show($e->{code}), $code)
                unless defined $e->{code} && !ref $e->{code} && $e->{code} eq $code;
            my $m = $e->{message};
            push @bad, sprintf('error.message is %s, expected a non-empty string', _show($m))
                unless defined $m && !ref $m && length $m && Mojo::JSON::encode_json([$m]) =~ /^\["/;
            if (defined $field) {
                push @bad, sprintf("error.field is %s, expected '%s'", _show($e->{field}), $field)
                    unless defined $e->{field} && !ref $e->{field} && $e->{field} eq $field;
            } elsif (exists $e->{field}) {
                push @bad, sprintf('error.field is %s, expected none', _show($e->{field}));
            }
        }
    }
    $name //= "error $status $code" . (defined $field ? " ($field)" : '');
    my $ok = Test::More::ok(!@bad, $name);
    Test::More::diag(join "\n", @bad, 'body: ' . substr($body, 0, 500)) if @bad;
    return $ok;
}

# no_store_ok($t): the last response carries Cache-Control: no-store.
sub no_store_ok {
    my ($t, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $cc = $t->tx->res->headers->cache_control // '';
    return Test::More::like($cc, qr/\bno-store\b/, $name // 'Cache-Control: no-store');
}

# The decoded JSON body of the last response of $t (undef if not JSON).
sub json_body {
    my $t = shift;
    return eval { decode_json($t->tx->res->body) };
}

# json_bytes($data): the JSON text of $data as UTF-8 bytes, every character
# written out as itself (noncharacters such as U+FFFF and U+10FFFF
# included), whatever JSON backend Mojolicious would pick. JSON::PP is part
# of Perl itself, so the bytes are the same on every machine. Send it with
# an explicit Content-Type: application/json.
my $PP = JSON::PP->new->canonical->allow_nonref;
sub json_bytes {
    my $text = $PP->encode(shift);
    utf8::encode($text);
    return $text;
}

# json_of($t): the body of the last response of Test::Mojo $t decoded by
# the same encoder-independent reader (undef if it is not JSON).
sub json_of {
    my $t = shift;
    return eval { JSON::PP->new->utf8->allow_nonref->decode($t->tx->res->body) };
}

# An email address no other call in this run returns.
my $seq = 0;
sub unique_email {
    my $prefix = shift // 'user';
    return sprintf '%s-%d-%d-%d@example.com', $prefix, $$, time, ++$seq;
}

sub _show {
    my $v = shift;
    return 'missing' unless defined $v;
    return ref $v ? Mojo::JSON::encode_json($v) : "'$v'";
}

1;
