-- users: constraints, defaults, trigger.
BEGIN;
\ir _helpers.psql
SELECT plan(37);

INSERT INTO users (id, email, password_hash)
VALUES ('00000000-0000-4000-8000-0000000000a1', 'alice@example.com', 'hash');

-- Defaults
SELECT row_eq(
    $$SELECT role, is_active, token_version, api_key_hash, api_key_prefix,
             max_monthly_cost, max_articles_per_month, created_at = now(), updated_at = now()
        FROM users WHERE email = 'alice@example.com'$$,
    ROW('user'::text, true, 0, NULL::bytea, NULL::text, NULL::numeric, NULL::integer, true, true),
    'a new user gets the defaults');
SELECT lives_ok(
    $$INSERT INTO users (email, password_hash) VALUES ('b@example.com', 'hash')$$,
    'id defaults to a fresh UUID');
SELECT ok((SELECT id IS NOT NULL FROM users WHERE email = 'b@example.com'), 'the generated id is there');

-- NOT NULL
SELECT pg_temp.not_null_fails($$INSERT INTO users (email, password_hash) VALUES (NULL, 'h')$$,
    'users', 'email', 'email is required');
SELECT pg_temp.not_null_fails($$INSERT INTO users (email, password_hash) VALUES ('n@example.com', NULL)$$,
    'users', 'password_hash', 'password_hash is required');

-- email
SELECT pg_temp.unique_fails($$INSERT INTO users (email, password_hash) VALUES ('alice@example.com', 'h')$$,
    'users_email_key', 'a second account with the same email');
SELECT pg_temp.check_fails($$INSERT INTO users (email, password_hash) VALUES ('Alice@example.com', 'h')$$,
    'users', 'users_email_lower_check', 'an email with capitals');
SELECT pg_temp.check_fails($$INSERT INTO users (email, password_hash) VALUES ('alice.example.com', 'h')$$,
    'users', 'users_email_format_check', 'an email without @');
SELECT pg_temp.check_fails($$INSERT INTO users (email, password_hash) VALUES ('a@b@example.com', 'h')$$,
    'users', 'users_email_format_check', 'an email with two @');
SELECT pg_temp.check_fails($$INSERT INTO users (email, password_hash) VALUES ('@example.com', 'h')$$,
    'users', 'users_email_format_check', 'an email with nothing before @');
SELECT pg_temp.check_fails($$INSERT INTO users (email, password_hash) VALUES ('alice@', 'h')$$,
    'users', 'users_email_format_check', 'an email with nothing after @');
SELECT pg_temp.check_fails(
    format($$INSERT INTO users (email, password_hash) VALUES ('%s@example.com', 'h')$$, repeat('x', 243)),
    'users', 'users_email_length_check', 'a 255-character email');
SELECT lives_ok(
    format($$INSERT INTO users (email, password_hash) VALUES ('%s@example.com', 'h')$$, repeat('x', 242)),
    'a 254-character email is accepted');
SELECT lives_ok($$INSERT INTO users (email, password_hash) VALUES ('a@b', 'h')$$,
    'a 3-character email is accepted');

-- role
SELECT pg_temp.check_fails($$INSERT INTO users (email, password_hash, role) VALUES ('r@example.com', 'h', 'superuser')$$,
    'users', 'users_role_check', 'an unknown role');
SELECT pg_temp.check_fails($$INSERT INTO users (email, password_hash, role) VALUES ('r@example.com', 'h', 'Admin')$$,
    'users', 'users_role_check', 'a role in the wrong case');
SELECT lives_ok($$INSERT INTO users (email, password_hash, role) VALUES ('admin@example.com', 'h', 'admin')$$,
    'role admin is accepted');

-- token_version
SELECT pg_temp.check_fails($$UPDATE users SET token_version = -1 WHERE email = 'alice@example.com'$$,
    'users', 'users_token_version_check', 'a negative token_version');

-- API key: a 32-byte hash and an 8-character prefix, both or neither
SELECT lives_ok(
    $$UPDATE users SET api_key_hash = sha256('key-a'), api_key_prefix = 'bp_Ab12C'
       WHERE email = 'alice@example.com'$$,
    'a SHA-256 hash with its 8-character prefix is accepted');
SELECT pg_temp.unique_fails(
    $$UPDATE users SET api_key_hash = sha256('key-a'), api_key_prefix = 'bp_Ab12C' WHERE email = 'b@example.com'$$,
    'users_api_key_hash_key', 'two users with the same API key hash');
SELECT pg_temp.check_fails(
    $$UPDATE users SET api_key_hash = substring(sha256('k') FROM 1 FOR 31), api_key_prefix = 'bp_Ab12C' WHERE email = 'b@example.com'$$,
    'users', 'users_api_key_hash_check', 'a 31-byte API key hash');
SELECT pg_temp.check_fails(
    $$UPDATE users SET api_key_hash = sha512('k'), api_key_prefix = 'bp_Ab12C' WHERE email = 'b@example.com'$$,
    'users', 'users_api_key_hash_check', 'a 64-byte API key hash');
SELECT pg_temp.check_fails(
    $$UPDATE users SET api_key_hash = sha256('k'), api_key_prefix = 'bp_Ab12' WHERE email = 'b@example.com'$$,
    'users', 'users_api_key_prefix_check', 'a 7-character API key prefix');
SELECT pg_temp.check_fails(
    $$UPDATE users SET api_key_hash = sha256('k'), api_key_prefix = 'bp_Ab12CD' WHERE email = 'b@example.com'$$,
    'users', 'users_api_key_prefix_check', 'a 9-character API key prefix');
SELECT pg_temp.check_fails(
    $$UPDATE users SET api_key_hash = sha256('k') WHERE email = 'b@example.com'$$,
    'users', 'users_api_key_pair_check', 'an API key hash without a prefix');
SELECT pg_temp.check_fails(
    $$UPDATE users SET api_key_prefix = 'bp_Ab12C' WHERE email = 'b@example.com'$$,
    'users', 'users_api_key_pair_check', 'an API key prefix without a hash');
SELECT lives_ok(
    $$UPDATE users SET api_key_hash = NULL, api_key_prefix = NULL WHERE email = 'alice@example.com'$$,
    'an API key can be removed (both columns NULL)');

-- Limit overrides
SELECT pg_temp.check_fails($$UPDATE users SET max_monthly_cost = -0.0001 WHERE email = 'b@example.com'$$,
    'users', 'users_max_monthly_cost_check', 'a negative cost limit');
SELECT lives_ok($$UPDATE users SET max_monthly_cost = 99999999.9999 WHERE email = 'b@example.com'$$,
    'the largest cost limit is accepted');
SELECT lives_ok($$UPDATE users SET max_monthly_cost = 0 WHERE email = 'b@example.com'$$,
    'a cost limit of 0 is accepted');
SELECT is((SELECT max_monthly_cost::text FROM users WHERE email = 'b@example.com'), '0.0000',
    'money keeps its 4 decimals');
SELECT pg_temp.check_fails($$UPDATE users SET max_articles_per_month = -1 WHERE email = 'b@example.com'$$,
    'users', 'users_max_articles_per_month_check', 'a negative article limit');
SELECT lives_ok($$UPDATE users SET max_articles_per_month = 0 WHERE email = 'b@example.com'$$,
    'an article limit of 0 is accepted');

-- updated_at follows every update; created_at does not move
UPDATE users SET created_at = '2020-01-01Z', updated_at = '2020-01-01Z' WHERE email = 'alice@example.com';
SELECT is((SELECT updated_at FROM users WHERE email = 'alice@example.com'), now(),
    'an UPDATE sets updated_at to now(), whatever it says');
SELECT is((SELECT created_at FROM users WHERE email = 'alice@example.com'), '2020-01-01Z'::timestamptz,
    'created_at is not touched by the trigger');
UPDATE users SET is_active = false WHERE email = 'b@example.com';
SELECT is((SELECT is_active FROM users WHERE email = 'b@example.com'), false, 'a user can be deactivated');
SELECT is((SELECT count(*)::int FROM users), 5, 'only the accepted rows are there');

SELECT * FROM finish();
ROLLBACK;
