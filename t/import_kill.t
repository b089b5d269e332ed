#!/usr/bin/env perl
# import-json killed with SIGKILL in the middle of writing leaves the
# database exactly as it was; the next run imports everything, and the
# usage it rebuilds is the exact sum of the runs' costs per month.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use POSIX qw(:sys_wait_h);
use Test::More;
use Time::HiRes qw(sleep time);
use BP::Harness;
use BP::Fixtures qw(make_user);
use BP::Legacy qw(bulk_folder snapshot money_text spew);

my $h = BP::Harness->new;
my $owner = make_user($h, email => 'owner@example.com');
my $dir = $h->tmpdir . '/legacy';
my $N = 4000;
my $made = bulk_folder($dir, articles => $N, bytes => 20000, pipelines => 2000);
$h->{run_timeout} = 300;

my $before = snapshot($h);

# start it in the background, its stderr in a file
my $errfile = $h->tmpdir . '/import.err';
spew($errfile, '');
my $pid = fork // die "fork: $!";
if (!$pid) {
    open STDIN, '<', '/dev/null';
    open STDOUT, '>', $h->tmpdir . '/import.out' or die;
    open STDERR, '>>', $errfile or die;
    %ENV = %{ $h->bp_env };
    exec { $h->bin } $h->bin, 'import-json', $dir, '--owner', 'owner@example.com' or POSIX::_exit(127);
}

# wait until it is streaming rows (pass 2, 1000 articles sent), then kill it
my $deadline = time + 120;
my $seen = 0;
while (time < $deadline) {
    my $err = do { local $/; open my $fh, '<', $errfile or die; <$fh> } // '';
    if ($err =~ m{pass 2: articles 1000/\Q$N\E}) { $seen = 1; last }
    last if waitpid($pid, WNOHANG) == $pid;
    sleep 0.005;
}
ok($seen, 'the import reached pass 2 (1000 of the articles sent)');
ok(kill('KILL', $pid), 'killed with SIGKILL');
waitpid($pid, 0);
is($? & 127, 9, 'it died of the SIGKILL (it had not finished)');
my $out = do { local $/; open my $fh, '<', $h->tmpdir . '/import.out' or die; <$fh> } // '';
unlike($out, qr/committed/, 'it never said committed');

# the server notices the dead client and rolls its transaction back
$h->wait_until(sub {
    !$h->psql(q{SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL OR query LIKE 'COPY %'})
}, 30, 'the killed import to be rolled back');
is($h->psql(q{SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'}), 0, 'no lock left behind');
is(snapshot($h), $before, 'the database is exactly as before');
is($h->psql('SELECT count(*) FROM articles'), 0, 'no article');
is($h->psql('SELECT count(*) FROM pipelines'), 0, 'no run');
is($h->psql('SELECT count(*) FROM api_usage'), 0, 'no usage');

# the next run imports everything
my ($st, $o, $e) = $h->run_bp('import-json', $dir, '--owner', 'owner@example.com');
is($st, 0, 'the next run succeeds') or diag($e);
like($o, qr/^articles: $N read, $N imported, 0 already present$/m, 'every article imported');
like($o, qr/^pipelines: 2000 read, 2000 imported, 0 already present$/m, 'every run imported');
is($h->psql('SELECT count(*) FROM articles WHERE user_id = $1', $owner->{id}), $N, "all the owner's");
my %got = map { $_->[0] => [ $_->[1], $_->[2] ] }
    $h->psql(q{SELECT to_char(month, 'YYYY-MM'), articles_generated, total_cost::text FROM api_usage WHERE user_id = $1},
        $owner->{id});
my %want = map { $_ => [ $made->{usage}{$_}[0], money_text($made->{usage}{$_}[1]) ] } keys %{ $made->{usage} };
is_deeply(\%got, \%want, 'usage per month is the exact sum of the runs (12 months)');
for my $m (sort keys %want) {
    like($o, qr/^  \Q$m\E: articles $want{$m}[0], cost \Q$want{$m}[1]\E \(was: articles 0, cost 0\.0000\)$/m,
        "summary line of $m");
}

done_testing;
