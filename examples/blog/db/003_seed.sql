-- Blog example: deterministic seed data.
--
-- Pure SQL, no randomness: every "random" choice comes from md5() of a fixed key,
-- and every id is md5('<kind>-<n>')::uuid, so each load produces the same rows.
--
--   users      1,000   md5('user-' || n)::uuid            n = 1..1000
--   tags          30   md5('tag-' || n)::uuid             n = 1..30
--   posts     10,000   md5('post-' || n)::uuid            n = 1..10000
--   comments  ~40,000  md5('comment-' || n || '-' || k)::uuid   post n, k = 1..(0 to 8)
--   post_tag  ~20,000  1 to 3 distinct tags per post
--
-- Post n has created_at strictly increasing with n (2023-01-01 .. 2024-12-31 UTC),
-- so post 10000 is the newest. Users 951..1000 never write posts.
-- A few rows carry SQL meta-characters and non-ASCII text for escaping tests
-- (see examples/blog/DATA.md). Those strings are built with chr() so this file
-- itself contains no semicolon, percent sign or backslash inside a literal.

CREATE FUNCTION pg_temp.seed_hash(key text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT ('x' || substr(md5(key), 1, 7))::bit(28)::integer $$;

-- ---------------------------------------------------------------------------
-- Users
-- ---------------------------------------------------------------------------
WITH w AS (
    SELECT
        ARRAY['Alice', 'Bruno', 'Chloe', 'Daniel', 'Elena', 'Farid', 'Grace', 'Hugo',
              'Ines', 'Jonas', 'Keiko', 'Liam', 'Maya', 'Nikolai', 'Olivia', 'Pedro',
              'Quinn', 'Rosa', 'Samir', 'Tara', 'Umar', 'Vera', 'William', 'Ximena',
              'Yusuf', 'Zara', 'Aaron', 'Beatrice', 'Carlos', 'Diana', 'Ethan', 'Fatima',
              'George', 'Hannah', 'Ivan', 'Julia', 'Kenji', 'Lucia', 'Mateo', 'Nora']
            AS first_names,
        ARRAY['Smith', 'Garcia', 'Chen', 'Kowalski', 'Nakamura', 'Okafor', 'Rossi', 'Schmidt',
              'Dubois', 'Andersson', 'Novak', 'Silva', 'Patel', 'Kim', 'Haddad', 'Murphy',
              'Jensen', 'Moreau', 'Costa', 'Ivanova', 'Tanaka', 'Nguyen', 'Fischer', 'Lopez',
              'Walker', 'Bianchi', 'Larsen', 'Mendes', 'Sato', 'Popescu', 'Horvat', 'Yilmaz',
              'Kaur', 'Adeyemi', 'Fernandez', 'Johansson', 'Petrov', 'Weber', 'Cohen', 'Reyes']
            AS last_names,
        ARRAY['Backend engineer', 'Data engineer', 'Site reliability engineer',
              'Frontend developer', 'Database administrator', 'Engineering manager',
              'Open source maintainer', 'Technical writer', 'Security researcher',
              'Computer science student', 'Freelance consultant', 'Platform engineer']
            AS roles,
        ARRAY['a fintech startup', 'a logistics company', 'a public library', 'a game studio',
              'a climate nonprofit', 'a hospital network', 'a small agency', 'a university lab',
              'a streaming service', 'an online retailer']
            AS companies,
        ARRAY['PostgreSQL', 'Python', 'GraphQL', 'distributed systems', 'testing',
              'observability', 'type systems', 'performance tuning', 'developer tooling',
              'data modelling', 'security', 'functional programming']
            AS topics
),
g AS (
    SELECT
        n,
        w.first_names[1 + mod(pg_temp.seed_hash('user-first-' || n), cardinality(w.first_names))] AS first_name,
        w.last_names[1 + mod(pg_temp.seed_hash('user-last-' || n), cardinality(w.last_names))] AS last_name,
        w.roles[1 + mod(pg_temp.seed_hash('user-role-' || n), cardinality(w.roles))] AS role,
        w.companies[1 + mod(pg_temp.seed_hash('user-company-' || n), cardinality(w.companies))] AS company,
        mod(pg_temp.seed_hash('user-topic-' || n), cardinality(w.topics)) AS topic_a,
        w.topics AS topics
    FROM w, generate_series(1, 1000) AS n
)
INSERT INTO tb_user (id, username, email, full_name, bio, is_active, created_at)
SELECT
    md5('user-' || g.n)::uuid,
    lower(g.first_name) || '.' || lower(g.last_name) || g.n,
    lower(g.first_name) || '.' || lower(g.last_name) || g.n || '@example.com',
    g.first_name || ' ' || g.last_name,
    CASE
        WHEN mod(g.n, 5) = 0 THEN NULL  -- exactly 20 percent have no bio
        ELSE g.role || ' at ' || g.company || '. Writes about '
             || g.topics[1 + g.topic_a] || ' and '
             || g.topics[1 + mod(g.topic_a + 1 + mod(pg_temp.seed_hash('user-topic2-' || g.n), 11), 12)]
             || '.'
    END,
    mod(g.n, 83) <> 0,                  -- 12 inactive users: n = 83, 166, ..., 996
    timestamptz '2022-01-01 00:00:00+00'
        + make_interval(secs => (g.n - 1) * 31000 + mod(pg_temp.seed_hash('user-created-' || g.n), 30000))
FROM g;

-- Non-ASCII user (n = 7) and meta-character user (n = 13).
UPDATE tb_user
   SET username  = 'zoe.angstrom',
       email     = 'zoe.angstrom@example.com',
       full_name = 'Zoë Ångström-Müller',
       bio       = 'Café owner ☕ — naïve résumé writer. 日本語も話せます 🚀'
 WHERE id = md5('user-7')::uuid;

UPDATE tb_user
   SET username  = 'bobby.tables',
       email     = 'bobby.tables@example.com',
       full_name = 'Robert ' || chr(34) || 'Bobby' || chr(34) || ' O' || chr(39) || 'Brien',
       bio       = 'Robert' || chr(39) || ') DROP TABLE tb_user' || chr(59) || chr(45) || chr(45)
                   || ' ' || chr(92) || ' ' || chr(37) || ' _'
 WHERE id = md5('user-13')::uuid;

-- ---------------------------------------------------------------------------
-- Tags
-- ---------------------------------------------------------------------------
INSERT INTO tb_tag (id, name, slug)
SELECT md5('tag-' || v.n)::uuid, v.name, v.slug
FROM (VALUES
    (1,  'PostgreSQL',                  'postgresql'),
    (2,  'Python',                      'python'),
    (3,  'GraphQL',                     'graphql'),
    (4,  'Rust',                        'rust'),
    (5,  'Performance',                 'performance'),
    (6,  'Security',                    'security'),
    (7,  'DevOps',                      'devops'),
    (8,  'Testing',                     'testing'),
    (9,  'Databases',                   'databases'),
    (10, 'Web Development',             'web-development'),
    (11, 'API Design',                  'api-design'),
    (12, 'Machine Learning',            'machine-learning'),
    (13, 'Cloud',                       'cloud'),
    (14, 'Kubernetes',                  'kubernetes'),
    (15, 'Docker',                      'docker'),
    (16, 'Linux',                       'linux'),
    (17, 'Open Source',                 'open-source'),
    (18, 'Career',                      'career'),
    (19, 'Tutorial',                    'tutorial'),
    (20, 'Architecture',                'architecture'),
    (21, 'Frontend',                    'frontend'),
    (22, 'Backend',                     'backend'),
    (23, 'Data Engineering',            'data-engineering'),
    (24, 'Observability',               'observability'),
    (25, 'Async',                       'async'),
    (26, 'Type Systems',                'type-systems'),
    (27, 'Functional Programming',      'functional-programming'),
    (28, 'Caching',                     'caching'),
    (29, 'C++',                         'cpp'),
    (30, 'Internationalization (i18n)', 'i18n')
) AS v (n, name, slug);

-- ---------------------------------------------------------------------------
-- Posts
-- ---------------------------------------------------------------------------
WITH w AS (
    SELECT
        ARRAY['Practical', 'Pragmatic', 'Hidden', 'Modern', 'Advanced', 'Gentle',
              'Surprising', 'Definitive', 'Minimal', 'Scalable', 'Robust', 'Boring',
              'Idiomatic', 'Incremental', 'Safe', 'Fast']
            AS adjectives,
        ARRAY['Migrations', 'Indexes', 'Connection Pools', 'Type Hints', 'Query Planners',
              'Caches', 'Event Loops', 'Schemas', 'Resolvers', 'Transactions', 'Unit Tests',
              'Feature Flags', 'Code Reviews', 'Deployments', 'JSONB Columns',
              'Background Jobs', 'Rate Limiters', 'Data Pipelines', 'Monorepos', 'Views']
            AS nouns,
        ARRAY['PostgreSQL', 'Python', 'GraphQL', 'Rust', 'Kubernetes', 'Docker', 'asyncio',
              'FastAPI', 'Redis', 'Linux', 'Terraform', 'TypeScript']
            AS techs,
        ARRAY['Debugging', 'Scaling', 'Testing', 'Refactoring', 'Monitoring', 'Securing',
              'Benchmarking', 'Simplifying']
            AS gerunds,
        ARRAY['Most teams discover this problem only after it reaches production.',
              'The fix turned out to be smaller than the investigation.',
              'We measured everything before changing a single line.',
              'Here is the query plan before and after the change.',
              'The documentation mentions this, but only in a footnote.',
              'It''s tempting to add another cache, but that rarely helps.',
              'Start with the simplest thing that could possibly work.',
              'Our p99 latency dropped from 800 ms to 40 ms.',
              'None of this requires exotic tooling.',
              'The trade-off is more code in the database and less in the application.',
              'Readers asked for a follow-up, so here it is.',
              'Benchmarks on a laptop are not benchmarks in production.',
              'Index only what you query, and query only what you index.',
              'The migration ran in under a minute on ten million rows.',
              'We rolled it out behind a feature flag first.',
              'Type hints caught three bugs before the tests even ran.',
              'Every abstraction leaks eventually. The question is where.',
              'Logs told us what happened, traces told us why.',
              'Keep transactions short and the lock graph boring.',
              'This post assumes you know the basics of SQL.',
              'In hindsight, the original design was reasonable for its time.',
              'The code samples are in the companion repository.']
            AS sentences
),
g AS (
    SELECT
        n,
        timestamptz '2023-01-01 00:00:00+00'
            + make_interval(secs => (n - 1) * 6315 + mod(pg_temp.seed_hash('post-created-' || n), 6000))
            AS created_at,
        1 + floor(950 * power(pg_temp.seed_hash('post-author-' || n) / 268435456.0, 2))::integer
            AS author_n,
        mod(pg_temp.seed_hash('post-status-' || n), 100) AS status_roll,
        mod(pg_temp.seed_hash('post-pattern-' || n), 6) AS pattern,
        w.adjectives[1 + mod(pg_temp.seed_hash('post-adj-' || n), cardinality(w.adjectives))] AS adj,
        w.nouns[1 + mod(pg_temp.seed_hash('post-noun-' || n), cardinality(w.nouns))] AS noun,
        w.techs[1 + mod(pg_temp.seed_hash('post-tech-' || n), cardinality(w.techs))] AS tech,
        w.gerunds[1 + mod(pg_temp.seed_hash('post-gerund-' || n), cardinality(w.gerunds))] AS gerund,
        (SELECT string_agg(
                    (SELECT string_agg(
                                w.sentences[1 + mod(pg_temp.seed_hash('post-body-' || n || '-' || pi || '-' || si),
                                                    cardinality(w.sentences))],
                                ' ' ORDER BY si)
                       FROM generate_series(1, 2 + mod(pg_temp.seed_hash('post-para-' || n || '-' || pi), 3)) AS si),
                    repeat(chr(10), 2) ORDER BY pi)
           FROM generate_series(1, 2 + mod(pg_temp.seed_hash('post-paras-' || n), 3)) AS pi)
            AS body
    FROM w, generate_series(1, 10000) AS n
),
t AS (
    SELECT
        g.*,
        CASE g.pattern
            WHEN 0 THEN g.adj || ' ' || g.noun || ' in ' || g.tech
            WHEN 1 THEN 'How We Tamed ' || g.noun || ' with ' || g.tech
            WHEN 2 THEN 'Why ' || g.noun || ' Matter More Than You Think'
            WHEN 3 THEN 'A ' || g.adj || ' Guide to ' || g.noun
            WHEN 4 THEN g.tech || ' ' || g.noun || ': Lessons Learned'
            ELSE        g.gerund || ' ' || g.noun || ' at Scale'
        END AS title,
        CASE
            WHEN g.status_roll < 70 THEN 'published'
            WHEN g.status_roll < 85 THEN 'draft'
            ELSE 'archived'
        END AS status
    FROM g
),
f AS (
    SELECT
        t.*,
        CASE WHEN t.status = 'draft' THEN NULL
             ELSE t.created_at + make_interval(secs => mod(pg_temp.seed_hash('post-published-' || t.n), 259200))
        END AS published_at
    FROM t
)
INSERT INTO tb_post (id, author_id, title, slug, body, status, published_at, view_count,
                     rating, created_at, updated_at)
SELECT
    md5('post-' || f.n)::uuid,
    md5('user-' || f.author_n)::uuid,
    f.title,
    trim(BOTH '-' FROM lower(regexp_replace(f.title, '[^A-Za-z0-9]+', '-', 'g'))) || '-' || f.n,
    f.body,
    f.status,
    f.published_at,
    CASE WHEN f.status = 'draft' THEN 0
         ELSE mod(pg_temp.seed_hash('post-views-' || f.n), 5000)
    END,
    CASE WHEN f.status = 'draft' THEN NULL
         WHEN mod(pg_temp.seed_hash('post-rated-' || f.n), 10) < 3 THEN NULL
         ELSE round((100 + mod(pg_temp.seed_hash('post-rating-' || f.n), 401)) / 100.0, 2)
    END,
    f.created_at,
    CASE WHEN mod(pg_temp.seed_hash('post-edited-' || f.n), 2) = 0
         THEN coalesce(f.published_at, f.created_at)
         ELSE coalesce(f.published_at, f.created_at)
              + make_interval(secs => mod(pg_temp.seed_hash('post-updated-' || f.n), 2592000))
    END
FROM f;

-- Meta-character post (n = 9999, second newest).
UPDATE tb_post
   SET title = 'O' || chr(39) || 'Reilly ' || chr(34) || 'quotes' || chr(34) || ' '
               || chr(45) || chr(45) || ' ' || chr(59) || ' DROP TABLE tb_post' || chr(59)
               || ' ' || chr(92) || ' ' || chr(37) || ' _',
       slug  = 'o-reilly-quotes-drop-table-tb-post-9999',
       body  = 'Single ' || chr(39) || 'quotes' || chr(39) || ', double ' || chr(34) || 'quotes'
               || chr(34) || ', doubled ' || chr(39) || chr(39) || ' and a backtick `.' || chr(10)
               || 'Backslashes: ' || chr(92) || 'n ' || chr(92) || chr(92) || ' ' || chr(92) || 'x00 ' || chr(92) || 'u0000.'
               || chr(10) || 'LIKE wildcards: 100' || chr(37) || ' a_b ' || chr(37) || '_' || chr(37) || '.'
               || chr(10) || 'Tab:' || chr(9) || 'end. Carriage return:' || chr(13) || chr(10)
               || 'Comment ' || chr(45) || chr(45) || ' and /* block */ ' || chr(59) || ' SELECT 1' || chr(59)
               || chr(10) || 'Dollar quote: $$ $tag$. JSON-ish: {"key": [1, 2], "n": null}.'
               || chr(10) || 'HTML: <script>alert(1)</script> &amp' || chr(59) || ' & < >.'
               || chr(10) || 'Unicode: naïve café — 日本語 — 🚀 — e' || chr(769) || '.',
       status       = 'published',
       published_at = created_at + interval '1 hour',
       updated_at   = created_at + interval '2 hours',
       view_count   = 1234,
       rating       = 4.25
 WHERE id = md5('post-9999')::uuid;

-- Non-ASCII post (n = 9990).
UPDATE tb_post
   SET title = 'Ünïcödé ✓ — 日本語のタイトル 🚀 naïve café',
       slug  = 'unicode-title-9990',
       body  = 'Ελληνικά, русский, العربية, עברית, 中文, 한국어.' || chr(10)
               || 'Emoji with ZWJ: 👩‍💻 and flags: 🇵🇹 🇯🇵.' || chr(10)
               || 'Combining accent: e' || chr(769) || ' versus precomposed: é.' || chr(10)
               || 'Non-breaking' || chr(160) || 'space and zero' || chr(8203) || 'width space.'
 WHERE id = md5('post-9990')::uuid;

-- ---------------------------------------------------------------------------
-- Post tags: 1 to 3 distinct tags per post.
-- ---------------------------------------------------------------------------
INSERT INTO tb_post_tag (post_id, tag_id)
SELECT
    md5('post-' || n)::uuid,
    md5('tag-' || (1 + mod(mod(pg_temp.seed_hash('post-tag-offset-' || n), 30)
                           + (k - 1) * (1 + mod(pg_temp.seed_hash('post-tag-step-' || n), 9)), 30)))::uuid
FROM generate_series(1, 10000) AS n
CROSS JOIN LATERAL generate_series(1, 1 + mod(pg_temp.seed_hash('post-tag-count-' || n), 3)) AS k;

-- ---------------------------------------------------------------------------
-- Comments: 0 to 8 per post, oldest first by k, within ~27 hours of the post.
-- ---------------------------------------------------------------------------
WITH w AS (
    SELECT
        ARRAY['Great write-up, thanks!',
              'This saved me a few hours today.',
              'Have you tried this with a partial index?',
              'I ran into the same issue last month.',
              'Could you share the benchmark setup?',
              'Interesting, but I''m not convinced it scales.',
              'Bookmarked for later.',
              'What PostgreSQL version did you use?',
              'The second example has a typo in the WHERE clause.',
              'We do something similar at work and it works well.',
              'Nice explanation of the trade-offs.',
              'Would love a follow-up on testing this.',
              'This is exactly what I needed.',
              'How does this interact with connection pooling?',
              'Clear and to the point.',
              'I disagree with the conclusion, but great post.']
            AS phrases
)
INSERT INTO tb_comment (id, post_id, author_id, body, created_at)
SELECT
    md5('comment-' || n || '-' || k)::uuid,
    p.id,
    md5('user-' || (1 + mod(pg_temp.seed_hash('comment-author-' || n || '-' || k), 1000)))::uuid,
    w.phrases[1 + mod(pg_temp.seed_hash('comment-a-' || n || '-' || k), cardinality(w.phrases))]
        || CASE WHEN mod(pg_temp.seed_hash('comment-long-' || n || '-' || k), 2) = 0 THEN ''
                ELSE ' ' || w.phrases[1 + mod(pg_temp.seed_hash('comment-b-' || n || '-' || k),
                                              cardinality(w.phrases))]
           END,
    p.created_at
        + make_interval(secs => k * 10800 + mod(pg_temp.seed_hash('comment-created-' || n || '-' || k), 10800))
FROM w
CROSS JOIN generate_series(1, 10000) AS n
JOIN tb_post p ON p.id = md5('post-' || n)::uuid
CROSS JOIN LATERAL generate_series(1, mod(pg_temp.seed_hash('post-comment-count-' || n), 9)) AS k;

-- Meta-character comment: the oldest comment on the meta-character post.
UPDATE tb_comment
   SET body = 'Nice post! ' || chr(39) || ') DELETE FROM tb_comment' || chr(59) || ' '
              || chr(45) || chr(45) || chr(10) || chr(34) || 'quoted' || chr(34) || ' '
              || chr(92) || chr(92) || ' 100' || chr(37) || ' _under_ 👍'
 WHERE id = md5('comment-9999-1')::uuid;

DROP FUNCTION pg_temp.seed_hash(text);

ANALYZE;
