-- users.failed_password_count, failed_password_at: constraints.
BEGIN;
\ir _helpers.psql
SELECT plan(3);

INSERT INTO users (id, email, password_hash) VALUES
    ('00000000-0000-4000-8000-0000000000a1', 'alice@example.com', 'hash');

SELECT is((SELECT (failed_password_count, failed_password_at)::text FROM users
            WHERE id = '00000000-0000-4000-8000-0000000000a1'), '(0,)', 'a new user has no failures');
SELECT pg_temp.check_fails(
    $$UPDATE users SET failed_password_count = -1 WHERE id = '00000000-0000-4000-8000-0000000000a1'$$,
    'users', 'users_failed_password_count_check', 'a negative count');
SELECT lives_ok(
    $$UPDATE users SET failed_password_count = 5, failed_password_at = now()
       WHERE id = '00000000-0000-4000-8000-0000000000a1'$$,
    'a window of failures is accepted');

SELECT * FROM finish();
ROLLBACK;
