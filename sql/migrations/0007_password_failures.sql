-- 0007_password_failures.sql: a brake on guessing an account's password.
--
-- Applied once by `blogposter migrate`, inside a transaction the migrator
-- opens and commits (so no BEGIN/COMMIT here).
--
-- Every password check of an account (login, PUT /me/password, DELETE
-- /me) is counted here before it is made, and the count starts again when
-- the password is right. After 5 in a window of 15 minutes that starts
-- with the first, the checks are refused (429) until the window is over:
-- in the database, so the limit holds across workers and restarts.

ALTER TABLE users
    ADD COLUMN failed_password_count integer NOT NULL DEFAULT 0,
    ADD COLUMN failed_password_at    timestamptz,
    ADD CONSTRAINT users_failed_password_count_check
        CHECK (failed_password_count >= 0);

COMMENT ON COLUMN users.failed_password_count IS 'Password checks that failed (or are under way) in the window starting at failed_password_at.';
COMMENT ON COLUMN users.failed_password_at IS 'Start of the current window of failed password checks; NULL when none.';
