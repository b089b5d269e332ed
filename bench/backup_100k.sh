#!/usr/bin/env bash
# bench/backup_100k.sh: pgBackRest on a data set of USERS x PER_USER
# articles (default 100 x 1,000, made by bench/seed_*.sql) in a throw-away
# cluster that archives its WAL: the time of a full backup, the write rate
# (pgbench inserting articles) without a backup and during one, and the
# time of tools/restore-drill restoring the latest state and checking it.
# Not part of the test suite. Results: docs/backups.md.
#
#   bench/backup_100k.sh                 # USERS=100 PER_USER=1000 PARAS=12
#   USERS=10 bench/backup_100k.sh        # a smaller run
#
# Environment: USERS, PER_USER, PARAS (pool paragraphs per content field,
# see bench/seed_articles.sql: 12 is ~14 KB of text per article), CLIENTS
# (pgbench clients, default 2), BLOGPOSTER_BIN, PG_BINDIR, TMPDIR, KEEP=1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
USERS=${USERS:-100}
PER_USER=${PER_USER:-1000}
PARAS=${PARAS:-12}
CLIENTS=${CLIENTS:-2}
BIN=${BLOGPOSTER_BIN:-$ROOT/src/blogposter}
PG_BIN=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
[ -x "$BIN" ] || { echo "build first: $BIN is missing" >&2; exit 1; }
command -v pgbackrest >/dev/null || { echo "needs pgbackrest (tools/dev deps)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bp-backup-bench-XXXXXX")
chmod 755 "$WORK"
STACK=$ROOT/tools/stack
cleanup() {
    "$STACK" pg-stop "$WORK/pg" --mode immediate >/dev/null 2>&1 || true
    if [ -n "${KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

mkdir -p "$WORK/repo" "$WORK/log" "$WORK/lock"
cat >"$WORK/pgbackrest.conf" <<EOF
[global]
repo1-path=$WORK/repo
repo1-retention-full=2
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=$(openssl rand -hex 32)
log-path=$WORK/log
lock-path=$WORK/lock
log-level-console=warn
start-fast=y
compress-type=lz4
process-max=2

[blogposter]
pg1-path=$WORK/pg
pg1-socket-path=$WORK/sock
pg1-port=5432
EOF
[ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$WORK/repo" "$WORK/log" "$WORK/lock" "$WORK/pgbackrest.conf"
pgbr() { as_pg pgbackrest --config="$WORK/pgbackrest.conf" --stanza=blogposter "$@"; }

# A cluster as a server runs it (fsync on), archiving to the repository.
"$STACK" pg-init "$WORK/pg" --sockdir "$WORK/sock" --port 5432 --comment 'bench/backup_100k.sh' \
    --set shared_buffers=256MB --set max_wal_size=4GB --set default_toast_compression=lz4 \
    --set archive_mode=on \
    --set "archive_command=pgbackrest --config=$WORK/pgbackrest.conf --stanza=blogposter archive-push %p"
"$STACK" pg-start "$WORK/pg" --log "$WORK/sock/pg.log"
"$STACK" createdb blogposter --sockdir "$WORK/sock" --port 5432
export DATABASE_URL="host=$WORK/sock port=5432 dbname=blogposter user=postgres"
export MIGRATIONS_DIR="$ROOT/sql/migrations"
"$BIN" migrate >/dev/null
pgbr stanza-create
psql_() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK/sock" -U postgres -d blogposter "$@"; }

echo "seeding $USERS users x $PER_USER articles ..."
t0=$(date +%s)
psql_ -v users="$USERS" -v hash='$y$bench$no-login' -f bench/seed_users.sql >/dev/null
for j in 0 1; do
    psql_ -v first=1 -v per_user="$PER_USER" -v paras="$PARAS" -v part=$j -v parts=2 -f bench/seed_articles.sql >/dev/null &
done
wait
psql_ -c 'DROP TABLE bench_pool' -c 'VACUUM ANALYZE' >/dev/null
echo "seeded in $(( $(date +%s) - t0 )) s: $(psql_ -At -c "SELECT count(*) || ' articles, database ' || pg_size_pretty(pg_database_size('blogposter')) FROM articles")"
pgbr check

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

t0=$(date +%s.%N)
pgbr --type=full backup
t1=$(date +%s.%N)
FULL=$(secs "$t0" "$t1")
echo "full backup (no load): $FULL s; repository $(du -sh "$WORK/repo/backup" | cut -f1)"

# The write load: one article per transaction, as POST /articles writes it.
cat >"$WORK/insert.sql" <<'EOF'
\set n random(1, 1000000000)
INSERT INTO articles (user_id, title, slug, content_markdown)
SELECT id, 'Load ' || :n, 'load-' || :n || '-' || :client_id || '-' || (random() * 1e9)::int8, repeat('x', 4000)
  FROM users WHERE email = 'bench-0001@bench.example';
EOF
DUR=${FULL%.*}; [ "$DUR" -lt 10 ] && DUR=10
pgb() { "$PG_BIN/pgbench" -n -h "$WORK/sock" -U postgres -c "$CLIENTS" -j "$CLIENTS" -T "$DUR" -f "$WORK/insert.sql" blogposter 2>&1 |
        sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }
TPS0=$(pgb)
echo "writes without a backup: $TPS0 tps ($CLIENTS clients, $DUR s)"
t0=$(date +%s.%N)
pgb >"$WORK/tps1" &
pgbr --type=full backup
t1=$(date +%s.%N)
wait
echo "writes during a full backup: $(cat "$WORK/tps1") tps; that backup took $(secs "$t0" "$t1") s"

echo "restore drill (latest state) ..."
t0=$(date +%s.%N)
BLOGPOSTER_BIN=$BIN tools/restore-drill --config "$WORK/pgbackrest.conf" --scratch "$WORK" --no-amcheck
t1=$(date +%s.%N)
echo "restore drill in all: $(secs "$t0" "$t1") s"
