-- bench/seed_articles.sql: articles for the bench users, straight in SQL.
--
--   psql -v first=1 -v per_user=1000 -v paras=12 -v part=0 -v parts=2 -f seed_articles.sql
--
-- Adds articles first .. first+per_user-1 to every bench user whose rank
-- modulo parts is part (bench/run runs one psql per CPU).  paras is the
-- number of pool paragraphs per content field: 12 gives markdown of ~6 KB
-- and HTML of ~8 KB, which no compression shrinks, so both are TOASTed
-- out of line at full size (a real article compresses maybe 2:1: this is
-- the pessimistic side).  No paragraph repeats within a field; reusing the
-- pool across rows changes nothing, as TOAST compresses each value on its
-- own.  Title ~60 characters, meta description 155.  created_at is spread
-- over three years, so that articles added later interleave with earlier
-- ones in the list index.  Run it with default_toast_compression=lz4:
-- pglz spends 3/4 of the insert time failing to compress this text (the
-- stored values are the same: uncompressed).
\set ON_ERROR_STOP on

-- One statement per user: progress shows, and a transaction stays small.
SELECT format($q$
INSERT INTO articles (user_id, title, slug, content_markdown, content_html,
                      meta_description, primary_keyword, seo_score, status,
                      wp_post_id, wp_url, created_at, updated_at)
SELECT %L::uuid, t.title, 'bench-article-' || a.n, t.md, t.html,
       left(t.words, 155), 'keyword ' || (a.n %% 97),
       (a.n * 37) %% 101, (ARRAY['published','published','published','draft',
       'draft','scheduled','archived','published'])[1 + a.n %% 8],
       CASE WHEN a.n %% 8 < 3 THEN 100000 + a.n END,
       CASE WHEN a.n %% 8 < 3 THEN 'https://blog.example/p/' || a.n END,
       t.created, t.created
  FROM generate_series(%s, %s) AS a(n)
 CROSS JOIN LATERAL (
   SELECT 'Bench article ' || a.n || ': ' || left(p.words, 45) AS title,
          '# Bench article ' || a.n || E'\n\n' || p.md AS md,
          '<h1>Bench article ' || a.n || '</h1>' || p.html AS html,
          p.words,
          now() - ((a.n::int8 * 2654435761 + %s) %% 94608000) * interval '1 second'
            AS created
     FROM (SELECT string_agg(CASE WHEN k %% 4 = 3 THEN '## ' || left(para, 40) || E'\n\n' ELSE '' END
                             || para, E'\n\n' ORDER BY k) AS md,
                  string_agg(CASE WHEN k %% 4 = 3 THEN '<h2>' || left(para, 40) || '</h2>' ELSE '' END
                             || '<p class="body-text">' || html || '</p>', E'\n' ORDER BY k) AS html,
                  min(para) AS words
             FROM generate_series(0, %s - 1) k
            CROSS JOIN LATERAL (SELECT para, html FROM bench_pool
                                 WHERE i = (a.n * 7919 + k * 331 + %s) %% 4096) b) p
 ) t
$q$, id, :first, :first + :per_user - 1, ord, :paras, ord * 13)
  FROM (SELECT id, row_number() OVER (ORDER BY email) AS ord
          FROM users WHERE email LIKE 'bench-%@bench.example') u
 WHERE ord % :parts = :part
 ORDER BY ord
\gexec

