-- bench/seed_users.sql: the bench users, and the paragraph pool that
-- bench/seed_articles.sql builds article texts from.
--
--   psql -v users=100 -v hash='$y$...' -f seed_users.sql
--
-- Users bench-0001@bench.example ... all share the password whose hash is
-- given (made by crypt_rate --hash with the library's preferred method,
-- so that login costs what it costs a real user).  Their monthly limits
-- are raised to the maximum so that the pipeline scenario never hits them.
--
-- The pool: 4096 paragraphs of ~480 bytes of hex "words" from md5 chains,
-- and the same as HTML.  pglz (and lz4) find nothing to compress in them.
\set ON_ERROR_STOP on

CREATE UNLOGGED TABLE IF NOT EXISTS bench_pool AS
SELECT i, para, regexp_replace(para, '(\S+) (\S+) (\S+) (\S+)',
                               '\1 <em>\2</em> \3 \4', 'g') AS html
  FROM (SELECT i, (SELECT string_agg(substr(md5(i || '/' || j), 1, 3 + j % 9), ' ')
                     FROM generate_series(1, 60) j) AS para
          FROM generate_series(0, 4095) i) s;
CREATE UNIQUE INDEX IF NOT EXISTS bench_pool_i ON bench_pool (i);
ANALYZE bench_pool;

INSERT INTO users (email, password_hash, max_monthly_cost, max_articles_per_month)
SELECT format('bench-%s@bench.example', lpad(n::text, 4, '0')), :'hash',
       99999999.9999, 2147483647
  FROM generate_series(1, :users) n
ON CONFLICT (email) DO NOTHING;

