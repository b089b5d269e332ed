#!/usr/bin/env perl
# Transactions: a write that hits a serialization failure (40001) or a
# deadlock (40P01) runs again, whole, up to three times in all; then it is
# a 500 and nothing of it is kept.  The failures are raised by a trigger
# the test installs, counted by a sequence (which a rollback does not
# reset).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use BP::Harness;
use BP::Fixtures qw(make_user auth);
use BP::Util qw(error_is);

my $h = BP::Harness->new(workers => 2);
my $t = $h->t;
my $alice = make_user($h);

$h->psql($_) for (
    'CREATE SEQUENCE tx_fault_seq',
    'CREATE TABLE tx_fault (fails integer NOT NULL, state text NOT NULL)',
    q{INSERT INTO tx_fault VALUES (0, '40001')},
    q{CREATE FUNCTION tx_fault() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE f tx_fault;
      BEGIN
        SELECT * INTO f FROM tx_fault;
        IF nextval('tx_fault_seq') <= f.fails THEN
          RAISE EXCEPTION 'injected failure' USING ERRCODE = f.state;
        END IF;
        RETURN NEW;
      END $$},
    'CREATE TRIGGER tx_fault BEFORE INSERT ON articles'
      . ' FOR EACH ROW EXECUTE FUNCTION tx_fault()',
    'CREATE TRIGGER tx_fault BEFORE INSERT ON pipelines'
      . ' FOR EACH ROW EXECUTE FUNCTION tx_fault()',
);

# The next `fails` inserts fail with SQLSTATE `state`.
sub inject {
    my ($fails, $state) = @_;
    $h->psql('UPDATE tx_fault SET fails = $1, state = $2', $fails, $state);
    $h->psql(q{SELECT setval('tx_fault_seq', 1, false)});
}

sub tries { $h->psql(q{SELECT last_value FROM tx_fault_seq}) }

sub count_articles {
    return $h->psql('SELECT count(*) FROM articles WHERE user_id = $1 AND title = $2',
        $alice->{id}, $_[0]);
}

for my $case ([1, '40001'], [2, '40001'], [1, '40P01'], [2, '40P01']) {
    my ($fails, $state) = @$case;
    my $title = "retried $fails x $state";
    inject($fails, $state);
    $t->post_ok('/api/v1/articles', auth($alice), json => { title => $title })
      ->status_is(201, "$title: created");
    is(tries(), $fails + 1, "$title: the insert ran " . ($fails + 1) . ' times');
    is(count_articles($title), 1, "$title: stored once");
}

inject(3, '40001');
$t->post_ok('/api/v1/articles', auth($alice), json => { title => 'never' });
error_is($t, 500, 'internal', undef, 'three serialization failures: 500');
is(tries(), 3, 'three tries, no more');
is(count_articles('never'), 0, 'nothing of it stored');

# A retried create with an Idempotency-Key claims the key once and replays.
inject(1, '40001');
$t->post_ok('/api/v1/articles', auth($alice, 'Idempotency-Key' => 'tx-1'),
    json => { title => 'keyed' })->status_is(201);
my $first = $t->tx->res->json;
$t->post_ok('/api/v1/articles', auth($alice, 'Idempotency-Key' => 'tx-1'),
    json => { title => 'keyed' })->status_is(201)
  ->header_is('Idempotent-Replayed' => 'true')
  ->json_is('/id' => $first->{id}, 'the replay is the first answer');
is(count_articles('keyed'), 1, 'keyed create stored once');

# A pipeline start: the lock, the limit check and the insert run again.
inject(1, '40001');
$t->post_ok('/api/v1/pipelines', auth($alice), json => { estimated_cost => '0.5000' })
  ->status_is(201)->header_exists('X-Usage-Remaining-Cost');
is(tries(), 2, 'pipeline start ran twice');
is($h->psql('SELECT count(*) FROM pipelines WHERE user_id = $1', $alice->{id}), 1,
    'one pipeline stored');

# A failure at COMMIT (a deferred constraint trigger): the COMMIT goes in
# one round trip with the insert, and its 40001 still runs the create again.
inject(0, '40001');
$h->psql($_) for (
    'CREATE SEQUENCE tx_commit_seq',
    'CREATE TABLE tx_commit_fault (fails integer NOT NULL)',
    'INSERT INTO tx_commit_fault VALUES (0)',
    q{CREATE FUNCTION tx_commit_fault() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('tx_commit_seq') <= (SELECT fails FROM tx_commit_fault) THEN
          RAISE EXCEPTION 'injected failure at commit' USING ERRCODE = '40001';
        END IF;
        RETURN NULL;
      END $$},
    'CREATE CONSTRAINT TRIGGER tx_commit_fault AFTER INSERT ON articles'
      . ' DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tx_commit_fault()',
);
sub inject_commit {
    $h->psql('UPDATE tx_commit_fault SET fails = $1', $_[0]);
    $h->psql(q{SELECT setval('tx_commit_seq', 1, false)});
}
inject_commit(1);
$t->post_ok('/api/v1/articles', auth($alice), json => { title => 'at commit' })->status_is(201);
is($h->psql(q{SELECT last_value FROM tx_commit_seq}), 2, 'failed at COMMIT: ran again');
is(count_articles('at commit'), 1, 'stored once');
inject_commit(3);
$t->post_ok('/api/v1/articles', auth($alice), json => { title => 'never at commit' });
error_is($t, 500, 'internal', undef, 'three failures at COMMIT: 500');
is(count_articles('never at commit'), 0, 'nothing of it stored');

# Ending a run sends its COMMIT with the end too: a failure there runs the
# end again, which counts the run once and answers with the usage it left.
$h->psql('CREATE CONSTRAINT TRIGGER tx_commit_fault AFTER UPDATE ON pipelines'
    . ' DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tx_commit_fault()');
my $bob = make_user($h);
inject_commit(0);
$t->post_ok('/api/v1/pipelines', auth($bob), json => { estimated_cost => '0.5' })->status_is(201);
my $run1 = $t->tx->res->json->{id};
$t->post_ok('/api/v1/pipelines', auth($bob), json => { estimated_cost => '0.25' })->status_is(201);
my $run2 = $t->tx->res->json->{id};
inject_commit(1);
$t->patch_ok("/api/v1/pipelines/$run1", auth($bob), json => { status => 'completed', total_cost => '0.2' })
  ->status_is(200)->json_is('/status' => 'completed')
  ->header_is('X-Usage-Remaining-Cost' => '49.5500', 'end failed at COMMIT, ran again: 50 - 0.2 - 0.25')
  ->header_is('X-Usage-Remaining-Articles' => '98');
is($h->psql(q{SELECT last_value FROM tx_commit_seq}), 2, 'end failed at COMMIT: ran again');
$t->get_ok('/api/v1/usage', auth($bob))->status_is(200)
  ->json_is('/articles_generated' => 1, 'the run counted once')->json_is('/total_cost' => '0.2000')
  ->json_is('/remaining/cost' => '49.5500', 'GET /usage agrees with the headers')->json_is('/remaining/articles' => 98);
inject_commit(3);
$t->patch_ok("/api/v1/pipelines/$run2", auth($bob), json => { status => 'failed', error_message => 'x' });
error_is($t, 500, 'internal', undef, 'an end failing at COMMIT three times: 500');
$t->get_ok("/api/v1/pipelines/$run2", auth($bob))->status_is(200)->json_is('/status' => 'running', 'still running');
$t->get_ok('/api/v1/usage', auth($bob))->status_is(200)
  ->json_is('/remaining/cost' => '49.5500', 'nothing of it counted')->json_is('/articles_in_progress' => 1);
inject_commit(0);

# Without failures: one try.
inject(0, '40001');
$t->post_ok('/api/v1/articles', auth($alice), json => { title => 'plain' })->status_is(201);
is(tries(), 1, 'no failure: one try');

done_testing();
