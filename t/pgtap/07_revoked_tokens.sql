-- revoked_tokens: structure and constraints.
BEGIN;
\ir _helpers.psql
SELECT plan(14);

SELECT has_table('revoked_tokens');
SELECT columns_are('revoked_tokens', ARRAY['jti', 'user_id', 'expires_at']);
SELECT col_type_is('revoked_tokens', 'jti', 'text');
SELECT col_type_is('revoked_tokens', 'user_id', 'uuid');
SELECT col_type_is('revoked_tokens', 'expires_at', 'timestamp with time zone');
SELECT col_is_pk('revoked_tokens', 'jti');
SELECT indexes_are('revoked_tokens', ARRAY['revoked_tokens_pkey', 'revoked_tokens_expires_at_idx',
                                           'revoked_tokens_user_id_idx']);

INSERT INTO users (id, email, password_hash) VALUES
    ('00000000-0000-4000-8000-0000000000a1', 'alice@example.com', 'hash');

SELECT lives_ok(
    $$INSERT INTO revoked_tokens (jti, user_id, expires_at)
      VALUES (md5('t1'), '00000000-0000-4000-8000-0000000000a1', now() + interval '7 days')$$,
    'a revoked token is accepted');
SELECT pg_temp.unique_fails(
    $$INSERT INTO revoked_tokens (jti, user_id, expires_at)
      VALUES (md5('t1'), '00000000-0000-4000-8000-0000000000a1', now())$$,
    'revoked_tokens_pkey', 'the same jti twice');
SELECT pg_temp.check_fails(
    $$INSERT INTO revoked_tokens (jti, user_id, expires_at)
      VALUES ('', '00000000-0000-4000-8000-0000000000a1', now())$$,
    'revoked_tokens', 'revoked_tokens_jti_check', 'an empty jti');
SELECT pg_temp.fk_fails(
    $$INSERT INTO revoked_tokens (jti, user_id, expires_at)
      VALUES ('x', '00000000-0000-4000-8000-00000000dead', now())$$,
    'revoked_tokens', 'revoked_tokens_user_id_fkey', 'a token of a user that does not exist');
SELECT pg_temp.not_null_fails(
    $$INSERT INTO revoked_tokens (jti, user_id) VALUES ('y', '00000000-0000-4000-8000-0000000000a1')$$,
    'revoked_tokens', 'expires_at', 'expires_at is required');
SELECT lives_ok($$DELETE FROM users WHERE id = '00000000-0000-4000-8000-0000000000a1'$$, 'the user is deleted');
SELECT is_empty($$SELECT 1 FROM revoked_tokens$$, 'and their revoked tokens with them');

SELECT * FROM finish();
ROLLBACK;
