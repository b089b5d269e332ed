# Configuration errors stop the program with a message naming the variable.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use BP::Harness;

my $h = BP::Harness->new(start_bp => 0);

my ($st, $out, $err) = $h->run_bp({ SECRET_KEY => undef }, 'serve');
isnt($st, 0, 'serve without SECRET_KEY exits non-zero');
like($err, qr/SECRET_KEY/, 'and names SECRET_KEY');

($st, $out, $err) = $h->run_bp({ SECRET_KEY => 'x' x 31 }, 'serve');
isnt($st, 0, 'a 31-byte SECRET_KEY is refused');
like($err, qr/SECRET_KEY.*32/, 'with the minimum length');

($st, $out, $err) = $h->run_bp({ WORKERS => 'two' }, 'serve');
isnt($st, 0, 'non-numeric WORKERS refused');
like($err, qr/WORKERS/, 'names WORKERS');

for my $case ([MAX_BODY_BYTES => '-5'], [JWT_TTL => 'soon'], [ENABLE_USER_REGISTRATION => 'perhaps'],
              [MAX_MONTHLY_COST_PER_USER => '1e3'], [EMBEDDING_DIM => '0'], [LISTEN => 'nowhere'],
              [PIPELINE_TIMEOUT_MINUTES => '1.5'], [MAX_ARTICLES_PER_USER_PER_MONTH => ''],) {
    my ($var, $val) = @$case;
    ($st, $out, $err) = $h->run_bp({ $var => $val }, 'check-config');
    isnt($st, 0, "$var=$val refused");
    like($err, qr/\Q$var\E/, "message names $var");
}

my $missing = $h->tmpdir . '/no-such.env';
($st, $out, $err) = $h->run_bp('--env-file', $missing, 'serve');
isnt($st, 0, 'unreadable env file refused');
like($err, qr/\Q$missing\E/, 'message names the file');

my $envf = $h->tmpdir . '/test.env';
open my $fh, '>', $envf or die;
print $fh "# settings\nexport WORKERS=3\nJWT_TTL='2h'\n";
close $fh;
($st, $out, $err) = $h->run_bp({ WORKERS => undef }, '--env-file', $envf, 'check-config');
is($st, 0, 'check-config with an env file');
like($out, qr/^WORKERS=3$/m, 'value from the env file');
like($out, qr/^JWT_TTL=7200s$/m, 'quoted duration from the env file');
like($out, qr/^SECRET_KEY=\(set, hidden\)$/m, 'the secret is not printed');
unlike($out, qr/\Q${\ $h->secret_key }\E/, 'secret never appears');
($st, $out, $err) = $h->run_bp({ WORKERS => 5 }, '--env-file', $envf, 'check-config');
like($out, qr/^WORKERS=5$/m, 'the environment wins over the env file');

# the database password is masked in both forms of DATABASE_URL
for my $case (['postgres://bp:Pw-uri-9@db.example:5432/bp', 'postgres://bp:***@db.example:5432/bp', 'Pw-uri-9'],
              ["host=db password='Pw kv 9' user=bp", 'host=db password=*** user=bp', 'Pw kv 9'],
              ['host=db password=Pw-kv-8', 'host=db password=***', 'Pw-kv-8']) {
    my ($url, $shown, $pw) = @$case;
    ($st, $out, $err) = $h->run_bp({ DATABASE_URL => $url }, 'check-config');
    is($st, 0, "check-config with DATABASE_URL=$shown");
    like($out, qr/^DATABASE_URL=\Q$shown\E$/m, 'prints it with the password masked');
    unlike($out . $err, qr/\Q$pw\E/, 'the password never appears');
}

($st, $out) = $h->run_bp('--version');
is($st, 0, '--version');
like($out, qr/^blogposter \d+\.\d+\.\d+$/m, 'prints the version');
($st, $out) = $h->run_bp('--help');
like($out, qr/serve.*migrate/s, '--help lists the commands');
($st, $out, $err) = $h->run_bp('frobnicate');
is($st, 2, 'unknown command: usage error');

done_testing;
