-- Structure: tables, columns, types, defaults, keys, indexes, functions.
-- Run with pg_prove against a database holding sql/migrations/*.sql and
-- the pgtap extension (see t/pgtap.t).
BEGIN;
SELECT plan(130);

-- Tables and their exact columns -------------------------------------------

SELECT has_table(t) FROM unnest(ARRAY['users', 'articles', 'pipelines', 'api_usage', 'idempotency_keys']) AS t;

SELECT columns_are('users', ARRAY[
    'id', 'email', 'password_hash', 'role', 'is_active', 'token_version',
    'api_key_hash', 'api_key_prefix', 'max_monthly_cost', 'max_articles_per_month',
    'created_at', 'updated_at', 'failed_password_count', 'failed_password_at']);
SELECT columns_are('articles', ARRAY[
    'id', 'user_id', 'title', 'slug', 'content_markdown', 'content_html',
    'meta_description', 'primary_keyword', 'seo_score', 'status', 'wp_post_id',
    'wp_url', 'embedding', 'created_at', 'updated_at']);
SELECT columns_are('pipelines', ARRAY[
    'id', 'user_id', 'article_id', 'status', 'estimated_cost', 'total_cost',
    'started_at', 'completed_at', 'error_message']);
SELECT columns_are('api_usage', ARRAY[
    'user_id', 'month', 'articles_generated', 'total_cost']);
SELECT columns_are('idempotency_keys', ARRAY[
    'user_id', 'key', 'request_hash', 'status', 'response_body',
    'response_headers', 'created_at']);

-- Types and nullability: (table, column, type, not null) ----------------------

CREATE TEMP TABLE expected_columns (tbl name, col name, typ text, not_null boolean);
INSERT INTO expected_columns VALUES
    ('users', 'id', 'uuid', true),
    ('users', 'email', 'text', true),
    ('users', 'password_hash', 'text', true),
    ('users', 'role', 'text', true),
    ('users', 'is_active', 'boolean', true),
    ('users', 'token_version', 'integer', true),
    ('users', 'api_key_hash', 'bytea', false),
    ('users', 'api_key_prefix', 'text', false),
    ('users', 'max_monthly_cost', 'numeric(12,4)', false),
    ('users', 'max_articles_per_month', 'integer', false),
    ('users', 'created_at', 'timestamp with time zone', true),
    ('users', 'updated_at', 'timestamp with time zone', true),
    ('users', 'failed_password_count', 'integer', true),
    ('users', 'failed_password_at', 'timestamp with time zone', false),
    ('articles', 'id', 'uuid', true),
    ('articles', 'user_id', 'uuid', false),
    ('articles', 'title', 'text', true),
    ('articles', 'slug', 'text', true),
    ('articles', 'content_markdown', 'text', false),
    ('articles', 'content_html', 'text', false),
    ('articles', 'meta_description', 'text', false),
    ('articles', 'primary_keyword', 'text', false),
    ('articles', 'seo_score', 'double precision', false),
    ('articles', 'status', 'text', true),
    ('articles', 'wp_post_id', 'bigint', false),
    ('articles', 'wp_url', 'text', false),
    ('articles', 'created_at', 'timestamp with time zone', true),
    ('articles', 'updated_at', 'timestamp with time zone', true),
    ('pipelines', 'id', 'uuid', true),
    ('pipelines', 'user_id', 'uuid', true),
    ('pipelines', 'article_id', 'uuid', false),
    ('pipelines', 'status', 'text', true),
    ('pipelines', 'estimated_cost', 'numeric(12,4)', true),
    ('pipelines', 'total_cost', 'numeric(12,4)', true),
    ('pipelines', 'started_at', 'timestamp with time zone', true),
    ('pipelines', 'completed_at', 'timestamp with time zone', false),
    ('pipelines', 'error_message', 'text', false),
    ('api_usage', 'user_id', 'uuid', true),
    ('api_usage', 'month', 'date', true),
    ('api_usage', 'articles_generated', 'integer', true),
    ('api_usage', 'total_cost', 'numeric(14,4)', true),
    ('idempotency_keys', 'user_id', 'uuid', true),
    ('idempotency_keys', 'key', 'text', true),
    ('idempotency_keys', 'request_hash', 'bytea', true),
    ('idempotency_keys', 'status', 'integer', false),
    ('idempotency_keys', 'response_body', 'text', false),
    ('idempotency_keys', 'response_headers', 'text', false),
    ('idempotency_keys', 'created_at', 'timestamp with time zone', true);

-- 48 columns: a type test each
SELECT col_type_is(tbl, col, typ) FROM expected_columns ORDER BY tbl, col;
-- and one test for the nullability of all of them
SELECT is_empty(
    $$SELECT e.tbl, e.col, e.not_null
        FROM expected_columns e
        JOIN pg_attribute a ON a.attrelid = e.tbl::regclass AND a.attname = e.col
       WHERE a.attnotnull <> e.not_null$$,
    'NOT NULL exactly on the specified columns');

-- (by type name: pgvector's schema may not be public)
SELECT is((SELECT format_type(t.oid, NULL) FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
            WHERE a.attrelid = 'articles'::regclass AND a.attname = 'embedding' AND t.typname IN ('vector', '_float4')),
          CASE bp_embedding_kind() WHEN 'real[]' THEN 'real[]' ELSE
              (SELECT format_type(t.oid, NULL) FROM pg_type t JOIN pg_extension e ON e.extnamespace = t.typnamespace
                WHERE e.extname = 'vector' AND t.typname = 'vector') END,
          'articles.embedding is a ' || bp_embedding_kind());
SELECT col_is_null('articles', 'embedding');

-- Defaults -----------------------------------------------------------------

SELECT col_default_is('users', 'id', 'gen_random_uuid()');
SELECT col_default_is('users', 'role', 'user');
SELECT col_default_is('users', 'is_active', 'true');
SELECT col_default_is('users', 'token_version', '0');
SELECT col_default_is('users', 'created_at', 'now()');
SELECT col_default_is('users', 'updated_at', 'now()');
SELECT col_default_is('users', 'failed_password_count', '0');
SELECT col_default_is('articles', 'id', 'gen_random_uuid()');
SELECT col_default_is('articles', 'status', 'draft');
SELECT col_default_is('articles', 'created_at', 'now()');
SELECT col_default_is('articles', 'updated_at', 'now()');
SELECT col_default_is('pipelines', 'id', 'gen_random_uuid()');
SELECT col_default_is('pipelines', 'status', 'running');
SELECT col_default_is('pipelines', 'estimated_cost', '0');
SELECT col_default_is('pipelines', 'total_cost', '0');
SELECT col_default_is('pipelines', 'started_at', 'now()');
SELECT col_hasnt_default('pipelines', 'completed_at');
SELECT col_default_is('api_usage', 'articles_generated', '0');
SELECT col_default_is('api_usage', 'total_cost', '0');
SELECT col_default_is('idempotency_keys', 'created_at', 'now()');

-- Keys -----------------------------------------------------------------------

SELECT col_is_pk('users', 'id');
SELECT col_is_pk('articles', 'id');
SELECT col_is_pk('pipelines', 'id');
SELECT col_is_pk('api_usage', ARRAY['user_id', 'month']);
SELECT col_is_pk('idempotency_keys', ARRAY['user_id', 'key']);
SELECT col_is_unique('users', 'email');
SELECT col_is_unique('users', 'api_key_hash');
SELECT col_is_unique('articles', ARRAY['user_id', 'slug']);

SELECT fk_ok('articles', 'user_id', 'users', 'id');
SELECT fk_ok('pipelines', 'user_id', 'users', 'id');
SELECT fk_ok('pipelines', ARRAY['article_id', 'user_id'], 'articles', ARRAY['id', 'user_id']);
SELECT fk_ok('api_usage', 'user_id', 'users', 'id');
SELECT fk_ok('idempotency_keys', 'user_id', 'users', 'id');

-- Every foreign key and what happens on delete (c = cascade, n = set null),
-- and for the set null one, which column is cleared.
SELECT set_eq(
    $$SELECT conrelid::regclass::text, conname::text, confdeltype::text,
             coalesce((SELECT array_agg(attname ORDER BY attname)
                         FROM pg_attribute
                        WHERE attrelid = c.conrelid AND attnum = ANY (c.confdelsetcols)),
                      '{}')::text
        FROM pg_constraint c
       WHERE contype = 'f' AND connamespace = 'public'::regnamespace$$,
    $$VALUES ('articles', 'articles_user_id_fkey', 'c', '{}'),
             ('pipelines', 'pipelines_user_id_fkey', 'c', '{}'),
             ('pipelines', 'pipelines_article_id_fkey', 'n', '{article_id}'),
             ('api_usage', 'api_usage_user_id_fkey', 'c', '{}'),
             ('idempotency_keys', 'idempotency_keys_user_id_fkey', 'c', '{}'),
             ('revoked_tokens', 'revoked_tokens_user_id_fkey', 'c', '{}')$$,
    'foreign keys: users cascade everywhere, article deletion clears pipelines.article_id only');

-- Indexes ----------------------------------------------------------------------

SELECT indexes_are('users', ARRAY['users_pkey', 'users_email_key', 'users_api_key_hash_key']);
SELECT indexes_are('articles', ARRAY['articles_pkey', 'articles_user_id_slug_key', 'articles_id_user_id_key',
                                     'articles_user_created_idx', 'articles_user_status_created_idx',
                                     'articles_title_keys_idx']);
SELECT indexes_are('pipelines', ARRAY['pipelines_pkey', 'pipelines_user_started_idx', 'pipelines_user_status_started_idx',
                                      'pipelines_running_idx', 'pipelines_article_id_idx']);
SELECT indexes_are('api_usage', ARRAY['api_usage_pkey']);
SELECT indexes_are('idempotency_keys', ARRAY['idempotency_keys_pkey', 'idempotency_keys_created_at_idx']);

SELECT is(pg_get_indexdef(i::regclass), d, 'index ' || i)
  FROM (VALUES
    ('articles_user_created_idx',
     'CREATE INDEX articles_user_created_idx ON public.articles USING btree (user_id, created_at DESC, id DESC)'),
    ('articles_user_status_created_idx',
     'CREATE INDEX articles_user_status_created_idx ON public.articles USING btree (user_id, status, created_at DESC, id DESC)'),
    ('articles_title_keys_idx',
     'CREATE INDEX articles_title_keys_idx ON public.articles USING gin (bp_title_keys(user_id, title))'),
    ('pipelines_user_started_idx',
     'CREATE INDEX pipelines_user_started_idx ON public.pipelines USING btree (user_id, started_at DESC, id DESC)'),
    ('pipelines_user_status_started_idx',
     'CREATE INDEX pipelines_user_status_started_idx ON public.pipelines USING btree (user_id, status, started_at DESC, id DESC)'),
    ('pipelines_running_idx',
     'CREATE INDEX pipelines_running_idx ON public.pipelines USING btree (user_id, started_at) WHERE (status = ''running''::text)'),
    ('pipelines_article_id_idx',
     'CREATE INDEX pipelines_article_id_idx ON public.pipelines USING btree (article_id)'),
    ('idempotency_keys_created_at_idx',
     'CREATE INDEX idempotency_keys_created_at_idx ON public.idempotency_keys USING btree (created_at)')
  ) AS v(i, d);


-- Triggers and functions -----------------------------------------------------------

SELECT trigger_is('users', 'users_touch_updated_at', 'bp_touch_updated_at');
SELECT trigger_is('articles', 'articles_touch_updated_at', 'bp_touch_updated_at');

SELECT has_function('bp_title_keys', ARRAY['uuid', 'text']);
SELECT volatility_is('bp_title_keys', ARRAY['uuid', 'text'], 'immutable');
SELECT has_function('bp_title_search_keys', ARRAY['uuid', 'text']);
SELECT volatility_is('bp_title_search_keys', ARRAY['uuid', 'text'], 'immutable');

SELECT has_function('bp_credentials_denied', '{}'::name[]);
SELECT throws_ok('SELECT bp_credentials_denied()', '28000',
                 'the credentials are no longer valid',
                 'bp_credentials_denied() fails with SQLSTATE 28000 (what a credential check sent with writes relies on)');

SELECT has_function('bp_embedding_in', ARRAY['text']);
SELECT volatility_is('bp_embedding_in', ARRAY['text'], 'immutable');
SELECT is_strict('bp_embedding_in', ARRAY['text']);
SELECT has_function('bp_embedding_kind', '{}'::name[]);
SELECT ok(bp_embedding_kind() IN ('pgvector', 'real[]'), 'bp_embedding_kind() is pgvector or real[]');
SELECT is(bp_embedding_kind() = 'pgvector',
          EXISTS (SELECT FROM pg_extension WHERE extname = 'vector'),
          'bp_embedding_kind() says pgvector exactly when the extension is installed');
SELECT diag('embeddings are stored as ' || bp_embedding_kind());

-- The real[] fallback's distance function and operator. In plpgsql, so
-- that nothing naming them is even parsed when pgvector is used.
CREATE FUNCTION pg_temp.fallback_structure() RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
    IF bp_embedding_kind() <> 'real[]' THEN
        RETURN NEXT skip('pgvector is used: no real[] fallback to check', 8);
        RETURN;
    END IF;
    RETURN NEXT has_function('bp_cosine_distance', ARRAY['real[]', 'real[]']);
    RETURN NEXT function_returns('bp_cosine_distance', ARRAY['real[]', 'real[]'], 'double precision');
    RETURN NEXT volatility_is('bp_cosine_distance', ARRAY['real[]', 'real[]'], 'immutable');
    RETURN NEXT is_strict('bp_cosine_distance', ARRAY['real[]', 'real[]']);
    RETURN NEXT is((SELECT proparallel::text FROM pg_proc
                     WHERE oid = to_regprocedure('bp_cosine_distance(real[], real[])')),
                   's', 'bp_cosine_distance is PARALLEL SAFE');
    RETURN NEXT has_operator('real[]', '<=>', 'real[]', 'double precision');
    RETURN NEXT is((SELECT oprcode::text FROM pg_operator
                     WHERE oprname = '<=>' AND oprleft = 'real[]'::regtype AND oprright = 'real[]'::regtype),
                   'bp_cosine_distance', '<=> on real[] is bp_cosine_distance');
    RETURN NEXT function_returns('bp_embedding_in', ARRAY['text'], 'real[]');
END
$$;
SELECT * FROM pg_temp.fallback_structure();

SELECT * FROM finish();
ROLLBACK;
