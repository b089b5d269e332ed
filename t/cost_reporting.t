#!/usr/bin/env perl
# COST_REPORTING=admin: the operator's pipeline, with an admin's
# credential, is the only one that ends runs and reports their cost. The
# owner still starts runs and reads everything; the end counts in the
# usage of the run's owner, not the admin's.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use BP::Harness;
use BP::Fixtures qw(make_user auth random_uuid);
use BP::Util qw(error_is);

my $h = BP::Harness->new(env => {
    COST_REPORTING            => 'admin',
    MAX_MONTHLY_COST_PER_USER => '5.00',
});
my $t = $h->t;

my $owner = make_user($h);
my $other = make_user($h);
my $admin = make_user($h, role => 'admin');

sub usage_of {
    my ($u) = @_;
    $t->get_ok('/api/v1/usage', auth($u))->status_is(200);
    return $t->tx->res->json;
}

# The owner starts a run and may read it.
$t->post_ok('/api/v1/pipelines', auth($owner), json => { estimated_cost => '1.00' })->status_is(201);
my $run = $t->tx->res->json->{id};
$t->get_ok("/api/v1/pipelines/$run", auth($owner))->status_is(200)->json_is('/status', 'running');

# The owner cannot end it, neither completed at no cost nor failed.
$t->patch_ok("/api/v1/pipelines/$run", auth($owner), json => { status => 'completed', total_cost => '0' });
error_is($t, 403, 'forbidden', undef, 'owner completing: 403');
like($t->tx->res->json->{error}{message}, qr/administrator/, 'the message says who may');
$t->patch_ok("/api/v1/pipelines/$run", auth($owner), json => { status => 'failed', error_message => 'x' });
error_is($t, 403, 'forbidden', undef, 'owner failing: 403');
$t->get_ok("/api/v1/pipelines/$run", auth($owner))->status_is(200)->json_is('/status', 'running', 'still running');

# Another user cannot either.
$t->patch_ok("/api/v1/pipelines/$run", auth($other), json => { status => 'failed', error_message => 'x' });
error_is($t, 403, 'forbidden', undef, 'other user: 403');

# The admin ends it: the owner's usage gets the cost and the article.
$t->patch_ok("/api/v1/pipelines/$run", auth($admin), json => { status => 'completed', total_cost => '1.2500' })
  ->status_is(200)->json_is('/status', 'completed')->json_is('/total_cost', '1.2500')
  ->header_is('X-Usage-Remaining-Cost', '3.7500', "remaining headers are the owner's")
  ->header_is('X-Usage-Remaining-Articles', '99');
my $u = usage_of($owner);
is($u->{total_cost}, '1.2500', "owner's cost recorded");
is($u->{articles_generated}, 1, "owner's article counted");
my $a = usage_of($admin);
is($a->{total_cost}, '0.0000', "the admin's own usage is untouched");
is($a->{articles_generated}, 0, "no article counted for the admin");

# Ending twice is still a 409; an unknown run a 404.
$t->patch_ok("/api/v1/pipelines/$run", auth($admin), json => { status => 'failed', error_message => 'x' });
error_is($t, 409, 'invalid_transition', undef, 'second end: 409');
$t->patch_ok('/api/v1/pipelines/' . random_uuid(), auth($admin), json => { status => 'failed', error_message => 'x' });
error_is($t, 404, 'not_found', undef, 'unknown run: 404');

# The admin's failed end of another run records its cost for the owner too.
$t->post_ok('/api/v1/pipelines', auth($owner), json => {})->status_is(201);
my $run2 = $t->tx->res->json->{id};
$t->patch_ok("/api/v1/pipelines/$run2", auth($admin), json => { status => 'failed', error_message => 'boom', total_cost => '0.5' })
  ->status_is(200)->json_is('/status', 'failed');
$u = usage_of($owner);
is($u->{total_cost}, '1.7500', 'failed run cost recorded for the owner');
is($u->{articles_generated}, 1, 'a failed run counts no article');

# An article of the owner may be linked by the admin's end; one of
# another user may not.
$t->post_ok('/api/v1/articles', auth($owner), json => { title => 'Mine' })->status_is(201);
my $art = $t->tx->res->json->{id};
$t->post_ok('/api/v1/articles', auth($other), json => { title => 'Theirs' })->status_is(201);
my $theirs = $t->tx->res->json->{id};
$t->post_ok('/api/v1/pipelines', auth($owner), json => {})->status_is(201);
my $run3 = $t->tx->res->json->{id};
$t->patch_ok("/api/v1/pipelines/$run3", auth($admin), json => { status => 'completed', total_cost => '0', article_id => $theirs });
error_is($t, 400, 'validation_failed', 'article_id', "another user's article: 400");
$t->patch_ok("/api/v1/pipelines/$run3", auth($admin), json => { status => 'completed', total_cost => '0', article_id => $art })
  ->status_is(200)->json_is('/article_id', $art);

# The owner reads the ended runs.
$t->get_ok('/api/v1/pipelines', auth($owner))->status_is(200);
is(scalar @{ $t->tx->res->json->{items} }, 3, 'owner lists the three runs');

# The admin's end answers with the owner's numbers: the owner's limits, a
# run of the owner still in progress, never the admin's own runs. Exactly
# what the owner's GET /api/v1/usage says right after.
{
    my $o = make_user($h, max_monthly_cost => '2', max_articles_per_month => 5);
    $t->post_ok('/api/v1/pipelines', auth($admin), json => { estimated_cost => '0.4' })->status_is(201);
    $t->post_ok('/api/v1/pipelines', auth($o), json => { estimated_cost => '0.6' })->status_is(201);
    my $r1 = $t->tx->res->json->{id};
    $t->post_ok('/api/v1/pipelines', auth($o), json => { estimated_cost => '0.3' })->status_is(201);
    my $r2 = $t->tx->res->json->{id};
    for my $c ([ $r1, { status => 'completed', total_cost => '0.9' }, '0.8000', 3,
                 'completed, another run of the owner in progress (2 - 0.9 - 0.3, 5 - 1 - 1)' ],
               [ $r2, { status => 'failed', error_message => 'x', total_cost => '0.1' }, '1.0000', 4,
                 'failed (2 - 1.0, 5 - 1)' ]) {
        my ($id, $body, $cost, $arts, $name) = @$c;
        $t->patch_ok("/api/v1/pipelines/$id", auth($admin), json => $body)->status_is(200)
          ->header_is('X-Usage-Remaining-Cost', $cost, "admin's end, $name: cost")
          ->header_is('X-Usage-Remaining-Articles', $arts, "admin's end, $name: articles");
        my $hd = $t->tx->res->headers;
        my $got = join ' ', $hd->header('X-Usage-Remaining-Cost') // '-', $hd->header('X-Usage-Remaining-Articles') // '-';
        my $g = usage_of($o);
        is($got, "$g->{remaining}{cost} $g->{remaining}{articles}", "admin's end, $name: the owner's GET /usage agrees");
    }
    my $g = usage_of($admin);
    is_deeply([ $g->{remaining}{cost}, $g->{articles_in_progress} ], [ '4.6000', 1 ], "the admin's own run still reserved");
}

# check-config shows the mode; another value is refused by name.
my ($st, $out) = $h->run_bp('check-config');
like($out, qr/^COST_REPORTING=admin$/m, 'check-config prints COST_REPORTING');
my ($bst, undef, $berr) = $h->run_bp({ COST_REPORTING => 'user' }, 'check-config');
isnt($bst, 0, 'COST_REPORTING=user is refused');
like($berr, qr/COST_REPORTING/, 'the error names the variable');

done_testing;
