-- 0003_pipelines_usage.sql: pipeline runs and monthly usage.
--
-- Applied once by `blogposter migrate`, inside a transaction the migrator
-- opens and commits (so no BEGIN/COMMIT here).

CREATE TABLE pipelines (
    id             uuid          NOT NULL DEFAULT gen_random_uuid(),
    user_id        uuid          NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    article_id     uuid,
    status         text          NOT NULL DEFAULT 'running',
    estimated_cost numeric(12,4) NOT NULL DEFAULT 0,
    total_cost     numeric(12,4) NOT NULL DEFAULT 0,
    started_at     timestamptz   NOT NULL DEFAULT now(),
    completed_at   timestamptz,
    error_message  text,

    CONSTRAINT pipelines_pkey PRIMARY KEY (id),
    -- The article must be one of the pipeline's own user's articles.
    -- Deleting the article clears article_id only (PostgreSQL 15 column
    -- list); the run and its cost stay in the history. Named as the
    -- one-column foreign key would be.
    CONSTRAINT pipelines_article_id_fkey
        FOREIGN KEY (article_id, user_id) REFERENCES articles (id, user_id)
        ON DELETE SET NULL (article_id),

    CONSTRAINT pipelines_status_check
        CHECK (status IN ('running', 'completed', 'failed')),
    CONSTRAINT pipelines_estimated_cost_check
        CHECK (estimated_cost BETWEEN 0 AND 999999.9999),
    CONSTRAINT pipelines_total_cost_check
        CHECK (total_cost BETWEEN 0 AND 999999.9999),
    -- A run has ended exactly when it has an end time.
    CONSTRAINT pipelines_completed_at_check
        CHECK ((status = 'running') = (completed_at IS NULL))
);

-- Newest-first keyset pagination, with and without ?status=.
CREATE INDEX pipelines_user_started_idx
    ON pipelines (user_id, started_at DESC, id DESC);
CREATE INDEX pipelines_user_status_started_idx
    ON pipelines (user_id, status, started_at DESC, id DESC);
-- The runs holding a slot: running, started within PIPELINE_TIMEOUT_MINUTES.
CREATE INDEX pipelines_running_idx
    ON pipelines (user_id, started_at) WHERE status = 'running';
-- For ON DELETE SET NULL when an article goes.
CREATE INDEX pipelines_article_id_idx
    ON pipelines (article_id);

COMMENT ON TABLE pipelines IS 'Runs of the article generator, one row per run.';
COMMENT ON COLUMN pipelines.estimated_cost IS 'Reserved against the monthly cost limit while the run is running; kept after it ends.';
COMMENT ON COLUMN pipelines.total_cost IS 'Real cost, set when the run ends and added to api_usage of the month it ends in.';

CREATE TABLE api_usage (
    user_id            uuid          NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    month              date          NOT NULL,
    articles_generated integer       NOT NULL DEFAULT 0,
    -- A sum of numeric(12,4) costs, hence the wider precision.
    total_cost         numeric(14,4) NOT NULL DEFAULT 0,

    CONSTRAINT api_usage_pkey PRIMARY KEY (user_id, month),
    -- The first day of a (UTC) month; infinity is not a month.
    CONSTRAINT api_usage_month_check
        CHECK (isfinite(month) AND month = date_trunc('month', month::timestamp)::date),
    CONSTRAINT api_usage_articles_generated_check
        CHECK (articles_generated >= 0),
    CONSTRAINT api_usage_total_cost_check
        CHECK (total_cost >= 0)
);

COMMENT ON TABLE api_usage IS 'Per user and UTC month: completed runs and the cost of every ended run.';
COMMENT ON COLUMN api_usage.month IS 'First day of the month, e.g. 2026-11-01 for 2026-11.';
