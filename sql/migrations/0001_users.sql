-- 0001_users.sql: accounts.
--
-- Applied once by `blogposter migrate`, inside a transaction the migrator
-- opens and commits (so no BEGIN/COMMIT here). Constraint names are given
-- explicitly: the application maps a 23505/23514 to an API error by
-- constraint name (PG_DIAG_CONSTRAINT_NAME), so they must not drift.

-- Shared by every table with an updated_at column.
CREATE FUNCTION bp_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION bp_touch_updated_at() IS
    'BEFORE UPDATE trigger: sets updated_at to the transaction time.';

CREATE TABLE users (
    id                     uuid          NOT NULL DEFAULT gen_random_uuid(),
    email                  text          NOT NULL,
    password_hash          text          NOT NULL,
    role                   text          NOT NULL DEFAULT 'user',
    is_active              boolean       NOT NULL DEFAULT true,
    token_version          integer       NOT NULL DEFAULT 0,
    api_key_hash           bytea,
    api_key_prefix         text,
    max_monthly_cost       numeric(12,4),
    max_articles_per_month integer,
    created_at             timestamptz   NOT NULL DEFAULT now(),
    updated_at             timestamptz   NOT NULL DEFAULT now(),

    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_api_key_hash_key UNIQUE (api_key_hash),

    -- The application trims and lower-cases before it writes; these only
    -- make sure nothing else can store an address login could never match.
    CONSTRAINT users_email_lower_check
        CHECK (email = lower(email)),
    CONSTRAINT users_email_length_check
        CHECK (char_length(email) BETWEEN 3 AND 254),
    CONSTRAINT users_email_format_check
        CHECK (email ~ '^[^@]+@[^@]+$'),
    CONSTRAINT users_role_check
        CHECK (role IN ('user', 'admin')),
    CONSTRAINT users_token_version_check
        CHECK (token_version >= 0),
    CONSTRAINT users_api_key_hash_check
        CHECK (octet_length(api_key_hash) = 32),
    CONSTRAINT users_api_key_prefix_check
        CHECK (char_length(api_key_prefix) = 8),
    CONSTRAINT users_api_key_pair_check
        CHECK ((api_key_hash IS NULL) = (api_key_prefix IS NULL)),
    CONSTRAINT users_max_monthly_cost_check
        CHECK (max_monthly_cost BETWEEN 0 AND 99999999.9999),
    CONSTRAINT users_max_articles_per_month_check
        CHECK (max_articles_per_month >= 0)
);

COMMENT ON TABLE users IS 'Accounts. Deleting a user deletes everything it owns (ON DELETE CASCADE).';
COMMENT ON COLUMN users.token_version IS 'The JWT "ver" claim; bumped to revoke every token of the user.';
COMMENT ON COLUMN users.api_key_hash IS 'SHA-256 of the API key; the key itself is never stored.';
COMMENT ON COLUMN users.api_key_prefix IS 'First 8 characters of the API key, for display; NULL exactly when api_key_hash is.';
COMMENT ON COLUMN users.max_monthly_cost IS 'Per-user override of MAX_MONTHLY_COST_PER_USER; NULL = the default.';
COMMENT ON COLUMN users.max_articles_per_month IS 'Per-user override of MAX_ARTICLES_PER_USER_PER_MONTH; NULL = the default.';

CREATE TRIGGER users_touch_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION bp_touch_updated_at();
