-- 0008_articles_title_keys.sql: the title search indexed per user.
--
-- Applied once by `blogposter migrate`, inside a transaction the migrator
-- opens and commits (so no BEGIN/COMMIT here).
--
-- GET /api/v1/articles?q= keeps a user's articles whose lower-cased title
-- contains the lower-cased q (strpos(lower(title), lower(q)) > 0: what
-- ILIKE does in a UTF-8 database, without its wildcards). Migration 0005
-- indexed it with pg_trgm on (user_id, title): a trigram's posting list
-- there holds every user's titles, so a word most titles share ("article",
-- "how to") made each search read a list as long as the table (at
-- 1,000,000 articles, ten times the time of a plain list).
--
-- Here each key is a trigram of the lower-cased title hashed together with
-- its owner: a key's posting list holds one user's titles only, and its
-- length is bounded by that user's articles, whoever else is in the table.
--
--   bp_title_keys(owner, title)     every trigram of lower(title): the
--                                   index's keys
--   bp_title_search_keys(owner, q)  the first and the last trigram of
--                                   lower(q): what a matching title's keys
--                                   must contain
--
-- If lower(title) contains lower(q), every trigram of lower(q) is one of
-- lower(title)'s, hashed with the same owner: the index never misses a
-- title. A hash collision (or a trigram found elsewhere in the title) only
-- brings a candidate that the strpos() filter then drops, and the query
-- keeps `user_id = $1` as a filter of its own. Two keys, not every
-- trigram of q: what a search pays for is reading the posting lists of its
-- keys, the trigrams a user's titles share most are as long as their
-- articles, and the two ends of q already narrow them to a few candidates
-- (a title search at 1,000,000 articles costs PostgreSQL about half the
-- CPU time with two keys that it does with four: bench/results/). A q of fewer than three
-- characters has no key: src/repo_articles.c walks the user's articles by
-- date for it instead.

CREATE FUNCTION bp_title_keys(owner uuid, title text) RETURNS int8[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    l    text := lower(title);
    seed int8 := hashtextextended(owner::text, 0);
    keys int8[] := '{}';
BEGIN
    FOR i IN 1 .. length(l) - 2 LOOP
        keys := keys || hashtextextended(substr(l, i, 3), seed);
    END LOOP;
    RETURN keys;
END
$$;

CREATE FUNCTION bp_title_search_keys(owner uuid, q text) RETURNS int8[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    l    text := lower(q);
    last int  := length(l) - 2;
    seed int8 := hashtextextended(owner::text, 0);
BEGIN
    IF last < 1 THEN
        RETURN '{}';
    ELSIF last = 1 THEN
        RETURN ARRAY[hashtextextended(l, seed)];
    END IF;
    RETURN ARRAY[hashtextextended(substr(l, 1, 3), seed),
                 hashtextextended(substr(l, last, 3), seed)];
END
$$;

COMMENT ON FUNCTION bp_title_keys(uuid, text) IS 'The keys of articles_title_keys_idx: every trigram of lower(title), hashed with the owner.';
COMMENT ON FUNCTION bp_title_search_keys(uuid, text) IS 'The first and last trigram of lower(q), hashed with the owner: keys every title containing q (ignoring case) has in articles_title_keys_idx; empty below 3 characters.';

-- The new index first, under a lock that lets reads go on while it is
-- built; dropping the old one locks the table out, but only at the end.
CREATE INDEX articles_title_keys_idx ON articles USING gin (bp_title_keys(user_id, title));
DROP INDEX IF EXISTS articles_title_trgm_idx;
