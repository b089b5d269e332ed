#!/usr/bin/env bash
# bench/export_100k.sh: GET /api/v1/me/export of one user with N articles
# (default 100,000, made by bench/seed_*.sql, ~14 KB of text each), asked
# of `blogposter serve` (one worker) straight over FastCGI with cgi-fcgi:
# the time to stream the whole archive, its size, and the worker's peak
# RSS (VmHWM) before and after. Not part of the test suite.
#
#   bench/export_100k.sh             # N=100000 PARAS=12
#   N=10000 bench/export_100k.sh     # a smaller run
#
# Environment: N, PARAS, BLOGPOSTER_BIN, PG_BINDIR, TMPDIR, KEEP=1.
# Needs cgi-fcgi (libfcgi-bin, installed by tools/dev test).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
N=${N:-100000}
PARAS=${PARAS:-12}
BIN=${BLOGPOSTER_BIN:-$ROOT/src/blogposter}
PG_BIN=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
[ -x "$BIN" ] || { echo "build first: $BIN is missing" >&2; exit 1; }
command -v cgi-fcgi >/dev/null || { echo "needs cgi-fcgi (libfcgi-bin)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bp-export-bench-XXXXXX")
chmod 755 "$WORK"
STACK=$ROOT/tools/stack
BP=''
cleanup() {
    [ -n "$BP" ] && kill -TERM "$BP" 2>/dev/null && wait "$BP" 2>/dev/null || true
    "$STACK" pg-stop "$WORK/pg" --mode immediate >/dev/null 2>&1 || true
    if [ -n "${KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

"$STACK" pg-init "$WORK/pg" --sockdir "$WORK/sock" --port 5432 --no-sync \
    --comment 'bench/export_100k.sh' --set fsync=off --set shared_buffers=256MB
"$STACK" pg-start "$WORK/pg" --log "$WORK/sock/pg.log"
"$STACK" createdb blogposter --sockdir "$WORK/sock" --port 5432
export DATABASE_URL="host=$WORK/sock port=5432 dbname=blogposter user=postgres"
export MIGRATIONS_DIR="$ROOT/sql/migrations"
"$BIN" migrate >/dev/null
KEY=$(printf '%s\n' 'bench-password-123' | "$BIN" create-user --email bench-0001@bench.example | grep -o 'bp_[A-Za-z0-9_-]*' | head -1)
[ -n "$KEY" ] || { echo "no API key from create-user" >&2; exit 1; }
psql_() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK/sock" -U postgres -d blogposter "$@"; }

echo "seeding $N articles for one user ..."
t0=$(date +%s)
psql_ -v users=1 -v hash='$y$bench$no-login' -f bench/seed_users.sql >/dev/null
PGOPTIONS='-c default_toast_compression=lz4' psql_ -v first=1 -v per_user="$N" -v paras="$PARAS" -v part=0 -v parts=1 \
    -f bench/seed_articles.sql >/dev/null
psql_ -c 'DROP TABLE bench_pool' -c 'VACUUM ANALYZE' >/dev/null
echo "seeded in $(( $(date +%s) - t0 )) s: $(psql_ -At -c "SELECT count(*) || ' articles, ' || pg_size_pretty(pg_total_relation_size('articles')) FROM articles")"

SOCK=$WORK/bp.sock
LISTEN="unix:$SOCK" WORKERS=1 SECRET_KEY=$(openssl rand -hex 32) "$BIN" serve 2>"$WORK/serve.log" &
BP=$!
for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
sleep 0.5
WORKER=$(pgrep -P "$BP" | head -1)
hwm() { sed -n 's/^VmHWM:\s*//p' "/proc/$WORKER/status"; }

# A small request first, so that the worker is connected and prepared.
env -i REQUEST_METHOD=GET REQUEST_URI=/api/v1/me SCRIPT_NAME=/api/v1/me QUERY_STRING= \
    HTTP_X_API_KEY="$KEY" cgi-fcgi -bind -connect "$SOCK" >/dev/null
echo "worker $WORKER peak RSS before the export: $(hwm)"
# VmRSS sampled every 0.1 s while the export runs (VmHWM alone may miss a
# peak the kernel has not recorded yet).
( max=0; while kill -0 "$WORKER" 2>/dev/null && [ ! -e "$WORK/done" ]; do
      r=$(sed -n 's/^VmRSS:\s*\([0-9]*\).*/\1/p' "/proc/$WORKER/status"); [ "${r:-0}" -gt "$max" ] && max=$r
      echo "$max" >"$WORK/rss.max"; sleep 0.1; done ) &
SAMPLER=$!
t0=$(date +%s.%N)
env -i REQUEST_METHOD=GET REQUEST_URI=/api/v1/me/export SCRIPT_NAME=/api/v1/me/export QUERY_STRING= \
    HTTP_X_API_KEY="$KEY" cgi-fcgi -bind -connect "$SOCK" >"$WORK/export.out"
t1=$(date +%s.%N)
touch "$WORK/done"; wait "$SAMPLER" || true
echo "worker $WORKER peak RSS after the export:  $(hwm); highest VmRSS sampled during it: $(cat "$WORK/rss.max") kB"
awk -v a="$t0" -v b="$t1" -v s="$(stat -c %s "$WORK/export.out")" \
    'BEGIN { printf "export: %.1f s, %.0f MB, %.0f MB/s\n", b - a, s / 1e6, s / 1e6 / (b - a) }'
# The archive after the FastCGI headers: every article in it?
sed -n '1,/^\r$/p' "$WORK/export.out" | head -5
tail -c +$(( $(sed -n '1,/^\r$/p' "$WORK/export.out" | wc -c) + 1 )) "$WORK/export.out" >"$WORK/export.tar"
echo "files in the archive: $(tar -tf "$WORK/export.tar" | grep -c '/articles/.')"
