-- 0002_articles.sql: articles, and the embedding store.
--
-- Applied once by `blogposter migrate`, inside a transaction the migrator
-- opens and commits (so no BEGIN/COMMIT here).

CREATE TABLE articles (
    id               uuid             NOT NULL DEFAULT gen_random_uuid(),
    -- NULL only for legacy imports not yet given an owner (assign-orphans).
    user_id          uuid             REFERENCES users (id) ON DELETE CASCADE,
    title            text             NOT NULL,
    slug             text             NOT NULL,
    content_markdown text,
    content_html     text,
    meta_description text,
    primary_keyword  text,
    seo_score        double precision,
    status           text             NOT NULL DEFAULT 'draft',
    wp_post_id       bigint,
    wp_url           text,
    -- embedding: added below, its type depends on whether pgvector exists.
    created_at       timestamptz      NOT NULL DEFAULT now(),
    updated_at       timestamptz      NOT NULL DEFAULT now(),

    CONSTRAINT articles_pkey PRIMARY KEY (id),
    CONSTRAINT articles_user_id_slug_key UNIQUE (user_id, slug),
    -- Target of pipelines' (article_id, user_id) foreign key, which makes
    -- sure a pipeline can only ever point at an article of its own user.
    CONSTRAINT articles_id_user_id_key UNIQUE (id, user_id),

    CONSTRAINT articles_title_check
        CHECK (char_length(title) BETWEEN 1 AND 500),
    CONSTRAINT articles_slug_check
        CHECK (slug ~ '^[a-z0-9-]+$' AND char_length(slug) <= 500),
    CONSTRAINT articles_meta_description_check
        CHECK (char_length(meta_description) <= 320),
    CONSTRAINT articles_primary_keyword_check
        CHECK (char_length(primary_keyword) <= 100),
    -- NaN and infinities fail this too (NaN sorts above every number).
    CONSTRAINT articles_seo_score_check
        CHECK (seo_score BETWEEN 0 AND 100),
    CONSTRAINT articles_status_check
        CHECK (status IN ('draft', 'scheduled', 'published', 'archived')),
    CONSTRAINT articles_wp_url_check
        CHECK (wp_url ~ '^https?://')
);

-- Newest-first keyset pagination, with and without ?status=.
CREATE INDEX articles_user_created_idx
    ON articles (user_id, created_at DESC, id DESC);
CREATE INDEX articles_user_status_created_idx
    ON articles (user_id, status, created_at DESC, id DESC);

CREATE TRIGGER articles_touch_updated_at
    BEFORE UPDATE ON articles
    FOR EACH ROW EXECUTE FUNCTION bp_touch_updated_at();

COMMENT ON TABLE articles IS 'Articles, each owned by one user (user_id NULL: legacy import without an owner yet).';

-- Embeddings.
--
-- pgvector when `CREATE EXTENSION vector` works here, otherwise real[]
-- with the same SQL surface, so the application's statements are identical
-- on both:
--   articles.embedding             the column (vector, or real[])
--   bp_embedding_in(text)          '[0.1,0.2,...]' -> the column's type
--   a.embedding <=> b.embedding    cosine distance, double precision
--   bp_embedding_kind()            'pgvector' or 'real[]'
-- The dimension is not fixed in the schema: the application checks it
-- against EMBEDDING_DIM.
DO $migration$
DECLARE
    vector_schema name;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS vector;
    EXCEPTION WHEN OTHERS THEN
        -- Not installed on this server (0A000), or this role may not
        -- create it (42501): fall back, and say why.
        RAISE NOTICE 'pgvector unavailable (%: %); embeddings are stored as real[]',
            SQLSTATE, SQLERRM;
    END;

    SELECT n.nspname INTO vector_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'vector';

    IF vector_schema IS NOT NULL THEN
        -- pgvector. Its type is schema-qualified in case a DBA installed
        -- the extension outside public; its <=> is cosine distance.
        EXECUTE format('ALTER TABLE articles ADD COLUMN embedding %I.vector',
                       vector_schema);
        EXECUTE format($f$
            CREATE FUNCTION bp_embedding_in(text) RETURNS %1$I.vector
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            AS 'SELECT $1::%1$I.vector'
        $f$, vector_schema);
        EXECUTE $f$
            CREATE FUNCTION bp_embedding_kind() RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS 'SELECT ''pgvector''::text'
        $f$;
    ELSE
        -- real[]: a non-empty one-dimensional array of finite numbers,
        -- which is what pgvector's type guarantees by itself.
        EXECUTE $f$
            ALTER TABLE articles
                ADD COLUMN embedding real[],
                ADD CONSTRAINT articles_embedding_check CHECK (
                    cardinality(embedding) >= 1
                    AND array_ndims(embedding) = 1
                    AND array_lower(embedding, 1) = 1
                    AND array_position(embedding, NULL) IS NULL
                    AND NOT embedding && '{NaN,Infinity,-Infinity}'::real[])
        $f$;

        -- Cosine distance, 1 - a.b / (|a| |b|), computed in double
        -- precision and clamped to [0, 2] as pgvector does. NULL when the
        -- lengths differ or either vector has norm 0.
        -- Plain SQL zipping both arrays with a two-argument unnest: about
        -- 0.21 ms per pair of 1536-dim vectors, against 0.28 ms for a
        -- plpgsql loop and 0.48 ms for a join of two unnest WITH ORDINALITY.
        EXECUTE $f$
            CREATE FUNCTION bp_cosine_distance(a real[], b real[])
            RETURNS double precision
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $body$
                SELECT CASE WHEN cardinality(a) = cardinality(b) THEN (
                    SELECT 1 - greatest(-1, least(1, s.dot / sqrt(s.na * s.nb)))
                      FROM (SELECT sum(x::float8 * y) AS dot,
                                   sum(x::float8 * x) AS na,
                                   sum(y::float8 * y) AS nb
                              FROM unnest(a, b) AS t(x, y)) AS s
                     WHERE s.na > 0 AND s.nb > 0)
                END
            $body$
        $f$;
        EXECUTE $f$
            CREATE OPERATOR <=> (
                LEFTARG = real[],
                RIGHTARG = real[],
                FUNCTION = bp_cosine_distance,
                COMMUTATOR = <=>
            )
        $f$;

        -- Accepts what pgvector's input accepts ('[1,2.5,-3e-2]', blanks
        -- allowed) and refuses what it refuses, with the same SQLSTATEs:
        -- 22P02 for a malformed literal, 22000 for no element, NaN or an
        -- infinity.
        EXECUTE $f$
            CREATE FUNCTION bp_embedding_in(text) RETURNS real[]
            LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $body$
            DECLARE
                r real[];
            BEGIN
                IF $1 !~ '^\s*\[[^][{}"\\]*\]\s*$' THEN
                    RAISE EXCEPTION 'malformed embedding literal: "%"', left($1, 40)
                        USING ERRCODE = 'invalid_text_representation',
                              HINT = 'An embedding is written [x1,x2,...].';
                END IF;
                r := ('{' || substring($1 FROM '\[(.*)\]') || '}')::real[];
                IF cardinality(r) = 0 THEN
                    RAISE EXCEPTION 'embedding must have at least 1 dimension'
                        USING ERRCODE = 'data_exception';
                END IF;
                IF array_position(r, NULL) IS NOT NULL THEN
                    RAISE EXCEPTION 'malformed embedding literal: "%"', left($1, 40)
                        USING ERRCODE = 'invalid_text_representation',
                              DETAIL = 'NULL is not a number.';
                END IF;
                IF r && '{NaN,Infinity,-Infinity}'::real[] THEN
                    RAISE EXCEPTION 'NaN or infinite value not allowed in embedding'
                        USING ERRCODE = 'data_exception';
                END IF;
                RETURN r;
            END
            $body$
        $f$;
        EXECUTE $f$
            CREATE FUNCTION bp_embedding_kind() RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS 'SELECT ''real[]''::text'
        $f$;
    END IF;
END
$migration$;

COMMENT ON COLUMN articles.embedding IS
    'pgvector vector, or real[] where pgvector is unavailable (see bp_embedding_kind()); write with bp_embedding_in(text), compare with <=> (cosine distance).';
COMMENT ON FUNCTION bp_embedding_in(text) IS
    'Text ''[x1,x2,...]'' to the type of articles.embedding.';
COMMENT ON FUNCTION bp_embedding_kind() IS
    'How embeddings are stored on this server: ''pgvector'' or ''real[]''.';
