-- 0006_revoked_tokens.sql: tokens signed out one by one.
--
-- Applied once by `blogposter migrate`, inside a transaction the migrator
-- opens and commits (so no BEGIN/COMMIT here).
--
-- POST /api/v1/auth/logout revokes the token it was called with: its jti
-- claim is kept here until the token expires, and the credential check of
-- every request refuses a token whose jti is here (in the same query as
-- the user's own check). Each sign-out also deletes up to 100 expired
-- rows, so the table holds about the tokens signed out within JWT_TTL.

CREATE TABLE revoked_tokens (
    jti        text        NOT NULL,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,

    CONSTRAINT revoked_tokens_pkey PRIMARY KEY (jti),
    -- the application's jti: 32 hex characters
    CONSTRAINT revoked_tokens_jti_check
        CHECK (char_length(jti) BETWEEN 1 AND 64)
);

-- The purge takes the oldest expired rows.
CREATE INDEX revoked_tokens_expires_at_idx
    ON revoked_tokens (expires_at);
-- An account's rows go with it (ON DELETE CASCADE) without a scan.
CREATE INDEX revoked_tokens_user_id_idx
    ON revoked_tokens (user_id);

COMMENT ON TABLE revoked_tokens IS 'Tokens signed out one by one (their jti claim), refused until they expire.';
