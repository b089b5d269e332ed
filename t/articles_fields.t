#!/usr/bin/env perl
# Articles: every field's bounds and types, on create and on PATCH, and the
# refusal of unknown and read-only fields. A refused request changes nothing.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use BP::Harness;
use BP::Fixtures qw(make_user auth);
use BP::Util qw(error_is);

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

my $DIM = 4;
my $h = BP::Harness->new(env => { EMBEDDING_DIM => $DIM });
my $t = $h->t;
my $u = make_user($h);

$t->post_ok('/api/v1/articles', auth($u), json => { title => 'Target', slug => 'target' })->status_is(201);
my $target = $t->tx->res->json;

sub count { $h->psql('SELECT count(*) FROM articles WHERE user_id = $1', $u->{id}) }

# A raw JSON body, so that numbers are sent exactly as written here.
sub post_raw {
    my ($json) = @_;
    $t->post_ok('/api/v1/articles', { %{ auth($u) }, 'Content-Type' => 'application/json' }, $json);
}

sub patch_raw {
    my ($json) = @_;
    $t->patch_ok("/api/v1/articles/$target->{id}", { %{ auth($u) }, 'Content-Type' => 'application/json' }, $json);
}

# accept($field, $json_value, $expect): create with it (201, echo), then
# PATCH the target with it (200, echo). $expect is what the answer holds
# (default: the value decoded), or a code ref that checks the answer.
sub accepts {
    my ($field, $json, $expect, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    $name //= "$field = $json";
    my $extra = $field eq 'title' ? '' : '"title":"t",';
    my $want  = @_ > 2 ? $expect : Mojo::JSON::decode_json("[$json]")->[0];
    post_raw(qq({$extra"$field":$json}));
    my $ok = is($t->tx->res->code, 201, "create accepts $name") or diag($t->tx->res->body);
    check_echo($field, $want, "create echoes $name") if $ok && $field ne 'embedding';
    # (gone again, so that the PATCH of a slug does not meet it)
    $t->delete_ok("/api/v1/articles/" . $t->tx->res->json->{id}, auth($u)) if $ok;
    patch_raw(qq({"$field":$json}));
    is($t->tx->res->code, 200, "PATCH accepts $name") or diag($t->tx->res->body);
    check_echo($field, $want, "PATCH echoes $name") if $field ne 'embedding';
}

sub check_echo {
    my ($field, $want, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $got = $t->tx->res->json->{$field};
    if (ref $want eq 'CODE') { ok($want->($got, $t->tx->res->json), $name) }
    else                      { is_deeply($got, $want, $name) }
}

# refuses($field, $json_value): 400 validation_failed naming the field, on
# create and on PATCH, and nothing changed.
sub refuses {
    my ($field, $json, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    $name //= "$field = $json";
    my $extra = $field eq 'title' ? '' : '"title":"t",';
    my $n = count();
    post_raw(qq({$extra"$field":$json}));
    error_is($t, 400, 'validation_failed', $field, "create refuses $name");
    is(count(), $n, "... and creates nothing ($name)");
    $t->get_ok("/api/v1/articles/$target->{id}", auth($u));
    my $before = $t->tx->res->json;
    patch_raw(qq({"$field":$json}));
    error_is($t, 400, 'validation_failed', $field, "PATCH refuses $name");
    $t->get_ok("/api/v1/articles/$target->{id}", auth($u));
    is_deeply($t->tx->res->json, $before, "... and changes nothing ($name)");
}

sub js { Mojo::JSON::encode_json($_[0]) }

# ---------------------------------------------------------------- title

post_raw('{}');
error_is($t, 400, 'validation_failed', 'title', 'title is required on create');
post_raw('{"slug":"no-title"}');
error_is($t, 400, 'validation_failed', 'title', 'title is required with other fields');
refuses(title => '""', 'an empty title');
accepts(title => '"x"');
accepts(title => js('a' x 500), 'a' x 500, '500 ASCII characters');
refuses(title => js('a' x 501), '501 ASCII characters');
accepts(title => js('é' x 500), 'é' x 500, '500 two-byte characters');
refuses(title => js('é' x 501), '501 two-byte characters');
accepts(title => js('€' x 500), '€' x 500, '500 three-byte characters');
refuses(title => js('€' x 501), '501 three-byte characters');
accepts(title => js("\x{1F600}" x 500), "\x{1F600}" x 500, '500 four-byte characters');
refuses(title => js("\x{1F600}" x 501), '501 four-byte characters');
refuses(title => $_) for qw(null 1 true [] {});
refuses(title => '["a"]');

# ---------------------------------------------------------------- slug

accepts(slug => '"a"');
accepts(slug => '"abc-123-x"');
accepts(slug => '"-"', '-', 'a lone dash (the charset allows it)');
accepts(slug => js('s' x 500), 's' x 500, '500 characters');
refuses(slug => js('s' x 501), '501 characters');
refuses(slug => '""', 'an empty slug');
refuses(slug => js($_), "slug '$_'") for ('Abc', 'a b', 'a_b', 'a.b', 'a/b', 'é', "a\tb", 'ab ', '%41');
refuses(slug => $_) for qw(null 1 true []);

# ---------------------------------------------------------------- texts

for my $f (qw(content_markdown content_html)) {
    accepts($f => '""', '', 'empty');
    accepts($f => js("line\nline2 \"q\" \\ <b>é</b> \x{1F600}"), "line\nline2 \"q\" \\ <b>é</b> \x{1F600}", 'any text');
    accepts($f => js('x' x 200_000), 'x' x 200_000, '200000 characters');
    accepts($f => 'null', undef);
    refuses($f => $_) for qw(1 true [] {});
}
accepts(meta_description => js('m' x 320), 'm' x 320, '320 characters');
refuses(meta_description => js('m' x 321), '321 characters');
accepts(meta_description => js('ü' x 320), 'ü' x 320, '320 two-byte characters');
refuses(meta_description => js('ü' x 321), '321 two-byte characters');
accepts(meta_description => 'null', undef);
accepts(meta_description => '""', '');
refuses(meta_description => $_) for qw(1 true []);
accepts(primary_keyword => js('k' x 100), 'k' x 100, '100 characters');
refuses(primary_keyword => js('k' x 101), '101 characters');
accepts(primary_keyword => js('ß' x 100), 'ß' x 100, '100 two-byte characters');
refuses(primary_keyword => js('ß' x 101), '101 two-byte characters');
accepts(primary_keyword => 'null', undef);
refuses(primary_keyword => $_) for qw(1 false {});

# ---------------------------------------------------------------- seo_score

accepts(seo_score => '0', 0);
accepts(seo_score => '100', 100);
accepts(seo_score => '50', 50);
accepts(seo_score => '99.99', 99.99);
accepts(seo_score => '0.001', 0.001);
accepts(seo_score => '1e1', 10, 'seo_score = 1e1 (a JSON number)');
accepts(seo_score => '100.0', 100);
accepts(seo_score => 'null', undef);
refuses(seo_score => $_) for ('-0.1', '100.1', '101', '-1', '1e3', '"50"', '"abc"', 'true', '[]', '{}', '100.0000001');
post_raw('{"title":"t","seo_score":42.5}');
like($t->tx->res->body, qr/"seo_score":42\.5[,}]/, 'seo_score is a JSON number on output');

# ---------------------------------------------------------------- status

accepts(status => qq("$_")) for qw(draft scheduled published archived);
refuses(status => $_) for ('"deleted"', '"Draft"', '"DRAFT"', '""', 'null', '1', '" draft"');

# ---------------------------------------------------------------- wp_post_id

accepts(wp_post_id => '123', 123);
accepts(wp_post_id => '0', 0);
accepts(wp_post_id => '-5', -5, 'a negative integer (API.md: any integer)');
accepts(wp_post_id => '9223372036854775807', '9223372036854775807', 'the largest bigint');
accepts(wp_post_id => 'null', undef);
refuses(wp_post_id => $_) for ('"123"', '1.5', '12.0', 'true', '[]', '{}', '1e3', '9223372036854775808',
                               '99999999999999999999');
post_raw('{"title":"t","wp_post_id":9223372036854775807}');
like($t->tx->res->body, qr/"wp_post_id":9223372036854775807[,}]/, 'wp_post_id is written exactly, as a JSON integer');

# ---------------------------------------------------------------- wp_url

accepts(wp_url => '"http://example.com"');
accepts(wp_url => '"https://blog.example.com/2026/11/a-post/?p=1#x"');
accepts(wp_url => js('https://e.com/' . ('p' x 2034)), 'https://e.com/' . ('p' x 2034), '2048 characters');
refuses(wp_url => js('https://e.com/' . ('p' x 2035)), '2049 characters');
accepts(wp_url => 'null', undef);
refuses(wp_url => js($_), "wp_url '$_'")
    for ('ftp://example.com/x', 'javascript:alert(1)', 'example.com', '//example.com', 'http://', 'https://',
         'http:///path', 'mailto:a@b.c', 'file:///etc/passwd', 'http://exa mple.com', "http://e.com/\x{7f}",
         ' http://example.com', '');
refuses(wp_url => $_) for qw(1 true []);

# ---------------------------------------------------------------- embedding

my $has = sub { my ($got, $all) = @_; !defined $got && $all->{has_embedding} };
accepts(embedding => '[0.1,0.2,0.3,0.4]', sub { $_[1]{has_embedding} && !exists $_[1]{embedding} }, 'a 4-number embedding');
$t->get_ok("/api/v1/articles/$target->{id}", auth($u))->json_is('/has_embedding' => Mojo::JSON->true);
ok(!exists $t->tx->res->json->{embedding}, 'the embedding is never echoed');
is($h->psql(q{SELECT embedding::text FROM articles WHERE id = $1}, $target->{id}) =~ tr/,//, $DIM - 1,
   'stored with 4 dimensions');
accepts(embedding => '[1,2,3,4]', undef, 'integers');
accepts(embedding => '[-1.5e-3,0,3.4e38,-3.4e38]', undef, 'exponents, and the largest real');
accepts(embedding => '[1e-50,1,1,1]', undef, 'a value too small for a real (kept as 0)');
accepts(embedding => 'null', undef, 'null clears it');
$t->get_ok("/api/v1/articles/$target->{id}", auth($u))->json_is('/has_embedding' => Mojo::JSON->false, 'cleared');
refuses(embedding => $_, "embedding $_") for (
    '[0.1,0.2,0.3]', '[0.1,0.2,0.3,0.4,0.5]', '[]',
    '["0.1","0.2","0.3","0.4"]', '[0.1,0.2,"NaN",0.4]', '["NaN","NaN","NaN","NaN"]', '["Infinity",1,1,1]',
    '[0.1,0.2,null,0.4]', '[0.1,0.2,true,0.4]', '[[0.1],[0.2],[0.3],[0.4]]', '[0.1,0.2,{},0.4]',
    '[1e39,1,1,1]', '[1e400,1,1,1]', '"[0.1,0.2,0.3,0.4]"', '0.1', '{}', 'true');

# ---------------------------------------------------------------- unknown and read-only fields

for my $f (qw(id user_id created_at updated_at has_embedding embedding_dim foo Title)) {
    my $n = count();
    post_raw(qq({"title":"t","$f":"2026-01-01T00:00:00Z"}));
    error_is($t, 400, 'validation_failed', $f, "create refuses the field $f");
    is(count(), $n, "... and creates nothing ($f)");
    patch_raw(qq({"$f":null}));
    error_is($t, 400, 'validation_failed', $f, "PATCH refuses the field $f");
}
post_raw(qq({"title":"t","id":"$target->{id}"}));
error_is($t, 400, 'validation_failed', 'id', 'create refuses an id even when it is a real one');

# ---------------------------------------------------------------- bodies

$t->post_ok('/api/v1/articles', { %{ auth($u) }, 'Content-Type' => 'text/plain' }, '{"title":"t"}');
error_is($t, 415, 'unsupported_media_type');
$t->post_ok('/api/v1/articles', auth($u));
error_is($t, 400, 'validation_failed', 'title', 'no body, no content type: the title is missing');
$t->post_ok('/api/v1/articles', { %{ auth($u) }, 'Content-Type' => 'application/json; charset=utf-8' }, '{"title":"cs"}')
  ->status_is(201, 'a charset parameter is fine');
post_raw('{"title":');
error_is($t, 400, 'invalid_json');
post_raw('["title"]');
error_is($t, 400, 'invalid_json');
patch_raw('');
error_is($t, 400, 'invalid_json', undef, 'PATCH without a body');

done_testing;
