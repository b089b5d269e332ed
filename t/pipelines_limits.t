#!/usr/bin/env perl
# The monthly limits on pipeline starts: concurrent starts never pass a
# limit, estimates are reserved, the real cost is recorded even past the
# limit, timed-out runs release their slot, per-user overrides and the
# configured defaults apply, and a 402 says exactly why.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use BP::Harness;
use BP::Fixtures qw(make_user auth race);
use BP::Util qw(error_is);

# Defaults of this stack: 5.0000 and 4 articles a month; runs time out
# after 30 minutes.
my $h = BP::Harness->new(workers => 8, env => {
    MAX_MONTHLY_COST_PER_USER       => '5.00',
    MAX_ARTICLES_PER_USER_PER_MONTH => 4,
    PIPELINE_TIMEOUT_MINUTES        => 30,
});
my $t = $h->t;

my $THIS_MONTH = q{date_trunc('month', now() AT TIME ZONE 'UTC')::date};

sub start {
    my ($u, $body) = @_;
    $t->post_ok('/api/v1/pipelines', auth($u), json => $body // {});
    return $t->tx->res->json // {};
}

sub finish {
    my ($u, $id, $body) = @_;
    $t->patch_ok("/api/v1/pipelines/$id", auth($u), json => $body);
    return $t->tx->res->json // {};
}

sub remaining {
    my $hd = $t->tx->res->headers;
    return join ' ', $hd->header('X-Usage-Remaining-Cost') // '-', $hd->header('X-Usage-Remaining-Articles') // '-';
}

# The 402 with exactly these details.
sub refused {
    my ($limit, $used, $max, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    error_is($t, 402, 'usage_limit_exceeded', undef, "$name: 402");
    is_deeply($t->tx->res->json->{error}{details}, { limit => $limit, used => $used, max => $max },
              "$name: details") or diag($t->tx->res->body);
}

sub set_usage {
    my ($u, $articles, $cost, $month) = @_;
    $month //= $THIS_MONTH;
    $h->psql(qq{INSERT INTO api_usage (user_id, month, articles_generated, total_cost) VALUES (\$1, $month, \$2, \$3)
                ON CONFLICT (user_id, month) DO UPDATE SET articles_generated = excluded.articles_generated,
                                                           total_cost = excluded.total_cost},
             $u->{id}, $articles, $cost);
}

sub usage {
    my ($u) = @_;
    $t->get_ok('/api/v1/usage', auth($u))->status_is(200);
    return $t->tx->res->json;
}

sub running { $h->psql(q{SELECT count(*) FROM pipelines WHERE user_id = $1 AND status = 'running'}, $_[0]{id}) }

# ---------------------------------------------------------------- the race

# Every insert of a run takes 30 ms more (a trigger made for this test):
# that widens the window between a start's check and its commit, so that
# a start that checked without holding the user's lock would overrun.
$h->psql(q{CREATE FUNCTION test_slow_insert() RETURNS trigger LANGUAGE plpgsql AS
           $$BEGIN PERFORM pg_sleep(0.03); RETURN NEW; END$$});
$h->psql(q{CREATE TRIGGER slow_insert BEFORE INSERT ON pipelines FOR EACH ROW EXECUTE FUNCTION test_slow_insert()});

# k free article slots, N concurrent starts: exactly k succeed.
for my $round (1 .. 3) {
    my $u = make_user($h, max_articles_per_month => 5);
    set_usage($u, 2, '0');              # 2 completed this month: 3 slots left
    my @r = race($h, 24, sub {
        my ($ua) = @_;
        return $ua->post($h->url('/api/v1/pipelines'), auth($u), json => {});
    });
    my @ok = grep { $_->{code} == 201 } @r;
    my @no = grep { $_->{code} == 402 } @r;
    is(scalar @ok, 3, "round $round: 24 concurrent starts with 3 article slots left: exactly 3 start")
        or diag(join "\n", map { "$_->{code} $_->{body}" } @r);
    is(scalar @no, 21, "round $round: the other 21 are 402");
    is(running($u), 3, "round $round: 3 runs in the database");
    is_deeply([ sort map { $_->{headers}{'x-usage-remaining-articles'} } @ok ], [ 0, 1, 2 ],
              "round $round: the starts saw 2, 1, 0 slots left after them");
    my %details = map { Mojo::JSON::encode_json($_->{json}{error}{details}) => 1 } @no;
    is_deeply([ keys %details ], [ '{"limit":"monthly_articles","max":5,"used":5}' ],
              "round $round: every refusal says monthly_articles, used 5, max 5");
}

# The same with money: 1.0000 left, estimates of 0.3000: three fit.
for my $round (1 .. 2) {
    my $u = make_user($h, max_monthly_cost => '1.0000', max_articles_per_month => 1000);
    my @r = race($h, 24, sub {
        my ($ua) = @_;
        return $ua->post($h->url('/api/v1/pipelines'), auth($u), json => { estimated_cost => '0.3' });
    });
    my @ok = grep { $_->{code} == 201 } @r;
    is(scalar @ok, 3, "cost round $round: 24 concurrent starts of 0.3 with 1.0000 left: exactly 3 start")
        or diag(join "\n", map { "$_->{code} $_->{body}" } @r);
    is(scalar(grep { $_->{code} == 402 && $_->{json}{error}{details}{limit} eq 'monthly_cost'
                     && $_->{json}{error}{details}{used} eq '0.9000' && $_->{json}{error}{details}{max} eq '1.0000' } @r),
       21, "cost round $round: 21 refusals with used 0.9000, max 1.0000");
    is_deeply([ sort map { $_->{headers}{'x-usage-remaining-cost'} } @ok ], [ '0.1000', '0.4000', '0.7000' ],
              "cost round $round: remaining 0.7000, 0.4000, 0.1000");
}

# Starts and ends of one user interleaved: the sum never passes the limit.
{
    my $u = make_user($h, max_articles_per_month => 6);
    my @first = map { start($u)->{id} } 1 .. 3;
    my @r = race($h, 20, sub {
        my ($ua, $i) = @_;
        return $ua->patch($h->url("/api/v1/pipelines/$first[$i]"), auth($u),
                          json => { status => 'completed', total_cost => '0.01' }) if $i < 3;
        return $ua->post($h->url('/api/v1/pipelines'), auth($u), json => {});
    });
    is(scalar(grep { $_->{code} == 200 } @r[0 .. 2]), 3, 'three ends during the race');
    is(scalar(grep { $_->{code} == 201 } @r[3 .. 19]), 3, 'with 6 slots, 3 completing and 3 running: 3 more start');
    is(running($u), 3, '3 running');
    is($h->psql("SELECT articles_generated FROM api_usage WHERE user_id = \$1 AND month = $THIS_MONTH", $u->{id}), 3,
       '3 completed');
}

$h->psql('DROP TRIGGER slow_insert ON pipelines');
$h->psql('DROP FUNCTION test_slow_insert()');

# ---------------------------------------------------------------- cost limit

# A run whose cost goes past the limit is recorded in full; the next start
# is refused with the exact numbers.
{
    my $u = make_user($h, max_monthly_cost => '1.0000');
    my $p = start($u, { estimated_cost => '0.5' });
    $t->status_is(201);
    is(remaining(), '0.5000 3', 'the estimate is reserved');
    finish($u, $p->{id}, { status => 'completed', total_cost => '1.5' });
    $t->status_is(200)->json_is('/total_cost' => '1.5000', 'the whole cost is recorded');
    is(remaining(), '0.0000 3', 'remaining cost never below 0');
    my $g = usage($u);
    is($g->{total_cost}, '1.5000', 'usage total_cost 1.5000');
    is($g->{remaining}{cost}, '0.0000', 'usage remaining 0.0000');
    start($u, {});
    refused('monthly_cost', '1.5000', '1.0000', 'past the limit, even with estimate 0');
    start($u, { estimated_cost => '0.0001' });
    refused('monthly_cost', '1.5000', '1.0000', 'past the limit');
}

# Reached exactly: an estimate that reaches the limit is allowed; then
# nothing more, not even an estimate of 0.
{
    my $u = make_user($h, max_monthly_cost => '1.0000');
    my $p = start($u, { estimated_cost => '1.0000' });
    $t->status_is(201, 'an estimate that reaches the limit exactly is allowed');
    is(remaining(), '0.0000 3', 'nothing left');
    start($u, {});
    refused('monthly_cost', '1.0000', '1.0000', 'the reservations reached the limit');
    finish($u, $p->{id}, { status => 'failed', error_message => 'x', total_cost => '0.4' });
    is(remaining(), '0.6000 4', 'the end releases the estimate, records 0.4000');
    start($u, { estimated_cost => '0.6001' });
    refused('monthly_cost', '0.4000', '1.0000', '0.4000 + 0.6001 would exceed 1.0000');
    start($u, { estimated_cost => '0.6' });
    $t->status_is(201, '0.4000 + 0.6000 reaches it: allowed');
    start($u, { estimated_cost => '0' });
    refused('monthly_cost', '1.0000', '1.0000', 'cost plus reservations at the limit');
}

# The cost already at the limit, from this month's usage alone.
{
    my $u = make_user($h, max_monthly_cost => '2.5000');
    set_usage($u, 0, '2.5000');
    start($u, {});
    refused('monthly_cost', '2.5000', '2.5000', 'this month at the limit, estimate 0');
    set_usage($u, 0, '2.4999');
    start($u, { estimated_cost => '0.0001' });
    $t->status_is(201, '2.4999 + 0.0001 reaches it');
    is(remaining(), '0.0000 3');
}

# Reservations: estimates of running runs count until they end.
{
    my $u = make_user($h, max_monthly_cost => '10');
    my $a = start($u, { estimated_cost => 4 });
    is(remaining(), '6.0000 3', 'one reservation');
    my $b = start($u, { estimated_cost => 4 });
    is(remaining(), '2.0000 2', 'two reservations');
    start($u, { estimated_cost => 3 });
    refused('monthly_cost', '8.0000', '10.0000', '8 reserved + 3 would exceed 10');
    my $g = usage($u);
    is_deeply([ @$g{qw(articles_in_progress total_cost)}, $g->{remaining}{cost} ], [ 2, '0.0000', '2.0000' ],
              'usage shows the runs in progress and what they hold');
    finish($u, $a->{id}, { status => 'completed', total_cost => 1 });
    is(remaining(), '5.0000 2', 'after the end: 10 - 1 - 4 = 5');
    start($u, { estimated_cost => 3 });
    $t->status_is(201, '1 + 4 + 3 = 8: fits');
    start($u, { estimated_cost => '2.0001' });
    refused('monthly_cost', '8.0000', '10.0000', '1 spent + 7 reserved + 2.0001');
    start($u, { estimated_cost => 2 });
    $t->status_is(201, 'exactly 10');
}

# Last month's cost does not count this month.
{
    my $u = make_user($h, max_monthly_cost => '1');
    set_usage($u, 99, '500', "($THIS_MONTH - interval '1 month')::date");
    start($u, { estimated_cost => 1 });
    $t->status_is(201, "last month's usage is last month's");
}

# ---------------------------------------------------------------- article limit

{
    my $u = make_user($h, max_articles_per_month => 3);
    my $a = start($u);
    my $b = start($u);
    finish($u, $a->{id}, { status => 'completed', total_cost => 0 });
    finish($u, $b->{id}, { status => 'failed', error_message => 'x' });
    is(remaining(), '5.0000 2', 'a failed run frees its slot; a completed one keeps it');
    start($u);
    start($u);
    $t->status_is(201);
    is(remaining(), '5.0000 0', 'one completed + two running = 3');
    start($u);
    refused('monthly_articles', 3, 3, 'completed + in progress reached the limit');
}

# ---------------------------------------------------------------- timeouts

# A run still running after PIPELINE_TIMEOUT_MINUTES (30 here) holds no slot.
{
    my $u = make_user($h, max_articles_per_month => 1, max_monthly_cost => '1');
    my $p = start($u, { estimated_cost => '0.8' });
    start($u);
    refused('monthly_articles', 1, 1, 'the running run holds the slot');
    $h->psql(q{UPDATE pipelines SET started_at = now() - interval '29 minutes' WHERE id = $1}, $p->{id});
    start($u);
    refused('monthly_articles', 1, 1, 'after 29 minutes it still does');
    is(usage($u)->{articles_in_progress}, 1, 'in progress: 1');
    $h->psql(q{UPDATE pipelines SET started_at = now() - interval '31 minutes' WHERE id = $1}, $p->{id});
    my $g = usage($u);
    is($g->{articles_in_progress}, 0, 'after 31 minutes it is no longer in progress');
    is($g->{remaining}{cost}, '1.0000', '... and its estimate is released');
    is($g->{remaining}{articles}, 1, '... and its slot');
    my $q = start($u, { estimated_cost => '1' });
    $t->status_is(201, 'so a new run starts, with the whole cost limit');
    # The timed-out run can still end, and its cost counts.
    finish($u, $p->{id}, { status => 'completed', total_cost => '0.25' });
    $t->status_is(200, 'a timed-out run can still end');
    is(remaining(), '0.0000 0', '0.25 spent + 1 reserved: nothing left; 1 completed + 1 running');
    is(usage($u)->{total_cost}, '0.2500', 'its cost is recorded');
}

# ---------------------------------------------------------------- defaults and overrides

{
    my $u = make_user($h);    # no overrides: 5.0000 and 4 from the environment
    my $g = usage($u);
    is_deeply($g->{limits}, { max_monthly_cost => '5.0000', max_articles_per_month => 4 },
              'the configured defaults, with 4 decimals');
    start($u) for 1 .. 4;
    is(remaining(), '5.0000 0');
    start($u);
    refused('monthly_articles', 4, 4, 'the default article limit');
    $h->psql('UPDATE users SET max_articles_per_month = 6 WHERE id = $1', $u->{id});
    start($u);
    $t->status_is(201, 'an override raises it');
    is(remaining(), '5.0000 1');
    $h->psql('UPDATE users SET max_articles_per_month = 0 WHERE id = $1', $u->{id});
    start($u);
    refused('monthly_articles', 5, 0, 'an override of 0');
    $h->psql('UPDATE users SET max_articles_per_month = NULL WHERE id = $1', $u->{id});
    start($u);
    refused('monthly_articles', 5, 4, 'NULL: back to the default');
    $h->psql('UPDATE users SET max_monthly_cost = 0 WHERE id = $1', $u->{id});
    start($u);
    refused('monthly_cost', '0.0000', '0.0000', 'with both limits reached the cost is named');
    $h->psql(q{UPDATE pipelines SET status = 'failed', completed_at = now() WHERE user_id = $1}, $u->{id});
    start($u);
    refused('monthly_cost', '0.0000', '0.0000', 'a cost limit of 0 refuses every run');
    $h->psql('UPDATE users SET max_monthly_cost = 12.5 WHERE id = $1', $u->{id});
    start($u, { estimated_cost => '12.5' });
    $t->status_is(201, 'a cost override');
    is(remaining(), '0.0000 3');
    is_deeply(usage($u)->{limits}, { max_monthly_cost => '12.5000', max_articles_per_month => 4 },
              'usage shows the override and the default');
}

# ---------------------------------------------------------------- the end's headers

# An end answers with what is left of the limits after it, computed in the
# end's own statement: each time exactly these numbers, and what GET
# /api/v1/usage says right after.
sub end_left {
    my ($u, $id, $body, $want, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    finish($u, $id, $body);
    $t->status_is(200, "$name: 200");
    my $got = remaining();
    is($got, $want, "$name: X-Usage-Remaining-* $want");
    my $g = usage($u);
    is($got, "$g->{remaining}{cost} $g->{remaining}{articles}", "$name: GET /api/v1/usage agrees");
}

# The defaults of this stack (5.0000, 4 articles).
{
    my $u = make_user($h);
    my $a = start($u, { estimated_cost => '1.2' });
    my $b = start($u, { estimated_cost => '0.7' });
    is(remaining(), '3.1000 2', 'defaults: two runs reserve 1.9000');
    end_left($u, $a->{id}, { status => 'completed', total_cost => '0.3' }, '4.0000 2',
             'defaults: completed for 0.3 of 1.2 estimated, another still running (5 - 0.3 - 0.7)');
    end_left($u, $b->{id}, { status => 'failed', error_message => 'x', total_cost => '0.05' }, '4.6500 3',
             'defaults: failed, no article counted (5 - 0.35)');
    my $c = start($u, { estimated_cost => '2' });
    my $d = start($u, { estimated_cost => '0.5' });
    $h->psql(q{UPDATE pipelines SET started_at = now() - interval '31 minutes' WHERE id = $1}, $c->{id});
    end_left($u, $c->{id}, { status => 'completed', total_cost => '0.15' }, '4.0000 1',
             'defaults: a timed-out run ends: it held nothing to release (5 - 0.5 - 0.5)');
    $h->psql(q{UPDATE pipelines SET started_at = now() - interval '29 minutes' WHERE id = $1}, $d->{id});
    end_left($u, $d->{id}, { status => 'completed', total_cost => '0.5' }, '4.0000 1',
             'defaults: a run 29 minutes old still held its estimate and its slot (5 - 1, 4 - 3)');
}

# Per-user limits (3.0000, 10 articles).
{
    my $u = make_user($h, max_monthly_cost => '3', max_articles_per_month => 10);
    my $a = start($u, { estimated_cost => '1' });
    my $b = start($u, { estimated_cost => '0.5' });
    end_left($u, $a->{id}, { status => 'completed', total_cost => '1.25' }, '1.2500 8',
             'override: completed for 1.25 of 1 estimated, another still running (3 - 1.25 - 0.5)');
    end_left($u, $b->{id}, { status => 'failed', error_message => 'x' }, '1.7500 9',
             'override: failed without a cost');
    my $c = start($u, { estimated_cost => '1' });
    my $d = start($u, { estimated_cost => '0.25' });
    my $e = start($u, { estimated_cost => '0.25' });
    $h->psql(q{UPDATE pipelines SET started_at = now() - interval '2 hours' WHERE id = $1}, $c->{id});
    end_left($u, $c->{id}, { status => 'failed', error_message => 'x', total_cost => '0.5' }, '0.7500 7',
             'override: a timed-out run fails, two still running (3 - 1.75 - 0.5)');
    end_left($u, $d->{id}, { status => 'completed', total_cost => '1.6' }, '0.0000 7',
             'override: past the limit, the remaining cost stays at 0');
    $h->psql('UPDATE users SET max_monthly_cost = NULL, max_articles_per_month = NULL WHERE id = $1', $u->{id});
    end_left($u, $e->{id}, { status => 'completed', total_cost => '0' }, '1.6500 1',
             'override removed: the defaults (5 - 3.35, 4 - 3)');
}

done_testing;
