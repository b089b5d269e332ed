package BP::AuthTest;

# Helpers of the t/auth_*.t files: accounts made through the API, tokens
# signed (or forged) here, and the operator commands run with a password
# on standard input.
#
#   use BP::AuthTest qw(register bearer jwt_sign);
#   my $acct = register($h, email => $e, password => $pw);   # 201 asserted
#   $t->get_ok('/api/v1/me', bearer($acct->{token}));

use strict;
use warnings;

use BP::Pin;    # before any Mojo module: see BP/Pin.pm

use Exporter 'import';
use Digest::SHA qw(hmac_sha256 hmac_sha512);
use File::Temp qw(tempfile);
use MIME::Base64 qw(encode_base64url decode_base64url);
use Mojo::JSON qw(decode_json encode_json);
use POSIX ();
use Test::More ();

use BP::Util qw(unique_email);

our @EXPORT_OK = qw(register login bearer api_key_hdr jwt_sign jwt_claims
    make_admin run_bp_stdin user_row PASSWORD);

# A password that satisfies the rule (12..128 characters).
use constant PASSWORD => 'correct horse battery staple';

# register($h, %opt): POST /auth/register through a fresh user agent (so
# the harness's cookie jar is left alone). Asserts the 201 (one test).
# Returns the decoded body ({user, token, expires_at, api_key}) plus
# email and password.
sub register {
    my ($h, %o) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $email = $o{email}    // unique_email($o{prefix} // 'auth');
    my $pw    = $o{password} // PASSWORD;
    my $tx    = $h->new_ua->post($h->url('/api/v1/auth/register'),
        json => { email => $email, password => $pw });
    my $code = $tx->res->code // 0;
    Test::More::is($code, 201, "registered $email")
        or Test::More::diag($tx->res->body // $tx->error->{message});
    my $b = eval { decode_json($tx->res->body) } // {};
    return { %$b, email => lc($email), password => $pw };
}

# login($h, $email, $password): the decoded body of a 200, or undef.
sub login {
    my ($h, $email, $pw) = @_;
    my $tx = $h->new_ua->post($h->url('/api/v1/auth/login'),
        json => { email => $email, password => $pw });
    return undef unless ($tx->res->code // 0) == 200;
    return decode_json($tx->res->body);
}

sub bearer      { return { Authorization => "Bearer $_[0]" } }
sub api_key_hdr { return { 'X-API-Key' => $_[0] } }

# make_admin($h, $user_id): role admin, straight in the database.
sub make_admin {
    my ($h, $id) = @_;
    $h->psql(q{UPDATE users SET role = 'admin' WHERE id = $1}, $id);
}

# The users row of an id as a hash (columns as psql gives them).
sub user_row {
    my ($h, $id) = @_;
    my $sth = $h->dbh->prepare(q{SELECT id, email, password_hash, role, is_active,
        token_version, api_key_prefix, encode(api_key_hash, 'hex') AS api_key_hash_hex,
        max_monthly_cost::text AS max_monthly_cost, max_articles_per_month
        FROM users WHERE id = $1});
    $sth->execute($id);
    return $sth->fetchrow_hashref;
}

# jwt_sign(header => {...} | raw text, claims => {...} | raw text,
#          key => $k, alg => 'HS256' | 'HS512' | 'none', sig => raw sig text)
# A compact JWS built by hand, so that tests can forge every part.
sub jwt_sign {
    my %o = @_;
    my $hdr = ref $o{header} ? encode_json($o{header}) : ($o{header} // encode_json({ alg => 'HS256', typ => 'JWT' }));
    my $pl  = ref $o{claims} ? encode_json($o{claims}) : $o{claims};
    my $input = encode_base64url($hdr) . '.' . encode_base64url($pl);
    my $alg = $o{alg} // 'HS256';
    my $sig = exists $o{sig} ? $o{sig}
        : $alg eq 'HS256' ? encode_base64url(hmac_sha256($input, $o{key}))
        : $alg eq 'HS512' ? encode_base64url(hmac_sha512($input, $o{key}))
        : '';
    return "$input.$sig";
}

# The claims of a token (no check).
sub jwt_claims {
    my $tok = shift;
    my (undef, $pl) = split /\./, $tok;
    return decode_json(decode_base64url($pl));
}

# run_bp_stdin($h, $stdin, @args), or run_bp_stdin($h, $stdin, \%env, @args):
# runs the binary with the harness environment and $stdin (bytes, or undef
# for /dev/null) on its standard input. Returns (exit status, stdout, stderr).
sub run_bp_stdin {
    my ($h, $stdin, @args) = @_;
    my %extra = ref $args[0] eq 'HASH' ? %{ shift @args } : ();
    my $env = $h->bp_env(%extra);
    my ($in_fh, $in_name) = tempfile(DIR => $h->tmpdir, UNLINK => 1);
    binmode $in_fh;
    print {$in_fh} $stdin if defined $stdin;
    close $in_fh;
    my ($out_fh, $out_name) = tempfile(DIR => $h->tmpdir, UNLINK => 1);
    my ($err_fh, $err_name) = tempfile(DIR => $h->tmpdir, UNLINK => 1);
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDIN, '<', (defined $stdin ? $in_name : '/dev/null') or POSIX::_exit(126);
        open STDOUT, '>', $out_name or POSIX::_exit(126);
        open STDERR, '>', $err_name or POSIX::_exit(126);
        %ENV = %$env;
        { exec { $h->bin } $h->bin, @args }
        POSIX::_exit(127);
    }
    waitpid($pid, 0);
    my $st = $? & 127 ? 128 + ($? & 127) : $? >> 8;
    local $/;
    open my $o, '<', $out_name or die;
    open my $e, '<', $err_name or die;
    my ($out, $err) = (scalar(<$o>) // '', scalar(<$e>) // '');
    # the harness scans this file for sanitizer reports at teardown
    if (open my $log, '>>', $h->tmpdir . '/run_bp.log') {
        print {$log} "### blogposter @args\n$err";
    }
    return ($st, $out, $err);
}

1;
