-- pipelines and api_usage: constraints, and what deletions do.
BEGIN;
\ir _helpers.psql
SELECT plan(39);

INSERT INTO users (id, email, password_hash) VALUES
    ('00000000-0000-4000-8000-0000000000a1', 'alice@example.com', 'hash'),
    ('00000000-0000-4000-8000-0000000000b1', 'bob@example.com', 'hash');
INSERT INTO articles (id, user_id, title, slug) VALUES
    ('10000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000a1', 'Alice 1', 'one'),
    ('10000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-0000000000a1', 'Alice 2', 'two'),
    ('10000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000b1', 'Bob 1', 'one');
INSERT INTO pipelines (id, user_id, article_id) VALUES
    ('20000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000a1', '10000000-0000-4000-8000-0000000000a1'),
    ('20000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000b1', '10000000-0000-4000-8000-0000000000b1');

-- A pipeline of alice's with the given columns.
CREATE FUNCTION pg_temp.ins(cols text, vals text) RETURNS text LANGUAGE sql AS $$
    SELECT format('INSERT INTO pipelines (user_id, %s) VALUES (%L, %s)',
                  cols, '00000000-0000-4000-8000-0000000000a1', vals)
$$;

SELECT row_eq(
    $$SELECT status, estimated_cost::text, total_cost::text, started_at = now(), completed_at, error_message
        FROM pipelines WHERE id = '20000000-0000-4000-8000-0000000000a1'$$,
    ROW('running'::text, '0.0000'::text, '0.0000'::text, true, NULL::timestamptz, NULL::text),
    'a new pipeline gets the defaults');

-- Owner and article
SELECT pg_temp.not_null_fails($$INSERT INTO pipelines (user_id) VALUES (NULL)$$,
    'pipelines', 'user_id', 'a pipeline needs a user');
SELECT pg_temp.fk_fails($$INSERT INTO pipelines (user_id) VALUES ('00000000-0000-4000-8000-00000000dead')$$,
    'pipelines', 'pipelines_user_id_fkey', 'a pipeline of a user that does not exist');
SELECT pg_temp.fk_fails(pg_temp.ins('article_id', $$'10000000-0000-4000-8000-00000000dead'$$),
    'pipelines', 'pipelines_article_id_fkey', 'a pipeline of an article that does not exist');
SELECT pg_temp.fk_fails(pg_temp.ins('article_id', $$'10000000-0000-4000-8000-0000000000b1'$$),
    'pipelines', 'pipelines_article_id_fkey', 'a pipeline pointing at another user''s article');
SELECT pg_temp.fk_fails(
    $$UPDATE pipelines SET article_id = '10000000-0000-4000-8000-0000000000b1' WHERE id = '20000000-0000-4000-8000-0000000000a1'$$,
    'pipelines', 'pipelines_article_id_fkey', 'moving a pipeline to another user''s article');
SELECT lives_ok(pg_temp.ins('article_id', 'NULL'), 'a pipeline without an article is accepted');

-- status and completed_at go together
SELECT pg_temp.check_fails(pg_temp.ins('status, completed_at', $$'cancelled', now()$$),
    'pipelines', 'pipelines_status_check', 'an unknown status');
SELECT pg_temp.check_fails(pg_temp.ins('status, completed_at', $$'running', now()$$),
    'pipelines', 'pipelines_completed_at_check', 'a running pipeline with completed_at');
SELECT pg_temp.check_fails(pg_temp.ins('status', $$'completed'$$),
    'pipelines', 'pipelines_completed_at_check', 'a completed pipeline without completed_at');
SELECT pg_temp.check_fails(pg_temp.ins('status', $$'failed'$$),
    'pipelines', 'pipelines_completed_at_check', 'a failed pipeline without completed_at');
SELECT lives_ok(
    $$UPDATE pipelines SET status = 'completed', completed_at = now(), total_cost = 0.0421
       WHERE id = '20000000-0000-4000-8000-0000000000a1'$$,
    'a running pipeline can complete');
SELECT lives_ok(pg_temp.ins('status, completed_at, error_message', $$'failed', now(), 'LLM timeout'$$),
    'a failed pipeline with completed_at and a message is accepted');

-- Money: 0..999999.9999
SELECT pg_temp.check_fails(pg_temp.ins(c, v), 'pipelines', 'pipelines_' || c || '_check', c || ' ' || v)
  FROM (VALUES ('estimated_cost', '-0.0001'), ('estimated_cost', '1000000'),
               ('total_cost', '-0.0001'), ('total_cost', '1000000')) AS t(c, v);
SELECT lives_ok(pg_temp.ins('estimated_cost, total_cost', '999999.9999, 999999.9999'),
    'costs of 999999.9999 are accepted');
SELECT is((SELECT total_cost::text FROM pipelines WHERE id = '20000000-0000-4000-8000-0000000000a1'),
    '0.0421', 'money is stored exactly, with 4 decimals');

-- api_usage
SELECT lives_ok(
    $$INSERT INTO api_usage (user_id, month, articles_generated, total_cost) VALUES
        ('00000000-0000-4000-8000-0000000000a1', '2026-11-01', 1, 0.0421),
        ('00000000-0000-4000-8000-0000000000a1', '2026-10-01', 0, 0),
        ('00000000-0000-4000-8000-0000000000b1', '2026-11-01', 0, 0)$$,
    'usage rows for the first day of a month are accepted');
SELECT row_eq(
    $$INSERT INTO api_usage (user_id, month) VALUES ('00000000-0000-4000-8000-0000000000a1', '2026-09-01')
      RETURNING articles_generated, total_cost::text$$,
    ROW(0, '0.0000'::text), 'usage counters start at 0');
SELECT pg_temp.unique_fails(
    $$INSERT INTO api_usage (user_id, month) VALUES ('00000000-0000-4000-8000-0000000000a1', '2026-11-01')$$,
    'api_usage_pkey', 'a second usage row for the same user and month');
SELECT pg_temp.check_fails(
    format($$INSERT INTO api_usage (user_id, month) VALUES ('00000000-0000-4000-8000-0000000000a1', %L)$$, m),
    'api_usage', 'api_usage_month_check', 'month ' || m)
  FROM unnest(ARRAY['2026-11-02', '2026-11-30', 'infinity', '-infinity']) AS m;
SELECT pg_temp.check_fails(
    $$UPDATE api_usage SET articles_generated = -1 WHERE user_id = '00000000-0000-4000-8000-0000000000a1' AND month = '2026-11-01'$$,
    'api_usage', 'api_usage_articles_generated_check', 'a negative article count');
SELECT pg_temp.check_fails(
    $$UPDATE api_usage SET total_cost = -0.0001 WHERE user_id = '00000000-0000-4000-8000-0000000000a1' AND month = '2026-11-01'$$,
    'api_usage', 'api_usage_total_cost_check', 'a negative monthly cost');
SELECT lives_ok(
    $$UPDATE api_usage SET total_cost = 9999999999.9999 WHERE user_id = '00000000-0000-4000-8000-0000000000a1' AND month = '2026-10-01'$$,
    'a monthly sum above what one run can cost fits (numeric(14,4))');
SELECT pg_temp.fk_fails(
    $$INSERT INTO api_usage (user_id, month) VALUES ('00000000-0000-4000-8000-00000000dead', '2026-11-01')$$,
    'api_usage', 'api_usage_user_id_fkey', 'usage of a user that does not exist');

-- Deleting an article keeps its pipelines, without the article ------------------

DELETE FROM articles WHERE id = '10000000-0000-4000-8000-0000000000a1';
SELECT row_eq(
    $$SELECT article_id, user_id, status, total_cost::text
        FROM pipelines WHERE id = '20000000-0000-4000-8000-0000000000a1'$$,
    ROW(NULL::uuid, '00000000-0000-4000-8000-0000000000a1'::uuid, 'completed'::text, '0.0421'::text),
    'deleting an article sets its pipelines'' article_id to NULL and keeps the rest');
SELECT is((SELECT article_id FROM pipelines WHERE id = '20000000-0000-4000-8000-0000000000b1'),
    '10000000-0000-4000-8000-0000000000b1'::uuid, 'another user''s pipeline keeps its article');

-- Deleting a user deletes everything it owns, and nothing else ------------------

INSERT INTO pipelines (user_id, article_id) VALUES
    ('00000000-0000-4000-8000-0000000000a1', '10000000-0000-4000-8000-0000000000a2');
INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES
    ('00000000-0000-4000-8000-0000000000a1', 'k1', sha256('r')),
    ('00000000-0000-4000-8000-0000000000b1', 'k1', sha256('r'));

CREATE TEMP TABLE owned AS
SELECT 'articles' AS tbl, user_id FROM articles
UNION ALL SELECT 'pipelines', user_id FROM pipelines
UNION ALL SELECT 'api_usage', user_id FROM api_usage
UNION ALL SELECT 'idempotency_keys', user_id FROM idempotency_keys;
SELECT ok((SELECT count(DISTINCT tbl) = 4 FROM owned WHERE user_id = '00000000-0000-4000-8000-0000000000a1'),
    'alice owns rows in all four tables before the deletion');

DELETE FROM users WHERE id = '00000000-0000-4000-8000-0000000000a1';
SELECT is((SELECT count(*)::int FROM articles WHERE user_id = '00000000-0000-4000-8000-0000000000a1'), 0,
    'deleting a user deletes their articles');
SELECT is((SELECT count(*)::int FROM pipelines WHERE user_id = '00000000-0000-4000-8000-0000000000a1'), 0,
    'deleting a user deletes their pipelines');
SELECT is((SELECT count(*)::int FROM api_usage WHERE user_id = '00000000-0000-4000-8000-0000000000a1'), 0,
    'deleting a user deletes their usage');
SELECT is((SELECT count(*)::int FROM idempotency_keys WHERE user_id = '00000000-0000-4000-8000-0000000000a1'), 0,
    'deleting a user deletes their idempotency keys');
SELECT results_eq(
    $$SELECT tbl, count(*)::int FROM (
          SELECT 'articles' AS tbl FROM articles WHERE user_id = '00000000-0000-4000-8000-0000000000b1'
          UNION ALL SELECT 'pipelines' FROM pipelines WHERE user_id = '00000000-0000-4000-8000-0000000000b1'
          UNION ALL SELECT 'api_usage' FROM api_usage WHERE user_id = '00000000-0000-4000-8000-0000000000b1'
          UNION ALL SELECT 'idempotency_keys' FROM idempotency_keys WHERE user_id = '00000000-0000-4000-8000-0000000000b1'
      ) s GROUP BY tbl ORDER BY tbl$$,
    $$VALUES ('api_usage', 1), ('articles', 1), ('idempotency_keys', 1), ('pipelines', 1)$$,
    'another user''s rows are untouched');
SELECT is((SELECT count(*)::int FROM users), 1, 'only bob is left');

SELECT * FROM finish();
ROLLBACK;
