-- Exercise the sync triggers inside a transaction that is rolled back, checking after
-- each step that tv_post / tv_user equal a fresh rebuild for the rows involved.
--   psql -X -v ON_ERROR_STOP=1 "$DATABASE_URL" -f check_sync.sql
BEGIN;
CREATE FUNCTION pg_temp.check(step text, posts uuid[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE bad int; missing int;
BEGIN
    SELECT count(*) FILTER (WHERE t.data IS DISTINCT FROM
               fraiseql_bench.post_data(p, a.data, fraiseql_bench.post_comments(p.id))
               OR (t.title, t.view_count, t.tags, t.author)
                  IS DISTINCT FROM (p.title, p.view_count, p.tags, a.data)
               OR t.id IS NULL)
      INTO bad
      FROM public.posts p
      JOIN fraiseql_bench.tv_user a ON a.id = p.author_id
      LEFT JOIN fraiseql_bench.tv_post t ON t.id = p.id
     WHERE p.id = ANY (posts);
    SELECT count(*) INTO missing FROM fraiseql_bench.tv_post t
     WHERE t.id = ANY (posts) AND NOT EXISTS (SELECT FROM public.posts p WHERE p.id = t.id);
    IF bad + missing > 0 THEN
        RAISE EXCEPTION '% : % stale, % orphaned tv_post rows', step, bad, missing;
    END IF;
    IF EXISTS (SELECT FROM public.users u JOIN fraiseql_bench.tv_user t USING (id)
               WHERE t.data IS DISTINCT FROM fraiseql_bench.user_data(u))
       OR (SELECT count(*) FROM public.users) <> (SELECT count(*) FROM fraiseql_bench.tv_user) THEN
        RAISE EXCEPTION '% : tv_user out of step', step;
    END IF;
    RETURN step || ': ok';
END $$;
-- 1. one new comment (newest: appended)
INSERT INTO comments (post_id, author_id, body) VALUES (md5('post-11')::uuid, md5('user-1')::uuid, 'sync-check newest');
SELECT pg_temp.check('insert newest', ARRAY[md5('post-11')::uuid]);
-- 2. an old comment (sorts first: rebuilt)
INSERT INTO comments (post_id, author_id, body, created_at) VALUES (md5('post-11')::uuid, md5('user-2')::uuid, 'sync-check oldest', '2000-01-01');
SELECT pg_temp.check('insert oldest', ARRAY[md5('post-11')::uuid]);
-- 3. several posts, several comments per post, in one statement (mixed)
INSERT INTO comments (post_id, author_id, body, created_at)
SELECT md5('post-' || (12 + i % 3))::uuid, md5('user-' || i)::uuid, 'sync-check multi ' || i,
       CASE WHEN i = 4 THEN timestamptz '2001-01-01' ELSE now() + i * interval '1 second' END
FROM generate_series(1, 9) i;
SELECT pg_temp.check('insert multi', ARRAY[md5('post-12')::uuid, md5('post-13')::uuid, md5('post-14')::uuid]);
-- 4. a post with no comments yet
INSERT INTO posts (author_id, title, slug, body) VALUES (md5('user-3')::uuid, 'sync-check', 'sync-check', 'b');
SELECT pg_temp.check('insert post', ARRAY(SELECT id FROM posts WHERE slug = 'sync-check'));
INSERT INTO comments (post_id, author_id, body) SELECT id, md5('user-4')::uuid, 'sync-check first' FROM posts WHERE slug = 'sync-check';
SELECT pg_temp.check('first comment', ARRAY(SELECT id FROM posts WHERE slug = 'sync-check'));
-- 5. update a comment, move one to another post
UPDATE comments SET body = 'sync-check edited', like_count = 7 WHERE body = 'sync-check newest';
UPDATE comments SET post_id = md5('post-15')::uuid WHERE body = 'sync-check multi 1';
SELECT pg_temp.check('update comments', ARRAY[md5('post-11')::uuid, md5('post-13')::uuid, md5('post-15')::uuid]);
-- 6. update a post and a user (cascades to posts by and commented on by the user)
UPDATE posts SET title = 'sync-check title', tags = '{a,b}' WHERE id = md5('post-11')::uuid;
UPDATE users SET full_name = 'Sync Check', bio = NULL WHERE id = md5('user-1')::uuid;
SELECT pg_temp.check('update user', ARRAY(SELECT id FROM posts WHERE author_id = md5('user-1')::uuid
                                          UNION SELECT post_id FROM comments WHERE author_id = md5('user-1')::uuid));
-- 7. delete comments (as the harness does after W5), then a post
DELETE FROM comments WHERE body LIKE 'sync-check%';
SELECT pg_temp.check('delete comments', ARRAY[md5('post-11')::uuid, md5('post-12')::uuid, md5('post-13')::uuid, md5('post-14')::uuid, md5('post-15')::uuid]);
DELETE FROM posts WHERE slug = 'sync-check' RETURNING id AS deleted_post \gset
SELECT pg_temp.check('delete post', ARRAY[:'deleted_post'::uuid]);
-- 8. a new user
INSERT INTO users (id, username, email, full_name) VALUES (gen_random_uuid(), 'sync-check', 'x@y', 'X');
SELECT pg_temp.check('insert user', ARRAY[]::uuid[]);
ROLLBACK;
