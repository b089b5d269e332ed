-- 0004_idempotency.sql: stored answers for Idempotency-Key.
--
-- Applied once by `blogposter migrate`, inside a transaction the migrator
-- opens and commits (so no BEGIN/COMMIT here).

CREATE TABLE idempotency_keys (
    user_id          uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key              text        NOT NULL,
    request_hash     bytea       NOT NULL,
    status           integer,
    response_body    text,
    response_headers text,
    created_at       timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key),
    -- API.md: 1..255 printable ASCII characters.
    CONSTRAINT idempotency_keys_key_check
        CHECK (char_length(key) BETWEEN 1 AND 255 AND key ~ '^[ -~]+$'),
    -- SHA-256 of method, path and body.
    CONSTRAINT idempotency_keys_request_hash_check
        CHECK (octet_length(request_hash) = 32),
    CONSTRAINT idempotency_keys_status_check
        CHECK (status BETWEEN 100 AND 599)
);

-- Expiry: keys older than 24 hours are deleted.
CREATE INDEX idempotency_keys_created_at_idx
    ON idempotency_keys (created_at);

COMMENT ON TABLE idempotency_keys IS 'First successful answer to a request with an Idempotency-Key, per user, for 24 hours.';
COMMENT ON COLUMN idempotency_keys.request_hash IS 'SHA-256 of method + path + body: the same key with another request is a 409.';
