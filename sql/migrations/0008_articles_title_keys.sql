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
--   bp_title_search_keys(owner, q)  the last three trigrams of lower(q)
--                                   (its last five characters): what a
--                                   matching title's keys must contain
--
-- If lower(title) contains lower(q), every trigram of lower(q) is one of
-- lower(title)'s, hashed with the same owner: the index never misses a
-- title. A hash collision (or a trigram found elsewhere in the title) only
-- brings a candidate that the strpos() filter then drops, and the query
-- keeps `user_id = $1` as a filter of its own. Three keys, not every
-- trigram of q: a search pays for the posting lists of its keys, and the
-- lists of the trigrams a user's titles share are as long as the user's
-- articles; three overlapping trigrams pin five characters of q down, few
-- titles have them all, and the strpos() filter checks those. Measured at
-- 1,000,000 articles (bench/results/2026-12-05-1018.md and after): about
-- 290 us of PostgreSQL CPU per query with the last three trigrams, 430
-- with four spread over q, 770 with its first and last, 1,350 with all
-- nine of `article 123`, and 25 ms with its first three, which every
-- title of the user has. The other side of it: a q that ends in five
-- characters most of the user's titles share (a word they all end with)
-- reads those long lists, and costs up to as many candidates as the user
-- has articles. A q of fewer than three characters has no key: src/repo_articles.c walks the user's articles by
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
    keys int8[] := '{}';
BEGIN
    FOR i IN greatest(last - 2, 1) .. last LOOP
        keys := keys || hashtextextended(substr(l, i, 3), seed);
    END LOOP;
    RETURN keys;
END
$$;

COMMENT ON FUNCTION bp_title_keys(uuid, text) IS 'The keys of articles_title_keys_idx: every trigram of lower(title), hashed with the owner.';
COMMENT ON FUNCTION bp_title_search_keys(uuid, text) IS 'The last three trigrams of lower(q), hashed with the owner: keys every title containing q (ignoring case) has in articles_title_keys_idx; empty below 3 characters.';

-- The new index first, under a lock that lets reads go on while it is
-- built; dropping the old one locks the table out, but only at the end.
CREATE INDEX articles_title_keys_idx ON articles USING gin (bp_title_keys(user_id, title));
DROP INDEX IF EXISTS articles_title_trgm_idx;
