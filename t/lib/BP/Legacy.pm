package BP::Legacy;

# Legacy data folders (DESIGN.md, "Legacy data") for the import-json tests
# and bench/import_100k.sh.
#
#   use BP::Legacy qw(spew legacy_id api_time snapshot bulk_folder
#                     money_units money_text);
#   spew("$dir/articles/a.json", $bytes);     # makes the folders
#   legacy_id($owner_id, 'articles/a.json')   # the id a file without one gets
#   legacy_id(undef, 'articles/a.json')       # the same by the first rule
#                                             # (the path alone)
#   api_time('2024-01-02T03:04:05+02:00')     # as the API shows it, UTC
#   snapshot($h)                              # every row of the tables import
#                                             # touches, with its xmin
#   bulk_folder($dir, articles => N, bytes => B, pipelines => M)
#       N article files of about B bytes each and M pipeline runs (ended,
#       over 12 months of 2023) with ids; returns
#       { articles => N, pipelines => M, usage => { 'YYYY-MM' => [articles,
#       cost in 1/10000] } }

use strict;
use warnings;

use Digest::MD5 qw(md5_hex);
use Exporter 'import';
use File::Basename qw(dirname);
use File::Path qw(make_path);
use Time::Local qw(timegm_modern);

our @EXPORT_OK = qw(spew legacy_id api_time snapshot bulk_folder money_units money_text);

sub spew {
    my ($path, $bytes) = @_;
    make_path(dirname($path));
    open my $fh, '>:raw', $path or die "write $path: $!";
    print $fh $bytes;
    close $fh or die "close $path: $!";
}

# md5 of the owner's id, ':' and the path relative to DATA_DIR, as a UUID;
# without an owner, md5 of the path alone (the rule of the first releases).
sub legacy_id {
    my ($owner, $rel) = @_;
    my $h = md5_hex(defined $owner ? lc($owner) . ":$rel" : $rel);
    return join '-', substr($h, 0, 8), substr($h, 8, 4), substr($h, 12, 4), substr($h, 16, 4), substr($h, 20);
}

# A legacy timestamp as the API writes it: UTC, 'Z', whole seconds.
sub api_time {
    my $s = shift;
    my ($y, $mo, $d, $rest) = $s =~ /^(\d{4})-(\d\d)-(\d\d)(.*)$/ or die "bad time $s";
    my ($h, $mi, $se, $zone) = (0, 0, 0, '');
    if ($rest =~ /^[Tt ](\d\d):(\d\d)(?::(\d\d)(?:[.,]\d+)?)?(.*)$/) {
        ($h, $mi, $se, $zone) = ($1, $2, $3 // 0, $4);
    }
    my $t = timegm_modern($se, $mi, $h, $d, $mo - 1, $y);
    if ($zone =~ /^([+-])(\d\d):?(\d\d)?$/) {
        my $off = $2 * 3600 + ($3 // 0) * 60;
        $t -= $1 eq '+' ? $off : -$off;
    }
    my @g = gmtime $t;
    return sprintf '%04d-%02d-%02dT%02d:%02d:%02dZ', $g[5] + 1900, $g[4] + 1, @g[3, 2, 1, 0];
}

# Money text ("0.42", "3") in 1/10000, and 1/10000 as money text.
sub money_units {
    my $m = shift;
    $m =~ /^(\d+)(?:\.(\d{1,4}))?$/ or die "bad money $m";
    return $1 * 10000 + substr(($2 // '') . '0000', 0, 4);
}

sub money_text {
    my $u = shift;
    return sprintf '%d.%04d', int($u / 10000), $u % 10000;
}

sub snapshot {
    my $h = shift;
    return join "\n", map {
        scalar $h->psql("SELECT coalesce(md5(string_agg(t::text || ' ' || t.xmin::text, ',' ORDER BY t::text)), 'empty') FROM $_ t")
    } qw(users articles pipelines api_usage);
}

sub bulk_folder {
    my ($dir, %o) = @_;
    my $n     = $o{articles}  // 1000;
    my $bytes = $o{bytes}     // 15000;
    my $np    = $o{pipelines} // 0;
    make_path("$dir/articles", "$dir/pipelines");
    # a pool of pseudo-random words; each article is a slice of it at its
    # own offset, so that contents differ and compress like prose would
    my @words = qw(lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod
                   tempor incididunt ut labore et dolore magna aliqua seo blog keyword
                   search engine ranking content marketing audience traffic conversion
                   backlink optimisation headline structure readability snippet meta
                   wordpress publish draft schedule archive editor pipeline article);
    my ($pool, $seed) = ('', 42);
    while (length($pool) < $bytes + 1_000_000) {
        $seed = ($seed * 1103515245 + 12345) % 2147483648;
        my $w = $words[ ($seed >> 8) % @words ];
        $pool .= ($seed >> 20) % 11 ? "$w " : ucfirst($w) . ".\n\n";
    }
    my @ids;
    for my $k (1 .. $n) {
        my $id = sprintf '%08x-0000-4000-8000-%012x', $k, $k;
        push @ids, $id;
        my $body = substr($pool, ($k * 7919) % 1_000_000, $bytes - 400);
        $body =~ s/\\/\\\\/g;
        $body =~ s/"/\\"/g;
        $body =~ s/\n/\\n/g;
        my $day = 1 + $k % 28;
        spew(sprintf('%s/articles/%07d.json', $dir, $k),
            qq({"id":"$id","title":"Article number $k about SEO","content_markdown":"$body",)
          . qq("meta_description":"Article $k","primary_keyword":"seo $k","seo_score":) . ($k % 101)
          . qq(,"status":"published","wp_post_id":$k,"wp_url":"https://blog.example/$k",)
          . sprintf(qq("created_at":"2023-%02d-%02dT10:00:00Z"}), 1 + $k % 12, $day));
    }
    my %usage;
    for my $k (1 .. $np) {
        my $month  = 1 + $k % 12;
        my $cost   = ($k * 37) % 100000;    # 1/10000
        my $status = $k % 5 ? 'completed' : 'failed';
        my $u = $usage{ sprintf '2023-%02d', $month } //= [0, 0];
        $u->[0]++ if $status eq 'completed';
        $u->[1] += $cost;
        spew(sprintf('%s/pipelines/%07d.json', $dir, $k),
            sprintf(qq({"id":"%08x-0000-4000-9000-%012x","article_id":"%s","status":"%s",)
                  . qq("total_cost":"%s","started_at":"2023-%02d-10T10:00:00Z","completed_at":"2023-%02d-10T10:05:00Z",)
                  . qq("error_message":%s}),
                $k, $k, $ids[ $k % @ids ], $status, money_text($cost), $month, $month,
                $status eq 'failed' ? '"timeout"' : 'null'));
    }
    return { articles => $n, pipelines => $np, usage => \%usage };
}

1;
