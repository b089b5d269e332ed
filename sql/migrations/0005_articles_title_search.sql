-- Search of a user's articles by title (GET /api/v1/articles?q=): a
-- trigram index on (user_id, title), for user_id = $1 AND title ILIKE
-- '%q%': one user's matching titles, not every user's (btree_gin puts the
-- uuid in the same GIN index).
--
-- pg_trgm and btree_gin come with PostgreSQL (postgresql-contrib, part of
-- Debian's postgresql-15) and are trusted extensions since PostgreSQL 13:
-- the database's owner can create them without being a superuser. Where it
-- cannot be created, the search still works, by filtering the user's
-- articles through articles_user_created_idx: same results, slower on large
-- accounts; the NOTICE says why.
DO $migration$
DECLARE
    trgm_schema name;
    gin_schema name;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm unavailable (%: %); title search works without an index',
            SQLSTATE, SQLERRM;
    END;
    BEGIN
        CREATE EXTENSION IF NOT EXISTS btree_gin;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'btree_gin unavailable (%: %); the title index covers every user',
            SQLSTATE, SQLERRM;
    END;

    SELECT n.nspname INTO trgm_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    SELECT n.nspname INTO gin_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'btree_gin';

    IF trgm_schema IS NOT NULL AND gin_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX articles_title_trgm_idx ON articles'
                       ' USING gin (user_id %I.uuid_ops, title %I.gin_trgm_ops)',
                       gin_schema, trgm_schema);
    ELSIF trgm_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX articles_title_trgm_idx ON articles USING gin (title %I.gin_trgm_ops)',
                       trgm_schema);
    END IF;
END
$migration$;
