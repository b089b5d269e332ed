-- Search of a user's articles by title (GET /api/v1/articles?q=): a
-- trigram index on the title, for title ILIKE '%q%'.
--
-- pg_trgm comes with PostgreSQL (postgresql-contrib, part of Debian's
-- postgresql-15) and is a trusted extension since PostgreSQL 13: the
-- database's owner can create it without being a superuser. Where it
-- cannot be created, the search still works, by filtering the user's
-- articles through articles_user_created_idx: same results, slower on large
-- accounts; the NOTICE says why.
DO $migration$
DECLARE
    trgm_schema name;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm unavailable (%: %); title search works without an index',
            SQLSTATE, SQLERRM;
    END;

    SELECT n.nspname INTO trgm_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';

    IF trgm_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX articles_title_trgm_idx ON articles USING gin (title %I.gin_trgm_ops)',
                       trgm_schema);
    END IF;
END
$migration$;
