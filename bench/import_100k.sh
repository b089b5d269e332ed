#!/usr/bin/env bash
# bench/import_100k.sh: import-json over 100,000 article files of ~15 KB
# (about 1.5 GB) into a throw-away PostgreSQL cluster, under
# /usr/bin/time -v: wall time and peak RSS of the import, of its --dry-run
# and of the second run (a no-op).  Then its ceiling: the rows it wrote,
# copied out to files and loaded again through psql's \copy (COPY FROM
# STDIN) in one transaction into an empty database of the same schema, in
# the same cluster; import-json's rate is printed against it (target:
# 0.5 or more).  Not part of the test suite.
#
#   bench/import_100k.sh            # N=100000 BYTES=15000 PIPELINES=20000
#   N=20000 bench/import_100k.sh    # a smaller run
#
# Environment: N, BYTES, PIPELINES, BLOGPOSTER_BIN (default src/blogposter),
# PG_BINDIR (default /usr/lib/postgresql/15/bin), TMPDIR, KEEP=1 (keep the
# temp dir).  Needs the programs of tools/dev (PostgreSQL 15, perl) and
# GNU time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
N=${N:-100000}
BYTES=${BYTES:-15000}
PIPELINES=${PIPELINES:-20000}
BIN=${BLOGPOSTER_BIN:-$ROOT/src/blogposter}
PG_BIN=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
[ -x "$BIN" ] || { echo "build first: $BIN is missing" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time (tools/dev deps)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bp-import-bench-XXXXXX")
chmod 755 "$WORK"
STACK=$ROOT/tools/stack   # the launcher: PostgreSQL cluster
cleanup() {
    "$STACK" pg-stop "$WORK/pg" --mode immediate >/dev/null 2>&1 || true
    if [ -n "${KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

"$STACK" pg-init "$WORK/pg" --sockdir "$WORK/sock" --port 5432 --no-sync \
    --comment 'bench/import_100k.sh' --set fsync=off --set full_page_writes=off
"$STACK" pg-start "$WORK/pg" --log "$WORK/sock/pg.log"
"$STACK" createdb blogposter --sockdir "$WORK/sock" --port 5432
export DATABASE_URL="host=$WORK/sock port=5432 dbname=blogposter user=postgres"
export MIGRATIONS_DIR="$ROOT/sql/migrations"
"$BIN" migrate >/dev/null
echo 'bench-password-123' | "$BIN" create-user --email bench@example.com >/dev/null

echo "generating $N articles of ~$BYTES bytes and $PIPELINES runs in $WORK/data ..."
t0=$(date +%s)
perl -I"$ROOT/t/lib" -MBP::Legacy=bulk_folder \
    -e 'bulk_folder($ARGV[0], articles => $ARGV[1], bytes => $ARGV[2], pipelines => $ARGV[3])' \
    "$WORK/data" "$N" "$BYTES" "$PIPELINES"
echo "generated in $(( $(date +%s) - t0 )) s: $(du -sh "$WORK/data" | cut -f1)"
sync

psql_() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK/sock" -U postgres -d "${DB:-blogposter}" "$@"; }
wall() {  # wall NAME: the wall time of time.NAME, in seconds
    sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time.$1" |
        awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }'
}
rss() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.$1"; }
run() {
    local name=$1; shift
    /usr/bin/time -v -o "$WORK/time.$name" "$BIN" import-json "$WORK/data" --owner bench@example.com "$@" \
        >"$WORK/out.$name" 2>"$WORK/err.$name" || { echo "$name failed:"; tail "$WORK/err.$name"; exit 1; }
    printf '%-10s wall %8.2f s  peak RSS %7s KiB   %s\n' "$name" "$(wall "$name")" "$(rss "$name")" \
        "$(grep -E '^articles:' "$WORK/out.$name")"
}
run dry-run --dry-run
run import
run again
psql_ -At -c "SELECT 'articles in the database: ' || count(*) || ', ' || pg_size_pretty(pg_total_relation_size('articles')) FROM articles"

# The ceiling: the rows the import wrote (articles and pipeline runs, the
# columns its COPYs send), out to files, then in again through psql's
# \copy in one transaction (psql -1) into a fresh database of the same
# schema (migrated, the owner copied), in the same cluster with the same
# settings, files and COPY data both in the page cache.
ACOLS='id, user_id, title, slug, content_markdown, content_html, meta_description, primary_keyword, seo_score, status, wp_post_id, wp_url, embedding, created_at, updated_at'
PCOLS='id, user_id, article_id, status, estimated_cost, total_cost, started_at, completed_at, error_message'
psql_ -c "\\copy articles ($ACOLS) TO '$WORK/articles.copy'" -c "\\copy pipelines ($PCOLS) TO '$WORK/pipelines.copy'" \
    -c "\\copy users TO '$WORK/users.copy'"
"$STACK" createdb blogposter_copy --sockdir "$WORK/sock" --port 5432
DATABASE_URL="host=$WORK/sock port=5432 dbname=blogposter_copy user=postgres" "$BIN" migrate >/dev/null
DB=blogposter_copy psql_ -c "\\copy users FROM '$WORK/users.copy'"
cat "$WORK"/*.copy >/dev/null
/usr/bin/time -v -o "$WORK/time.copy" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -1 -h "$WORK/sock" -U postgres -d blogposter_copy \
    -c "\\copy articles ($ACOLS) FROM '$WORK/articles.copy'" -c "\\copy pipelines ($PCOLS) FROM '$WORK/pipelines.copy'" \
    >"$WORK/out.copy" 2>&1 || { echo "the COPY failed:"; tail "$WORK/out.copy"; exit 1; }
ROWS=$(DB=blogposter_copy psql_ -At -c "SELECT (SELECT count(*) FROM articles) + (SELECT count(*) FROM pipelines)")
printf '%-10s wall %8.2f s  peak RSS %7s KiB   %s rows (psql \\copy, one transaction)\n' copy "$(wall copy)" "$(rss copy)" "$ROWS"

# files/s and MB/s: import-json's of the JSON files it read, the COPY's
# rows and bytes of COPY data; the ratio of the two rates (same rows).
FILES=$(( N + PIPELINES ))
JSON_BYTES=$(find "$WORK/data" -type f -name '*.json' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
COPY_BYTES=$(cat "$WORK/articles.copy" "$WORK/pipelines.copy" | wc -c)
[ "$ROWS" = "$FILES" ] || echo "warning: $ROWS rows in the copy, $FILES files imported"
awk -v f="$FILES" -v jb="$JSON_BYTES" -v cb="$COPY_BYTES" -v ti="$(wall import)" -v tc="$(wall copy)" \
    -v ri="$(rss import)" -v rc="$(rss copy)" 'BEGIN {
    printf "import-json  %8.0f files/s  %7.1f MB/s of JSON        peak RSS %6.1f MiB\n", f / ti, jb / 1e6 / ti, ri / 1024
    printf "COPY         %8.0f rows/s   %7.1f MB/s of COPY data   peak RSS %6.1f MiB (psql)\n", f / tc, cb / 1e6 / tc, rc / 1024
    r = (f / ti) / (f / tc)
    printf "Target: import-json / COPY >= 0.5: %.0f / %.0f files/s = %.2f  %s\n", f / ti, f / tc, r, (r >= 0.5 ? "met" : "NOT met")
}'
