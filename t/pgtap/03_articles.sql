-- articles: constraints, ownership, slugs; embeddings and the <=> operator.
BEGIN;
\ir _helpers.psql
SELECT plan(94);

INSERT INTO users (id, email, password_hash) VALUES
    ('00000000-0000-4000-8000-0000000000a1', 'alice@example.com', 'hash'),
    ('00000000-0000-4000-8000-0000000000b1', 'bob@example.com', 'hash');

-- One article of alice's; every other statement is checked against it.
INSERT INTO articles (id, user_id, title, slug)
VALUES ('10000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000a1', 'Hello', 'hello');

CREATE FUNCTION pg_temp.ins(cols text, vals text) RETURNS text LANGUAGE sql AS $$
    SELECT format('INSERT INTO articles (user_id, title, slug, %s) VALUES (%L, %L, %L, %s)',
                  cols, '00000000-0000-4000-8000-0000000000a1', 'T', 'x-' || md5(cols || vals), vals)
$$;

SELECT row_eq(
    $$SELECT status, created_at = now(), updated_at = now(), embedding IS NULL, seo_score
        FROM articles WHERE id = '10000000-0000-4000-8000-000000000001'$$,
    ROW('draft'::text, true, true, true, NULL::double precision),
    'a new article gets the defaults');

-- NOT NULL and the owner
SELECT pg_temp.not_null_fails($$INSERT INTO articles (title, slug) VALUES (NULL, 's')$$,
    'articles', 'title', 'title is required');
SELECT pg_temp.not_null_fails($$INSERT INTO articles (title, slug) VALUES ('t', NULL)$$,
    'articles', 'slug', 'slug is required');
SELECT pg_temp.fk_fails(
    $$INSERT INTO articles (user_id, title, slug) VALUES ('00000000-0000-4000-8000-00000000dead', 't', 's')$$,
    'articles', 'articles_user_id_fkey', 'an article of a user that does not exist');
SELECT lives_ok($$INSERT INTO articles (title, slug) VALUES ('Legacy', 'legacy')$$,
    'an article without an owner (legacy import) is accepted');

-- title
SELECT pg_temp.check_fails($$INSERT INTO articles (user_id, title, slug) VALUES ('00000000-0000-4000-8000-0000000000a1', '', 'empty-title')$$,
    'articles', 'articles_title_check', 'an empty title');
SELECT pg_temp.check_fails(
    format($$INSERT INTO articles (user_id, title, slug) VALUES ('00000000-0000-4000-8000-0000000000a1', %L, 'long-title')$$, repeat('é', 501)),
    'articles', 'articles_title_check', 'a 501-character title');
SELECT lives_ok(
    format($$INSERT INTO articles (user_id, title, slug) VALUES ('00000000-0000-4000-8000-0000000000a1', %L, 'long-title')$$, repeat('é', 500)),
    'a 500-character title (counted in characters, not bytes) is accepted');

-- slug
SELECT pg_temp.check_fails(format($$INSERT INTO articles (user_id, title, slug) VALUES (%L, 't', %L)$$,
        '00000000-0000-4000-8000-0000000000a1', s), 'articles', 'articles_slug_check', format('slug %s (%s characters)', quote_literal(left(s, 8)), char_length(s)))
  FROM unnest(ARRAY['', 'Hello', 'a b', 'a_b', 'é', 'a/b', repeat('a', 501)]) AS s;
SELECT lives_ok(format($$INSERT INTO articles (user_id, title, slug) VALUES (%L, 't', %L)$$,
        '00000000-0000-4000-8000-0000000000a1', repeat('a', 500)),
    'a 500-character slug is accepted');
SELECT lives_ok($$INSERT INTO articles (user_id, title, slug) VALUES ('00000000-0000-4000-8000-0000000000a1', 't', 'abc-123-')$$,
    'a slug of a-z, 0-9 and - is accepted');
SELECT pg_temp.unique_fails($$INSERT INTO articles (user_id, title, slug) VALUES ('00000000-0000-4000-8000-0000000000a1', 'Again', 'hello')$$,
    'articles_user_id_slug_key', 'a slug the user already has');
SELECT pg_temp.unique_fails($$UPDATE articles SET slug = 'hello' WHERE slug = 'abc-123-'$$,
    'articles_user_id_slug_key', 'renaming to a slug the user already has');
SELECT lives_ok($$INSERT INTO articles (user_id, title, slug) VALUES ('00000000-0000-4000-8000-0000000000b1', 'Hello', 'hello')$$,
    'another user may have the same slug');
SELECT lives_ok($$INSERT INTO articles (title, slug) VALUES ('Legacy', 'legacy')$$,
    'articles without an owner do not collide on slug (NULL user_id)');

-- Lengths of the other text fields
SELECT pg_temp.check_fails(pg_temp.ins('meta_description', quote_literal(repeat('m', 321))),
    'articles', 'articles_meta_description_check', 'a 321-character meta_description');
SELECT lives_ok(pg_temp.ins('meta_description', quote_literal(repeat('m', 320))),
    'a 320-character meta_description is accepted');
SELECT pg_temp.check_fails(pg_temp.ins('primary_keyword', quote_literal(repeat('k', 101))),
    'articles', 'articles_primary_keyword_check', 'a 101-character primary_keyword');
SELECT lives_ok(pg_temp.ins('primary_keyword', quote_literal(repeat('k', 100))),
    'a 100-character primary_keyword is accepted');

-- seo_score: NULL or 0..100
SELECT pg_temp.check_fails(pg_temp.ins('seo_score', v), 'articles', 'articles_seo_score_check', 'seo_score ' || v)
  FROM unnest(ARRAY['-0.001', '100.001', $$'NaN'$$, $$'Infinity'$$, $$'-Infinity'$$]) AS v;
SELECT lives_ok(pg_temp.ins('seo_score', v), 'seo_score ' || v || ' is accepted')
  FROM unnest(ARRAY['0', '100', '73.5', 'NULL']) AS v;

-- status
SELECT pg_temp.check_fails(pg_temp.ins('status', v), 'articles', 'articles_status_check', 'status ' || v)
  FROM unnest(ARRAY[$$'deleted'$$, $$'Draft'$$, $$''$$]) AS v;
SELECT lives_ok(pg_temp.ins('status', quote_literal(v)), 'status ' || v || ' is accepted')
  FROM unnest(ARRAY['draft', 'scheduled', 'published', 'archived']) AS v;

-- wp_url
SELECT pg_temp.check_fails(pg_temp.ins('wp_url', quote_literal(v)), 'articles', 'articles_wp_url_check', 'wp_url ' || v)
  FROM unnest(ARRAY['ftp://example.com/x', 'example.com/x', 'javascript:alert(1)', ' https://example.com/']) AS v;
SELECT lives_ok(pg_temp.ins('wp_url, wp_post_id', quote_literal(v) || ', 42'), 'wp_url ' || v || ' is accepted')
  FROM unnest(ARRAY['https://blog.example.com/?p=42', 'http://blog.example.com/hello/']) AS v;

-- updated_at follows every update
UPDATE articles SET updated_at = '2020-01-01Z', created_at = '2020-01-01Z' WHERE id = '10000000-0000-4000-8000-000000000001';
SELECT is((SELECT updated_at FROM articles WHERE id = '10000000-0000-4000-8000-000000000001'), now(),
    'an UPDATE sets updated_at to now()');
SELECT is((SELECT created_at FROM articles WHERE id = '10000000-0000-4000-8000-000000000001'), '2020-01-01Z'::timestamptz,
    'created_at is not touched by the trigger');

-- Embeddings: the same SQL on pgvector and on real[] ----------------------------

UPDATE articles SET embedding = bp_embedding_in('[0.5,-1.25,3]') WHERE id = '10000000-0000-4000-8000-000000000001';
SELECT is((SELECT replace(translate(embedding::text, '{}', '[]'), ' ', '') FROM articles WHERE id = '10000000-0000-4000-8000-000000000001'),
    '[0.5,-1.25,3]', 'bp_embedding_in round-trips through the column');
SELECT is(replace(translate(bp_embedding_in(' [ 1e-3, -2 ,0 ] ')::text, '{}', '[]'), ' ', ''),
    '[0.001,-2,0]', 'bp_embedding_in accepts blanks and exponents');
SELECT is(bp_embedding_in(NULL), NULL, 'bp_embedding_in(NULL) is NULL (no embedding)');
SELECT is((SELECT embedding <=> embedding FROM articles WHERE id = '10000000-0000-4000-8000-000000000001'), 0::double precision,
    'an embedding is at distance 0 from itself');

SELECT is(bp_embedding_in(a) <=> bp_embedding_in(b), d, format('%s <=> %s = %s', a, b, d))
  FROM (VALUES ('[1,0]', '[0,1]', 1::double precision),
               ('[1,0]', '[2,0]', 0),
               ('[1,0]', '[-1,0]', 2),
               ('[3,4]', '[6,8]', 0),
               ('[1,2,3]', '[-3,0,1]', 1)) AS v(a, b, d);
SELECT ok(abs((bp_embedding_in('[1,1]') <=> bp_embedding_in('[1,0]')) - (1 - 1 / sqrt(2))) < 1e-6,
    '[1,1] <=> [1,0] = 1 - 1/sqrt(2)');
SELECT ok(abs((bp_embedding_in('[0.1,0.2,0.3]') <=> bp_embedding_in('[0.3,0.2,0.1]')) - (1 - 0.10 / 0.14)) < 1e-6,
    '[0.1,0.2,0.3] <=> [0.3,0.2,0.1] = 1 - 0.10/0.14');
SELECT is(bp_embedding_in('[1,2,-3]') <=> bp_embedding_in('[0.5,0,4]'),
          bp_embedding_in('[0.5,0,4]') <=> bp_embedding_in('[1,2,-3]'), '<=> is symmetric');
SELECT ok((SELECT (e <=> e) BETWEEN 0 AND 1e-9 AND (e <=> n) BETWEEN 2 - 1e-9 AND 2
             FROM (SELECT bp_embedding_in('[' || string_agg(x::text, ',') || ']') AS e,
                          bp_embedding_in('[' || string_agg((-x)::text, ',') || ']') AS n
                     FROM (SELECT (sin(i) * 10)::real AS x FROM generate_series(1, 1536) i) s) v),
    '1536 dimensions: distance to itself ~0, to its opposite ~2 (clamped to [0, 2])');

-- The related-articles query shape: nearest first among the user's own.
INSERT INTO articles (user_id, title, slug, embedding) VALUES
    ('00000000-0000-4000-8000-0000000000a1', 'Near', 'near', bp_embedding_in('[0.5,-1.25,2.9]')),
    ('00000000-0000-4000-8000-0000000000a1', 'Far', 'far', bp_embedding_in('[-0.5,1.25,-3]')),
    ('00000000-0000-4000-8000-0000000000a1', 'Mid', 'mid', bp_embedding_in('[1,0,0]')),
    ('00000000-0000-4000-8000-0000000000b1', 'Bobs', 'bobs', bp_embedding_in('[0.5,-1.25,3]'));
SELECT results_eq(
    $$SELECT o.slug FROM articles a JOIN articles o
         ON o.user_id = a.user_id AND o.id <> a.id AND o.embedding IS NOT NULL
      WHERE a.id = '10000000-0000-4000-8000-000000000001'
      ORDER BY a.embedding <=> o.embedding, o.id LIMIT 5$$,
    ARRAY['near', 'mid', 'far'],
    'ORDER BY a.embedding <=> o.embedding sorts nearest first');

-- Bad text is refused with pgvector's SQLSTATEs
SELECT throws_ok(format('SELECT bp_embedding_in(%L)', v), '22P02', NULL, 'malformed embedding ' || v || ' refused')
  FROM unnest(ARRAY['abc', '1,2', '[1,2', '1,2]', '[1,,2]', '[1,2]x', '[[1,2]]', '{1,2}', '[1,NULL]', '[1,"2"]']) AS v;
SELECT throws_ok(format('SELECT bp_embedding_in(%L)', v), '22000', NULL, 'embedding ' || v || ' refused')
  FROM unnest(ARRAY['[]', '[NaN,1]', '[1,Infinity]', '[-Infinity]']) AS v;

-- Fallback only: the column's own check, and NULL distances. In plpgsql,
-- so that nothing using real[] <=> is even parsed when pgvector is used.
CREATE FUNCTION pg_temp.fallback_checks() RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
    IF bp_embedding_kind() <> 'real[]' THEN
        RETURN NEXT skip('pgvector is used: real[] checks do not apply', 9);
        RETURN;
    END IF;
    RETURN NEXT pg_temp.check_fails(pg_temp.ins('embedding', $q$'{}'::real[]$q$),
        'articles', 'articles_embedding_check', 'an empty embedding');
    RETURN NEXT pg_temp.check_fails(pg_temp.ins('embedding', $q$'{1,NULL}'::real[]$q$),
        'articles', 'articles_embedding_check', 'an embedding with a NULL');
    RETURN NEXT pg_temp.check_fails(pg_temp.ins('embedding', $q$'{1,NaN}'::real[]$q$),
        'articles', 'articles_embedding_check', 'an embedding with NaN');
    RETURN NEXT pg_temp.check_fails(pg_temp.ins('embedding', $q$'{1,-Infinity}'::real[]$q$),
        'articles', 'articles_embedding_check', 'an embedding with -Infinity');
    RETURN NEXT pg_temp.check_fails(pg_temp.ins('embedding', $q$'{{1,2},{3,4}}'::real[]$q$),
        'articles', 'articles_embedding_check', 'a two-dimensional embedding');
    RETURN NEXT pg_temp.check_fails(pg_temp.ins('embedding', $q$'[0:1]={1,2}'::real[]$q$),
        'articles', 'articles_embedding_check', 'an embedding not starting at index 1');
    RETURN NEXT is('{1,0}'::real[] <=> '{0,0}'::real[], NULL, 'distance to a zero vector is NULL');
    RETURN NEXT is('{1,0}'::real[] <=> '{1,0,0}'::real[], NULL, 'distance between different lengths is NULL');
    RETURN NEXT is(bp_cosine_distance('{1,0}', NULL), NULL, 'distance to NULL is NULL');
END
$$;
SELECT * FROM pg_temp.fallback_checks();

-- The title search keys (migration 0008): every title that contains q,
-- ignoring case, has all of q's keys, and the keys are the owner's own.
CREATE TEMP TABLE title_q (title, q) AS VALUES
    ('Keyword research basics', 'keyword'), ('Keyword research basics', 'ARCH BAS'),
    ('Café au lait, CRÈME brûlée', 'crème BRÛ'), ('Ünïcode straße 日本語テキスト', 'straSSE 日本語テ'),
    ('Ünïcode straße 日本語テキスト', 'ÜNÏ'), ('100% organic_growth \ now', '% organic_g'),
    ('abc', 'abc'), ('abcd', 'bcd'), (repeat('lorem ipsum ', 40), repeat('ipsum lorem ', 16) || 'ips');
SELECT cmp_ok((SELECT count(*) FROM title_q WHERE strpos(lower(title), lower(q)) > 0), '>=', 6::bigint,
    'most titles contain their q, ignoring case');
SELECT is_empty(
    $$SELECT title, q FROM title_q
       WHERE strpos(lower(title), lower(q)) > 0
         AND NOT bp_title_keys('00000000-0000-4000-8000-0000000000a1', title)
                 @> bp_title_search_keys('00000000-0000-4000-8000-0000000000a1', q)$$,
    'a title that contains q has every key of q');
SELECT is(bp_title_search_keys('00000000-0000-4000-8000-0000000000a1', 'Abcdefgh'),
    bp_title_keys('00000000-0000-4000-8000-0000000000a1', 'deFGH'),
    'q''s keys: its last three trigrams (five characters), lower-cased');
SELECT is(bp_title_search_keys('00000000-0000-4000-8000-0000000000a1', 'ABC'),
    bp_title_keys('00000000-0000-4000-8000-0000000000a1', 'abc'), 'three characters: one key');
SELECT is(bp_title_search_keys('00000000-0000-4000-8000-0000000000a1', 'ab'), '{}'::int8[],
    'fewer than three characters: no key');
SELECT ok(NOT (bp_title_keys('00000000-0000-4000-8000-0000000000b1', 'Keyword research')
               && bp_title_search_keys('00000000-0000-4000-8000-0000000000a1', 'keyword')),
    'another owner''s title has none of the keys');
SELECT is(cardinality(bp_title_keys('00000000-0000-4000-8000-0000000000a1', 'Hello')), 3,
    'a title has a key for each of its trigrams');
SELECT isnt_empty(
    $$SELECT 1 FROM articles
       WHERE bp_title_keys(user_id, title) @> bp_title_search_keys('00000000-0000-4000-8000-0000000000a1', 'ELL')
         AND id = '10000000-0000-4000-8000-000000000001'$$,
    'the index expression finds a stored title');

SELECT * FROM finish();
ROLLBACK;
