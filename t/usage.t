#!/usr/bin/env perl
# GET /api/v1/usage and /api/v1/usage/history: this month's numbers and
# what is left, months in UTC, history newest first without empty months,
# and money exact: a thousand runs of 0.0001 make exactly 0.1000.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time);
use BP::Harness;
use BP::Fixtures qw(make_user auth);
use BP::Util qw(error_is);

my $h = BP::Harness->new(workers => 4);
my $t = $h->t;

my $THIS = q{date_trunc('month', now() AT TIME ZONE 'UTC')};
my $this_month = $h->psql("SELECT to_char($THIS, 'YYYY-MM')");
sub month_ago { scalar $h->psql("SELECT to_char($THIS - make_interval(months => \$1::int), 'YYYY-MM')", $_[0]) }

sub usage {
    my ($u) = @_;
    $t->get_ok('/api/v1/usage', auth($u))->status_is(200);
    return $t->tx->res->json;
}

sub history {
    my ($u, $q) = @_;
    $t->get_ok('/api/v1/usage/history' . ($q // ''), auth($u))->status_is(200);
    return $t->tx->res->json->{items};
}

# ---------------------------------------------------------------- GET /usage

my $u = make_user($h);
is_deeply(usage($u), {
    month                => $this_month,
    articles_generated   => 0,
    articles_in_progress => 0,
    total_cost           => '0.0000',
    limits               => { max_monthly_cost => '50.0000', max_articles_per_month => 100 },
    remaining            => { cost => '50.0000', articles => 100 },
}, 'a new user: nothing used, the default limits, all of it left');
like($t->tx->res->body, qr/"total_cost":"0\.0000"/, 'money is a JSON string');
like($t->tx->res->body, qr/"articles_generated":0[,}]/, 'counts are JSON integers');

$t->post_ok('/api/v1/pipelines', auth($u), json => { estimated_cost => '1.2345' })->status_is(201);
my $p1 = $t->tx->res->json->{id};
$t->post_ok('/api/v1/pipelines', auth($u), json => { estimated_cost => '0.5' })->status_is(201);
my $p2 = $t->tx->res->json->{id};
$t->post_ok('/api/v1/pipelines', auth($u), json => {})->status_is(201);
my $p3 = $t->tx->res->json->{id};
$t->patch_ok("/api/v1/pipelines/$p1", auth($u), json => { status => 'completed', total_cost => '1.2345' })->status_is(200);
$t->patch_ok("/api/v1/pipelines/$p2", auth($u), json => { status => 'failed', error_message => 'x', total_cost => '0.1' })
  ->status_is(200);
is_deeply(usage($u), {
    month                => $this_month,
    articles_generated   => 1,
    articles_in_progress => 1,
    total_cost           => '1.3345',
    limits               => { max_monthly_cost => '50.0000', max_articles_per_month => 100 },
    remaining            => { cost => '48.6655', articles => 98 },
}, 'after runs: completed, failed (cost only) and one in progress');
is($t->tx->res->headers->cache_control, 'no-store', 'Cache-Control: no-store');

# Overrides show as the limits.
$h->psql(q{UPDATE users SET max_monthly_cost = 2, max_articles_per_month = 1 WHERE id = $1}, $u->{id});
my $g = usage($u);
is_deeply([ $g->{limits}, $g->{remaining} ],
          [ { max_monthly_cost => '2.0000', max_articles_per_month => 1 }, { cost => '0.6655', articles => 0 } ],
          'per-user overrides; remaining articles never below 0');
$h->psql(q{UPDATE users SET max_monthly_cost = 1 WHERE id = $1}, $u->{id});
is(usage($u)->{remaining}{cost}, '0.0000', 'remaining cost never below 0');
$h->psql(q{UPDATE users SET max_monthly_cost = NULL, max_articles_per_month = NULL WHERE id = $1}, $u->{id});

# Another user's usage is theirs.
my $v = make_user($h);
is(usage($v)->{total_cost}, '0.0000', "another user's usage is separate");
$t->get_ok('/api/v1/usage');
error_is($t, 401, 'unauthorized');

# ---------------------------------------------------------------- the month of the end

# A run that started last month and ends now counts in this month.
{
    my $w = make_user($h);
    $t->post_ok('/api/v1/pipelines', auth($w), json => {})->status_is(201);
    my $p = $t->tx->res->json->{id};
    $h->psql("UPDATE pipelines SET started_at = $THIS - interval '1 day' WHERE id = \$1", $p);
    $t->patch_ok("/api/v1/pipelines/$p", auth($w), json => { status => 'completed', total_cost => '0.75' })->status_is(200);
    is_deeply(history($w), [ { month => $this_month, articles_generated => 1, total_cost => '0.7500' } ],
              'a run counts in the month it ends, not the one it started');
}

# ---------------------------------------------------------------- history

{
    my $w = make_user($h);
    # Usage rows as earlier months left them (the history is the usage of
    # each month as runs ended in it).
    my %rows = (0 => [ 2, '1.5000' ], 1 => [ 0, '0.0300' ], 2 => [ 0, '0' ], 3 => [ 4, '2.0000' ],
                11 => [ 1, '0.0001' ], 12 => [ 7, '7.0000' ], 40 => [ 1, '1' ]);
    for my $ago (keys %rows) {
        $h->psql("INSERT INTO api_usage (user_id, month, articles_generated, total_cost)
                  VALUES (\$1, ($THIS - make_interval(months => \$2::int))::date, \$3, \$4)",
                 $w->{id}, $ago, @{ $rows{$ago} });
    }
    # and a month in the future, which is not history
    $h->psql("INSERT INTO api_usage (user_id, month, articles_generated, total_cost)
              VALUES (\$1, ($THIS + interval '1 month')::date, 9, 9)", $w->{id});
    my $item = sub { my $ago = shift; { month => month_ago($ago), articles_generated => $rows{$ago}[0],
                                        total_cost => sprintf('%.4f', $rows{$ago}[1]) } };
    is_deeply(history($w), [ map { $item->($_) } 0, 1, 3, 11 ],
              'default 12 months: newest first, this month included, months without use left out');
    is_deeply(history($w, '?months=12'), [ map { $item->($_) } 0, 1, 3, 11 ], 'months=12');
    is_deeply(history($w, '?months=1'), [ $item->(0) ], 'months=1: this month');
    is_deeply(history($w, '?months=2'), [ map { $item->($_) } 0, 1 ], 'months=2');
    is_deeply(history($w, '?months=13'), [ map { $item->($_) } 0, 1, 3, 11, 12 ], 'months=13');
    is_deeply(history($w, '?months=120'), [ map { $item->($_) } 0, 1, 3, 11, 12, 40 ], 'months=120');
    like($t->tx->res->body, qr/"total_cost":"1\.0000"/, 'money with 4 decimals');
    for my $bad (qw(0 121 -1 abc 1.5), '') {
        $t->get_ok("/api/v1/usage/history?months=$bad", auth($w));
        error_is($t, 400, 'validation_failed', 'months', "months=$bad");
    }
    is_deeply(history($v), [], 'a user without use: no items');
    my $first = history($u)->[0];
    is_deeply($first, { month => $this_month, articles_generated => 1, total_cost => '1.3345' },
              'history of this month matches GET /usage');
}

# ---------------------------------------------------------------- exact money

# A thousand runs of 0.0001 each, through the API: exactly 0.1000.
{
    my $w = make_user($h, max_articles_per_month => 2000);
    my $ua = $h->new_ua;
    my $t0 = time;
    my @ids;
    for my $i (1 .. 1000) {
        my $tx = $ua->post($h->url('/api/v1/pipelines'), auth($w), json => { estimated_cost => '0.0001' });
        push @ids, $tx->res->json->{id} if ($tx->res->code // 0) == 201;
    }
    is(scalar @ids, 1000, '1000 runs started');
    my $ok = 0;
    for my $id (@ids) {
        my $tx = $ua->patch($h->url("/api/v1/pipelines/$id"), auth($w),
                            json => { status => 'completed', total_cost => 0.0001 });
        $ok++ if ($tx->res->code // 0) == 200;
    }
    is($ok, 1000, '1000 runs completed, each costing 0.0001');
    note(sprintf '2000 requests in %.1f s', time - $t0);
    my $g = usage($w);
    is($g->{total_cost}, '0.1000', 'they cost exactly 0.1000');
    is($g->{remaining}{cost}, '49.9000', 'and leave exactly 49.9000');
    is($g->{articles_generated}, 1000, '1000 articles');
    is_deeply(history($w), [ { month => $this_month, articles_generated => 1000, total_cost => '0.1000' } ],
              'the history says the same');
    $t->get_ok('/api/v1/pipelines?limit=1', auth($w))->json_is('/items/0/total_cost' => '0.0001');
}

# Large sums stay exact too: usage holds more than one run can cost.
{
    my $w = make_user($h, max_monthly_cost => '99999999.9999');
    for (1 .. 3) {
        $t->post_ok('/api/v1/pipelines', auth($w), json => { estimated_cost => '999999.9999' })->status_is(201);
        my $p = $t->tx->res->json->{id};
        $t->patch_ok("/api/v1/pipelines/$p", auth($w), json => { status => 'completed', total_cost => '999999.9999' })
          ->status_is(200);
    }
    is(usage($w)->{total_cost}, '2999999.9997', 'three of the largest costs: 2999999.9997');
    is($t->tx->res->json->{remaining}{cost}, '97000000.0002', 'remaining 97000000.0002');
}

done_testing;
