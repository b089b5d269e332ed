#!/usr/bin/env perl
# nginx/openapi.yaml describes exactly the routes of the route table: every
# route (from `blogposter routes`) has its path and method there, and there
# is no path or method that is not a route. Also: it is OpenAPI 3.1, its
# internal $refs resolve, operationIds are unique, every {id} is declared,
# and nginx serves the file at /api/v1/openapi.yaml.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Cwd qw(abs_path);
use File::Spec;
use Test::More;

my $repo = abs_path("$FindBin::Bin/..");
my $file = "$repo/nginx/openapi.yaml";
my $bin  = $ENV{BLOGPOSTER_BIN} // "$repo/src/blogposter";

my $load = eval { require YAML::XS; \&YAML::XS::LoadFile }
        // eval { require YAML::PP; sub { YAML::PP->new(boolean => 'JSON::PP')->load_file(@_) } };
# Not a skip: without a YAML parser the check would pass silently.
ok($load, 'a YAML parser (YAML::XS: apt-get install libyaml-libyaml-perl, or YAML::PP)') or do {
    done_testing;
    exit 1;
};
ok(-x $bin, "the binary $bin") or do { done_testing; exit 1 };

# ---------------------------------------------------------------- the route table

my @routes = do {
    # a clean environment and a directory without .env: only the table
    local %ENV = (PATH => $ENV{PATH} // '/usr/bin:/bin', TZ => 'UTC',
                  map { $_ => $ENV{$_} } grep { /^(ASAN|UBSAN|LSAN)_OPTIONS$/ && defined $ENV{$_} } keys %ENV);
    my $dir = File::Spec->tmpdir;
    open(my $fh, '-|', 'sh', '-c', 'cd "$1" && exec "$2" routes', 'sh', $dir, $bin) or die "run $bin: $!";
    my @l = <$fh>;
    close $fh;
    is($?, 0, '`blogposter routes` exits 0');
    chomp @l;
    @l;
};
cmp_ok(scalar @routes, '>=', 13, 'the route table has routes') or diag(join "\n", @routes);
my %route;
for my $line (@routes) {
    my ($m, $p) = $line =~ m{^([A-Z]+) (/\S*)$} or do { fail("route line '$line'"); next };
    ok(!$route{"$m $p"}++, "route $m $p listed once");
}
ok($route{'GET /api/v1/health'}, 'the health route is there (sanity)');

# `routes` is hidden: not in --help.
{
    my $help = `"$bin" --help 2>&1`;
    unlike($help, qr/^\s*routes\b/m, '`routes` is not in the usage text');
}

# ---------------------------------------------------------------- the description

my $doc = eval { $load->($file) };
ok($doc, "$file parses") or diag($@);
$doc //= {};
like($doc->{openapi} // '', qr/^3\.1\.\d+$/, 'OpenAPI 3.1');
ok($doc->{info}{title} && defined $doc->{info}{version}, 'info has a title and a version');

my %METHOD = map { $_ => 1 } qw(get put post delete options head patch trace);
my %described;
my %opid;
for my $path (sort keys %{ $doc->{paths} // {} }) {
    my $item = $doc->{paths}{$path};
    for my $m (sort grep { $METHOD{$_} } keys %$item) {
        my $op = $item->{$m};
        $described{ uc($m) . " $path" }++;
        ok(ref $op->{responses} eq 'HASH' && %{ $op->{responses} }, uc($m) . " $path has responses");
        if (defined $op->{operationId}) {
            ok(!$opid{ $op->{operationId} }++, "operationId $op->{operationId} is unique");
        } else {
            fail(uc($m) . " $path has an operationId");
        }
        # every {name} in the path is a declared path parameter
        my @declared = map { $_->{name} } grep { ($_->{in} // '') eq 'path' }
                       map { resolve($_) } @{ $item->{parameters} // [] }, @{ $op->{parameters} // [] };
        for my $name ($path =~ /\{(\w+)\}/g) {
            ok((grep { $_ eq $name } @declared), uc($m) . " $path declares the path parameter {$name}");
        }
        # errors are documented with the error body
        my @codes = keys %{ $op->{responses} // {} };
        if (!($op->{security} && !@{ $op->{security} })) {
            ok((grep { $_ eq '401' } @codes), uc($m) . " $path documents 401");
        }
    }
}

my @missing = grep { !$described{$_} } sort keys %route;
my @extra   = grep { !$route{$_} } sort keys %described;
is_deeply(\@missing, [], 'every route of the route table is in openapi.yaml')
    or diag("missing from openapi.yaml:\n" . join "\n", map { "  $_" } @missing);
is_deeply(\@extra, [], 'openapi.yaml lists no path and method that is not a route')
    or diag("in openapi.yaml but not a route:\n" . join "\n", map { "  $_" } @extra);

# Every internal $ref points at something.
my @refs;
sub walk {
    my ($v) = @_;
    if (ref $v eq 'HASH') {
        push @refs, $v->{'$ref'} if defined $v->{'$ref'} && !ref $v->{'$ref'};
        walk($_) for values %$v;
    } elsif (ref $v eq 'ARRAY') {
        walk($_) for @$v;
    }
}
walk($doc);
cmp_ok(scalar @refs, '>', 20, 'there are $refs to check');
my %bad;
for my $ref (@refs) {
    $bad{$ref}++ unless defined pointer($ref);
}
is_deeply([ sort keys %bad ], [], 'every $ref resolves');

sub pointer {
    my ($ref) = @_;
    return undef unless $ref =~ m{^#/(.*)$};
    my $node = $doc;
    for my $part (split m{/}, $1) {
        $part =~ s/~1/\//g;
        $part =~ s/~0/~/g;
        return undef unless ref $node eq 'HASH' && exists $node->{$part};
        $node = $node->{$part};
    }
    return $node;
}

sub resolve {
    my ($v) = @_;
    return ref $v eq 'HASH' && $v->{'$ref'} ? (pointer($v->{'$ref'}) // {}) : $v;
}

# ---------------------------------------------------------------- served by nginx

SKIP: {
    skip 'BP_OPENAPI_NO_STACK set', 3 if $ENV{BP_OPENAPI_NO_STACK};
    require BP::Harness;
    my $h = BP::Harness->new(workers => 1);
    my $t = $h->t;
    open my $fh, '<:raw', $file or die "$file: $!";
    my $text = do { local $/; <$fh> };
    $t->get_ok('/api/v1/openapi.yaml')->status_is(200);
    is($t->tx->res->body, $text, 'nginx serves nginx/openapi.yaml at /api/v1/openapi.yaml');
}

done_testing;
