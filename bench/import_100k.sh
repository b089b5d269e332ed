#!/usr/bin/env bash
# bench/import_100k.sh: import-json over 100,000 article files of ~15 KB
# (about 1.5 GB) into a throw-away PostgreSQL cluster, under
# /usr/bin/time -v: wall time and peak RSS of the import, of its --dry-run
# and of the second run (a no-op).  Not part of the test suite.
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
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }

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

run() {
    local name=$1; shift
    /usr/bin/time -v -o "$WORK/time.$name" "$BIN" import-json "$WORK/data" --owner bench@example.com "$@" \
        >"$WORK/out.$name" 2>"$WORK/err.$name" || { echo "$name failed:"; tail "$WORK/err.$name"; exit 1; }
    printf '%-10s wall %-10s peak RSS %7s KiB   %s\n' "$name" \
        "$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time.$name")" \
        "$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.$name")" \
        "$(grep -E '^articles:' "$WORK/out.$name")"
}
run dry-run --dry-run
run import
run again
"$PG_BIN/psql" -X -q -At -h "$WORK/sock" -U postgres -d blogposter \
    -c "SELECT 'articles in the database: ' || count(*) || ', ' || pg_size_pretty(pg_total_relation_size('articles')) FROM articles"
