-- FraiseQL's side of the peer benchmark harness, in a schema of its own: `fraiseql_bench`.
--
-- Projection tables ("tv_", table views) filled from the harness tables `users`, `posts`,
-- `comments` and kept in sync by triggers on them, so writes that bypass the API (the
-- harness deletes W5's comments with plain SQL) are followed too: statement-level triggers
-- with transition tables (one set-based rebuild for a bulk delete), except a row trigger
-- for comment inserts (see comment_inserted):
--
--   tv_user(id, created_at, data)              data: the User fields, snake_case keys
--   tv_post(id, author_id, created_at,         data: the Post fields, `author` = tv_user.data,
--           title, view_count, tags, author,   `comments` = all of them, oldest first, each
--           data)                              {id, body, like_count, created_at, author}
--
-- `id` and `created_at` are real columns beside `data`, so FraiseQL filters (W4) and orders
-- (W2-W4) on them and the index below serves both; `data` is read only for the rows returned.
-- `title`, `view_count`, `tags` and `author` (the author's tv_user.data) are copies of
-- data's keys as columns: FraiseQL reads a selected field from a column of the same name,
-- so a list page that selects only those (W2, W4) never reads the ~5 kB `data` with every
-- comment in it (W4's statement: 0.48 ms reading data, 0.2 ms from the columns; see
-- benchmarks/RESULTS.md).
--
-- Write side: fn_create_comment(input jsonb {post_id, author_id, body}) returns
-- fraiseql.mutation_result (needs `fraiseql install` first); the insert's trigger updates
-- tv_post in the same transaction.
--
-- Idempotent: run it as often as you like. The tables are rebuilt only when SCHEMA_VERSION
-- below changes or their row counts no longer match the harness tables (e.g. after
-- `pgctl.py load --force`, which drops the whole database anyway).

SET client_min_messages = warning;
SELECT pg_advisory_lock(hashtext('fraiseql_bench schema'));

CREATE SCHEMA IF NOT EXISTS fraiseql_bench;
CREATE TABLE IF NOT EXISTS fraiseql_bench.meta (version int NOT NULL);

DO $$
DECLARE
    schema_version CONSTANT int := 7;  -- bump when a table, trigger or function changes shape
    stale boolean;
BEGIN
    stale := (SELECT max(version) FROM fraiseql_bench.meta) IS DISTINCT FROM schema_version
        OR to_regclass('fraiseql_bench.tv_user') IS NULL
        OR to_regclass('fraiseql_bench.tv_post') IS NULL;
    IF NOT stale THEN
        EXECUTE 'SELECT (SELECT count(*) FROM fraiseql_bench.tv_user) <> (SELECT count(*) FROM public.users)
                     OR (SELECT count(*) FROM fraiseql_bench.tv_post) <> (SELECT count(*) FROM public.posts)'
            INTO stale;
    END IF;
    IF stale THEN
        RAISE WARNING 'fraiseql_bench: (re)building tv_user and tv_post';
        DROP SCHEMA fraiseql_bench CASCADE;  -- also drops its triggers on the harness tables
        CREATE SCHEMA fraiseql_bench;
        CREATE TABLE fraiseql_bench.meta (version int NOT NULL);
        INSERT INTO fraiseql_bench.meta VALUES (schema_version);
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS fraiseql_bench.tv_user (
    id         uuid        PRIMARY KEY,
    created_at timestamptz NOT NULL,
    data       jsonb       NOT NULL
);

-- `data` is stored uncompressed, inline up to 8,160 bytes (95% of the rows; the rest
-- out of line, uncompressed): a read then decodes no pglz and fetches no TOAST chunks, and
-- a comment append rewrites one heap tuple. Measured on this dataset against the default
-- (pglz, out of line past ~2 kB): W4's statement 0.8 ms instead of 1.5 ms, an append
-- ~90 us instead of ~280 us; the table takes ~630 MB instead of ~305 MB.
CREATE TABLE IF NOT EXISTS fraiseql_bench.tv_post (
    id         uuid        PRIMARY KEY,
    author_id  uuid        NOT NULL,
    created_at timestamptz NOT NULL,
    title      text        NOT NULL,
    view_count int         NOT NULL,
    tags       text[]      NOT NULL,
    author     jsonb       NOT NULL,
    data       jsonb       STORAGE EXTERNAL NOT NULL
) WITH (toast_tuple_target = 8160);

-- FraiseQL orders by the requested field, then by id: (created_at DESC, id) is exactly
-- `ORDER BY created_at DESC, id`, and serves `created_at > $after` as well.
CREATE INDEX IF NOT EXISTS tv_post_created_at_id ON fraiseql_bench.tv_post (created_at DESC, id);
CREATE INDEX IF NOT EXISTS tv_post_author_id ON fraiseql_bench.tv_post (author_id);
CREATE INDEX IF NOT EXISTS tv_user_created_at_id ON fraiseql_bench.tv_user (created_at DESC, id);

-- ---------------------------------------------------------------------- projections

CREATE OR REPLACE FUNCTION fraiseql_bench.user_data(u public.users) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'id', u.id,
        'username', u.username,
        'email', u.email,
        'full_name', u.full_name,
        'bio', u.bio,
        'is_active', u.is_active,
        'post_count', u.post_count,
        'follower_count', u.follower_count,
        'created_at', u.created_at)
$$;

-- A post's comments, oldest first, each with its author (tv_user.data).
CREATE OR REPLACE FUNCTION fraiseql_bench.post_comments(post_id uuid) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', c.id,
               'body', c.body,
               'like_count', c.like_count,
               'created_at', c.created_at,
               'author', cu.data) ORDER BY c.created_at, c.id), '[]'::jsonb)
    FROM public.comments c
    JOIN fraiseql_bench.tv_user cu ON cu.id = c.author_id
    WHERE c.post_id = post_comments.post_id
$$;

CREATE OR REPLACE FUNCTION fraiseql_bench.post_data(p public.posts, author jsonb, comments jsonb)
RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'id', p.id,
        'title', p.title,
        'slug', p.slug,
        'body', p.body,
        'tags', to_jsonb(p.tags),
        'category', p.category::text,
        'view_count', p.view_count,
        'like_count', p.like_count,
        'is_published', p.is_published,
        'created_at', p.created_at,
        'updated_at', p.updated_at,
        'author', author,
        'comments', comments)
$$;

-- ---------------------------------------------------------------------- sync

-- Lock the tv_post rows of these posts, in id order so that concurrent writers queue
-- rather than deadlock. Callers read the source only in later statements: under READ
-- COMMITTED each statement of a (volatile) plpgsql function takes a new snapshot, so a
-- writer that waited here sees what the writer before it committed.
CREATE OR REPLACE FUNCTION fraiseql_bench.lock_posts(ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM FROM fraiseql_bench.tv_post WHERE id = ANY (ids) ORDER BY id FOR UPDATE;
END
$$;

-- Rebuild these posts' rows from the harness tables (and drop rows of deleted posts).
CREATE OR REPLACE FUNCTION fraiseql_bench.refresh_posts(ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM fraiseql_bench.lock_posts(ids);
    INSERT INTO fraiseql_bench.tv_post AS t
        (id, author_id, created_at, title, view_count, tags, author, data)
    SELECT p.id, p.author_id, p.created_at, p.title, p.view_count, p.tags, a.data,
           fraiseql_bench.post_data(p, a.data, fraiseql_bench.post_comments(p.id))
    FROM public.posts p
    JOIN fraiseql_bench.tv_user a ON a.id = p.author_id
    WHERE p.id = ANY (ids)
    ON CONFLICT (id) DO UPDATE
        SET author_id = EXCLUDED.author_id, created_at = EXCLUDED.created_at,
            title = EXCLUDED.title, view_count = EXCLUDED.view_count, tags = EXCLUDED.tags,
            author = EXCLUDED.author, data = EXCLUDED.data;
    DELETE FROM fraiseql_bench.tv_post t
    WHERE t.id = ANY (ids) AND NOT EXISTS (SELECT FROM public.posts p WHERE p.id = t.id);
END
$$;

-- A new comment: appended to its post's data.comments when it sorts after the last one
-- there (the usual case: created_at defaults to now()), else the post is rebuilt. A row
-- trigger, as W5 inserts one row at a time: measured in one session, 3,000 random single-row
-- inserts cost ~45 us each without sync, ~250 us with this trigger, ~360 us with the same
-- append logic in a statement trigger (transition table, lock, then check) and ~1,050 us
-- when every insert rebuilds the post (row or statement trigger alike).
--
-- Concurrency: the UPDATE locks the row; a concurrent writer's committed append makes
-- READ COMMITTED re-check the WHERE clause on the new row version, so a comment that no
-- longer sorts last falls through to the rebuild, which locks first and reads after.
-- Several rows in one statement also work: each row's check sees the appends (or the
-- rebuild) of the rows before it.
CREATE OR REPLACE FUNCTION fraiseql_bench.comment_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE fraiseql_bench.tv_post AS t
    SET data = jsonb_insert(t.data, '{comments,-1}', jsonb_build_object(
            'id', NEW.id,
            'body', NEW.body,
            'like_count', NEW.like_count,
            'created_at', NEW.created_at,
            'author', (SELECT u.data FROM fraiseql_bench.tv_user u WHERE u.id = NEW.author_id)),
        true)
    WHERE t.id = NEW.post_id
      AND coalesce(((t.data #>> '{comments,-1,created_at}')::timestamptz,
                    (t.data #>> '{comments,-1,id}')::uuid) < (NEW.created_at, NEW.id), true);
    IF NOT FOUND THEN
        PERFORM fraiseql_bench.refresh_posts(ARRAY[NEW.post_id]);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION fraiseql_bench.refresh_users(ids uuid[], cascade_to_posts boolean)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO fraiseql_bench.tv_user AS t (id, created_at, data)
    SELECT u.id, u.created_at, fraiseql_bench.user_data(u)
    FROM public.users u
    WHERE u.id = ANY (ids)
    ON CONFLICT (id) DO UPDATE SET created_at = EXCLUDED.created_at, data = EXCLUDED.data;
    DELETE FROM fraiseql_bench.tv_user t
    WHERE t.id = ANY (ids) AND NOT EXISTS (SELECT FROM public.users u WHERE u.id = t.id);
    IF cascade_to_posts THEN  -- posts embed their author and their comments' authors
        PERFORM fraiseql_bench.refresh_posts(ARRAY(
            SELECT p.id FROM public.posts p WHERE p.author_id = ANY (ids)
            UNION
            SELECT c.post_id FROM public.comments c WHERE c.author_id = ANY (ids)));
    END IF;
END
$$;

-- One trigger function per table; the transition tables are named new_rows / old_rows.
CREATE OR REPLACE FUNCTION fraiseql_bench.sync_users() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM fraiseql_bench.refresh_users(ARRAY(SELECT id FROM new_rows), false);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM fraiseql_bench.refresh_users(
            ARRAY(SELECT id FROM new_rows UNION SELECT id FROM old_rows), true);
    ELSE
        PERFORM fraiseql_bench.refresh_users(ARRAY(SELECT id FROM old_rows), false);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION fraiseql_bench.sync_posts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM fraiseql_bench.refresh_posts(ARRAY(SELECT id FROM new_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM fraiseql_bench.refresh_posts(
            ARRAY(SELECT id FROM new_rows UNION SELECT id FROM old_rows));
    ELSE
        PERFORM fraiseql_bench.refresh_posts(ARRAY(SELECT id FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION fraiseql_bench.sync_comments() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM fraiseql_bench.refresh_posts(
            ARRAY(SELECT post_id FROM new_rows UNION SELECT post_id FROM old_rows));
    ELSE
        PERFORM fraiseql_bench.refresh_posts(ARRAY(SELECT DISTINCT post_id FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER fraiseql_bench_sync_insert AFTER INSERT ON public.users
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fraiseql_bench.sync_users();
CREATE OR REPLACE TRIGGER fraiseql_bench_sync_update AFTER UPDATE ON public.users
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fraiseql_bench.sync_users();
CREATE OR REPLACE TRIGGER fraiseql_bench_sync_delete AFTER DELETE ON public.users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fraiseql_bench.sync_users();

CREATE OR REPLACE TRIGGER fraiseql_bench_sync_insert AFTER INSERT ON public.posts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fraiseql_bench.sync_posts();
CREATE OR REPLACE TRIGGER fraiseql_bench_sync_update AFTER UPDATE ON public.posts
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fraiseql_bench.sync_posts();
CREATE OR REPLACE TRIGGER fraiseql_bench_sync_delete AFTER DELETE ON public.posts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fraiseql_bench.sync_posts();

CREATE OR REPLACE TRIGGER fraiseql_bench_sync_insert AFTER INSERT ON public.comments
    FOR EACH ROW EXECUTE FUNCTION fraiseql_bench.comment_inserted();
CREATE OR REPLACE TRIGGER fraiseql_bench_sync_update AFTER UPDATE ON public.comments
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fraiseql_bench.sync_comments();
CREATE OR REPLACE TRIGGER fraiseql_bench_sync_delete AFTER DELETE ON public.comments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fraiseql_bench.sync_comments();

-- A comment on its own (the mutation's return type is a view-backed type; the mutation
-- itself answers from the entity fn_create_comment returns, not from this view).
CREATE OR REPLACE VIEW fraiseql_bench.v_comment AS
SELECT c.id, c.post_id, c.created_at,
       jsonb_build_object(
           'id', c.id,
           'body', c.body,
           'like_count', c.like_count,
           'created_at', c.created_at,
           'author', (SELECT u.data FROM fraiseql_bench.tv_user u WHERE u.id = c.author_id)) AS data
FROM public.comments c;

-- Hidden from PostGraphile, which reflects the harness tables (and would otherwise also
-- see this schema only if configured to; belt and braces).
COMMENT ON TABLE fraiseql_bench.tv_user IS E'@behavior -*';
COMMENT ON TABLE fraiseql_bench.tv_post IS E'@behavior -*';
COMMENT ON VIEW fraiseql_bench.v_comment IS E'@behavior -*';

-- ---------------------------------------------------------------------- fill (when empty)

INSERT INTO fraiseql_bench.tv_user (id, created_at, data)
SELECT u.id, u.created_at, fraiseql_bench.user_data(u)
FROM public.users u
WHERE NOT EXISTS (SELECT FROM fraiseql_bench.tv_user);

INSERT INTO fraiseql_bench.tv_post
    (id, author_id, created_at, title, view_count, tags, author, data)
SELECT p.id, p.author_id, p.created_at, p.title, p.view_count, p.tags, a.data,
       fraiseql_bench.post_data(p, a.data, coalesce(c.items, '[]'::jsonb))
FROM public.posts p
JOIN fraiseql_bench.tv_user a ON a.id = p.author_id
LEFT JOIN (
    SELECT c.post_id,
           jsonb_agg(jsonb_build_object(
               'id', c.id,
               'body', c.body,
               'like_count', c.like_count,
               'created_at', c.created_at,
               'author', cu.data) ORDER BY c.created_at, c.id) AS items
    FROM public.comments c
    JOIN fraiseql_bench.tv_user cu ON cu.id = c.author_id
    GROUP BY c.post_id) c ON c.post_id = p.id
WHERE NOT EXISTS (SELECT FROM fraiseql_bench.tv_post);

-- ---------------------------------------------------------------------- write side

CREATE OR REPLACE FUNCTION fraiseql_bench.fn_create_comment(input jsonb)
RETURNS fraiseql.mutation_result LANGUAGE plpgsql AS $$
DECLARE
    c public.comments;
BEGIN
    INSERT INTO public.comments (post_id, author_id, body)
    VALUES ((input->>'post_id')::uuid, (input->>'author_id')::uuid, input->>'body')
    RETURNING * INTO c;
    RETURN fraiseql.success('Comment', c.id::text, jsonb_build_object(
        'id', c.id,
        'body', c.body,
        'like_count', c.like_count,
        'created_at', c.created_at,
        'author', (SELECT u.data FROM fraiseql_bench.tv_user u WHERE u.id = c.author_id)));
END
$$;

COMMENT ON FUNCTION fraiseql_bench.fn_create_comment(jsonb) IS
    E'@behavior -*\nAdd a comment: {post_id, author_id, body}; returns success(Comment).';

ANALYZE fraiseql_bench.tv_user;
ANALYZE fraiseql_bench.tv_post;

SELECT pg_advisory_unlock(hashtext('fraiseql_bench schema'));
