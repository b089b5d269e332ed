-- idempotency_keys: constraints.
BEGIN;
\ir _helpers.psql
SELECT plan(21);

INSERT INTO users (id, email, password_hash) VALUES
    ('00000000-0000-4000-8000-0000000000a1', 'alice@example.com', 'hash'),
    ('00000000-0000-4000-8000-0000000000b1', 'bob@example.com', 'hash');

-- A key of alice's with the given columns.
CREATE FUNCTION pg_temp.ins(cols text, vals text) RETURNS text LANGUAGE sql AS $$
    SELECT format('INSERT INTO idempotency_keys (user_id, %s) VALUES (%L, %s)',
                  cols, '00000000-0000-4000-8000-0000000000a1', vals)
$$;

SELECT lives_ok(
    pg_temp.ins('key, request_hash, status, response_body, response_headers',
                $$'retry-1', sha256('POST /api/v1/pipelines {}'), 201, '{"id":"x"}', 'Location: /x'$$),
    'a stored answer is accepted');
SELECT lives_ok(pg_temp.ins('key, request_hash', $$'in-flight', sha256('r')$$),
    'a key without an answer yet (status NULL) is accepted');
SELECT is((SELECT created_at FROM idempotency_keys WHERE key = 'retry-1'), now(), 'created_at defaults to now()');

SELECT pg_temp.unique_fails(pg_temp.ins('key, request_hash', $$'retry-1', sha256('other')$$),
    'idempotency_keys_pkey', 'the same key twice for one user');
SELECT lives_ok(
    $$INSERT INTO idempotency_keys (user_id, key, request_hash)
      VALUES ('00000000-0000-4000-8000-0000000000b1', 'retry-1', sha256('r'))$$,
    'another user may use the same key');
SELECT pg_temp.fk_fails(
    $$INSERT INTO idempotency_keys (user_id, key, request_hash)
      VALUES ('00000000-0000-4000-8000-00000000dead', 'k', sha256('r'))$$,
    'idempotency_keys', 'idempotency_keys_user_id_fkey', 'a key of a user that does not exist');
SELECT pg_temp.not_null_fails(pg_temp.ins('key, request_hash', $$'k', NULL$$),
    'idempotency_keys', 'request_hash', 'request_hash is required');

-- key: 1..255 printable ASCII characters
SELECT pg_temp.check_fails(pg_temp.ins('key, request_hash', format('%L, sha256(''r'')', k)),
    'idempotency_keys', 'idempotency_keys_key_check',
    format('key %s (%s characters)', to_json(left(k, 8)), char_length(k)))
  FROM unnest(ARRAY['', repeat('k', 256), E'tab\there', E'line\nbreak', 'clé', E'del\x7f']) AS k;
SELECT lives_ok(pg_temp.ins('key, request_hash', format('%L, sha256(''r'')', k)),
    format('key %s (%s characters) is accepted', to_json(left(k, 8)), char_length(k)))
  FROM unnest(ARRAY['k', repeat('k', 255), '~!@# $%^&*()_+{}|:"<>?`-=[]\;'',./']) AS k;

-- request_hash is a SHA-256
SELECT pg_temp.check_fails(pg_temp.ins('key, request_hash', $$'h', '\x00'::bytea$$),
    'idempotency_keys', 'idempotency_keys_request_hash_check', 'a 1-byte request_hash');
SELECT pg_temp.check_fails(pg_temp.ins('key, request_hash', $$'h', sha512('r')$$),
    'idempotency_keys', 'idempotency_keys_request_hash_check', 'a 64-byte request_hash');

-- status is an HTTP status
SELECT pg_temp.check_fails(pg_temp.ins('key, request_hash, status', format('%L, sha256(''r''), %s', 's' || s, s)),
    'idempotency_keys', 'idempotency_keys_status_check', 'status ' || s)
  FROM unnest(ARRAY[0, 99, 600]) AS s;

SELECT * FROM finish();
ROLLBACK;
