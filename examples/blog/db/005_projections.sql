-- Blog example: tv_post, a projection table of v_post.
--
-- v_post builds each post's data (author, tags, comments) from five tables on
-- every read. tv_post stores the same rows (same columns: id, author_id,
-- created_at, status, data), so reading a post is one index lookup and sorting
-- or filtering on a key inside data reads stored documents instead of building
-- every one. app.py reads Post from tv_post.
--
-- The four write functions of 004_mutations.sql are replaced below by the same
-- bodies plus one line before their success: PERFORM fraiseql.refresh_projection(
-- 'tv_post', ARRAY[<post id>]), which re-reads that post from v_post into tv_post
-- in the function's own transaction (a rolled-back write leaves tv_post as it
-- was; a deleted post's row is removed). 004 itself is not edited: an applied
-- migration never changes.
--
-- Anything else that changes what v_post shows must refresh the posts it
-- touches, or tv_post goes stale until `fraiseql tv rebuild tv_post`. The
-- example has no such writes, but v_post embeds its author's and commenters'
-- user fields and its tags' names: a function that updated tb_user or tb_tag
-- would end with, e.g.,
--     PERFORM fraiseql.refresh_projection('tv_post',
--         ARRAY(SELECT id FROM tb_post WHERE author_id = v_user_id
--               UNION SELECT post_id FROM tb_comment WHERE author_id = v_user_id));

CREATE TABLE tv_post (
    id          uuid        PRIMARY KEY,
    author_id   uuid        NOT NULL,
    created_at  timestamptz NOT NULL,
    status      text        NOT NULL,
    data        jsonb       NOT NULL
);

-- The same indexes tb_post has for v_post's real columns.
CREATE INDEX tv_post_created_at_idx ON tv_post (created_at);
CREATE INDEX tv_post_author_id_idx  ON tv_post (author_id);
CREATE INDEX tv_post_status_idx     ON tv_post (status);

COMMENT ON TABLE tv_post IS
    'Projection of v_post (fraiseql.projections): the same rows, stored. Kept in step '
    'by the write functions; rebuild with `fraiseql tv rebuild tv_post`.';

SELECT fraiseql.register_projection('tv_post', 'v_post');


-- fn_create_post: as in 004_mutations.sql, plus the refresh of tv_post before its success.
CREATE OR REPLACE FUNCTION fn_create_post(input jsonb)
RETURNS fraiseql.mutation_result
LANGUAGE plpgsql
AS $$
DECLARE
    v_author_id   uuid;
    v_title       text;
    v_body        text;
    v_status      text := 'draft';
    v_slug        text;
    v_tag_slugs   text[] := '{}';
    v_unknown     text[];
    v_existing_id uuid;
    v_id          uuid := gen_random_uuid();
    v_now         timestamptz;
    v_fields      text[] := ARRAY['author_id', 'title', 'body'];
    v_constraint  text;
    v_tries       integer := 0;
BEGIN
    IF input IS NULL OR jsonb_typeof(input) <> 'object' THEN
        RETURN fraiseql.validation_error('input must be a JSON object',
                                         jsonb_build_object('field', 'input'));
    END IF;

    -- author_id
    IF input->>'author_id' IS NULL THEN
        RETURN fraiseql.validation_error('author_id is required',
                                         jsonb_build_object('field', 'author_id'));
    END IF;
    BEGIN
        v_author_id := (input->>'author_id')::uuid;
    EXCEPTION WHEN invalid_text_representation THEN
        RETURN fraiseql.validation_error('author_id is not a valid id',
                                         jsonb_build_object('field', 'author_id'));
    END;

    -- title
    IF jsonb_typeof(input->'title') IS DISTINCT FROM 'string' THEN
        RETURN fraiseql.validation_error('title is required',
                                         jsonb_build_object('field', 'title'));
    END IF;
    v_title := btrim(input->>'title', E' \t\r\n\f\v');
    IF v_title = '' THEN
        RETURN fraiseql.validation_error('title must not be blank',
                                         jsonb_build_object('field', 'title'));
    END IF;
    IF char_length(v_title) > 200 THEN
        RETURN fraiseql.validation_error('title must be at most 200 characters',
                                         jsonb_build_object('field', 'title'));
    END IF;
    v_slug := trim(BOTH '-' FROM lower(regexp_replace(v_title, '[^A-Za-z0-9]+', '-', 'g')));
    IF v_slug = '' THEN
        RETURN fraiseql.validation_error('title must contain at least one letter or digit (A-Z, 0-9)',
                                         jsonb_build_object('field', 'title'));
    END IF;

    -- body
    IF jsonb_typeof(input->'body') IS DISTINCT FROM 'string' THEN
        RETURN fraiseql.validation_error('body is required',
                                         jsonb_build_object('field', 'body'));
    END IF;
    v_body := input->>'body';
    IF btrim(v_body, E' \t\r\n\f\v') = '' THEN
        RETURN fraiseql.validation_error('body must not be blank',
                                         jsonb_build_object('field', 'body'));
    END IF;

    -- status (optional)
    IF input ? 'status' AND jsonb_typeof(input->'status') <> 'null' THEN
        v_status := input->>'status';
        IF jsonb_typeof(input->'status') <> 'string'
           OR v_status NOT IN ('draft', 'published', 'archived') THEN
            RETURN fraiseql.validation_error('status must be one of draft, published, archived',
                                             jsonb_build_object('field', 'status'));
        END IF;
        v_fields := v_fields || 'status'::text;
    END IF;

    -- tag_slugs (optional)
    IF input ? 'tag_slugs' AND jsonb_typeof(input->'tag_slugs') <> 'null' THEN
        IF jsonb_typeof(input->'tag_slugs') <> 'array'
           OR EXISTS (SELECT 1 FROM jsonb_array_elements(input->'tag_slugs') AS e
                       WHERE jsonb_typeof(e) <> 'string') THEN
            RETURN fraiseql.validation_error('tag_slugs must be a list of tag slugs',
                                             jsonb_build_object('field', 'tag_slugs'));
        END IF;
        SELECT coalesce(array_agg(DISTINCT s ORDER BY s), '{}')
          INTO v_tag_slugs
          FROM jsonb_array_elements_text(input->'tag_slugs') AS s;
        v_fields := v_fields || 'tag_slugs'::text;
    END IF;

    -- The author must exist; the lock keeps it from being deleted under us.
    PERFORM 1 FROM tb_user WHERE id = v_author_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RETURN fraiseql.not_found('author not found',
                                  jsonb_build_object('author_id', v_author_id::text));
    END IF;

    -- Every tag slug must name a tag.
    SELECT array_agg(s ORDER BY s)
      INTO v_unknown
      FROM unnest(v_tag_slugs) AS s
     WHERE NOT EXISTS (SELECT 1 FROM tb_tag t WHERE t.slug = s);
    IF v_unknown IS NOT NULL THEN
        RETURN fraiseql.validation_error('unknown tag slug: ' || array_to_string(v_unknown, ', '),
                                         jsonb_build_object('field', 'tag_slugs',
                                                            'unknown', to_jsonb(v_unknown)));
    END IF;

    -- Friendly conflict for an existing slug. Not a guarantee under concurrency:
    -- tb_post_slug_key is (see the header).
    SELECT id INTO v_existing_id FROM tb_post WHERE slug = v_slug;
    IF FOUND THEN
        RETURN fraiseql.conflict('a post with this title already exists',
                                 jsonb_build_object('conflicting_id', v_existing_id::text));
    END IF;

    -- tb_post.created_at is unique too. Two sessions can read the same
    -- clock_timestamp() microsecond; retry that (and only that) with a fresh time.
    -- A slug violation is re-raised unchanged (SQLSTATE 23505, tb_post_slug_key).
    LOOP
        BEGIN
            v_now := clock_timestamp();
            INSERT INTO tb_post (id, author_id, title, slug, body, status, published_at,
                                 created_at, updated_at)
            VALUES (v_id, v_author_id, v_title, v_slug, v_body, v_status,
                    CASE WHEN v_status = 'draft' THEN NULL ELSE v_now END,
                    v_now, v_now);
            EXIT;
        EXCEPTION WHEN unique_violation THEN
            GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
            v_tries := v_tries + 1;
            IF v_constraint IS DISTINCT FROM 'tb_post_created_at_key' OR v_tries >= 5 THEN
                RAISE;
            END IF;
        END;
    END LOOP;

    INSERT INTO tb_post_tag (post_id, tag_id)
    SELECT v_id, t.id FROM tb_tag t WHERE t.slug = ANY (v_tag_slugs);

    PERFORM fraiseql.refresh_projection('tv_post', ARRAY[v_id]);

    RETURN fraiseql.success(
        'Post', v_id::text,
        (SELECT data FROM v_post WHERE id = v_id),
        'post created',
        v_fields,
        jsonb_build_object('author', (SELECT data FROM v_user WHERE id = v_author_id)),
        NULL);
END;
$$;


-- fn_update_post: as in 004_mutations.sql, plus the refresh of tv_post before its success.
CREATE OR REPLACE FUNCTION fn_update_post(input jsonb)
RETURNS fraiseql.mutation_result
LANGUAGE plpgsql
AS $$
DECLARE
    v_id         uuid;
    v_post       tb_post%ROWTYPE;
    v_title      text;
    v_body       text;
    v_status     text;
    v_published  timestamptz;
    v_before     jsonb;
    v_fields     text[] := '{}';
    v_now        timestamptz;
BEGIN
    IF input IS NULL OR jsonb_typeof(input) <> 'object' THEN
        RETURN fraiseql.validation_error('input must be a JSON object',
                                         jsonb_build_object('field', 'input'));
    END IF;

    IF input->>'id' IS NULL THEN
        RETURN fraiseql.validation_error('id is required', jsonb_build_object('field', 'id'));
    END IF;
    BEGIN
        v_id := (input->>'id')::uuid;
    EXCEPTION WHEN invalid_text_representation THEN
        RETURN fraiseql.validation_error('id is not a valid id', jsonb_build_object('field', 'id'));
    END;

    -- Shape checks before touching the table.
    IF input ? 'title' THEN
        IF jsonb_typeof(input->'title') <> 'string' THEN
            RETURN fraiseql.validation_error('title must be a string, not null',
                                             jsonb_build_object('field', 'title'));
        END IF;
        v_title := btrim(input->>'title', E' \t\r\n\f\v');
        IF v_title = '' THEN
            RETURN fraiseql.validation_error('title must not be blank',
                                             jsonb_build_object('field', 'title'));
        END IF;
        IF char_length(v_title) > 200 THEN
            RETURN fraiseql.validation_error('title must be at most 200 characters',
                                             jsonb_build_object('field', 'title'));
        END IF;
    END IF;
    IF input ? 'body' THEN
        IF jsonb_typeof(input->'body') <> 'string' THEN
            RETURN fraiseql.validation_error('body must be a string, not null',
                                             jsonb_build_object('field', 'body'));
        END IF;
        v_body := input->>'body';
        IF btrim(v_body, E' \t\r\n\f\v') = '' THEN
            RETURN fraiseql.validation_error('body must not be blank',
                                             jsonb_build_object('field', 'body'));
        END IF;
    END IF;
    IF input ? 'status' THEN
        v_status := input->>'status';
        IF jsonb_typeof(input->'status') <> 'string'
           OR v_status NOT IN ('draft', 'published', 'archived') THEN
            RETURN fraiseql.validation_error('status must be one of draft, published, archived',
                                             jsonb_build_object('field', 'status'));
        END IF;
    END IF;

    -- Lock the row so the before/after pair is consistent.
    SELECT * INTO v_post FROM tb_post WHERE id = v_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN fraiseql.not_found('post not found', jsonb_build_object('id', v_id::text));
    END IF;

    -- Keep only the keys whose value really changes, in a fixed order.
    IF input ? 'title' AND v_title IS DISTINCT FROM v_post.title THEN
        v_fields := v_fields || 'title'::text;
    ELSE
        v_title := v_post.title;
    END IF;
    IF input ? 'body' AND v_body IS DISTINCT FROM v_post.body THEN
        v_fields := v_fields || 'body'::text;
    ELSE
        v_body := v_post.body;
    END IF;
    IF input ? 'status' AND v_status IS DISTINCT FROM v_post.status THEN
        v_fields := v_fields || 'status'::text;
    ELSE
        v_status := v_post.status;
    END IF;

    v_before := (SELECT data FROM v_post WHERE id = v_id);

    IF cardinality(v_fields) = 0 THEN
        RETURN fraiseql.noop('Post', v_id::text, v_before, 'nothing to change');
    END IF;

    v_now := clock_timestamp();
    v_published := CASE
        WHEN v_status = 'draft' THEN NULL
        ELSE coalesce(v_post.published_at, v_now)
    END;

    UPDATE tb_post
       SET title        = v_title,
           body         = v_body,
           status       = v_status,
           published_at = v_published,
           updated_at   = v_now
     WHERE id = v_id;

    PERFORM fraiseql.refresh_projection('tv_post', ARRAY[v_id]);

    RETURN fraiseql.success(
        'Post', v_id::text,
        (SELECT data FROM v_post WHERE id = v_id),
        'post updated',
        v_fields,
        NULL,
        jsonb_build_object('before', v_before));
END;
$$;


-- fn_delete_post: as in 004_mutations.sql, plus the refresh of tv_post before its success.
CREATE OR REPLACE FUNCTION fn_delete_post(input jsonb)
RETURNS fraiseql.mutation_result
LANGUAGE plpgsql
AS $$
DECLARE
    v_id      uuid;
    v_before  jsonb;
BEGIN
    IF input IS NULL OR jsonb_typeof(input) <> 'object' THEN
        RETURN fraiseql.validation_error('input must be a JSON object',
                                         jsonb_build_object('field', 'input'));
    END IF;

    IF input->>'id' IS NULL THEN
        RETURN fraiseql.validation_error('id is required', jsonb_build_object('field', 'id'));
    END IF;
    BEGIN
        v_id := (input->>'id')::uuid;
    EXCEPTION WHEN invalid_text_representation THEN
        RETURN fraiseql.validation_error('id is not a valid id', jsonb_build_object('field', 'id'));
    END;

    -- Lock first, so the returned snapshot is the row that is actually deleted.
    PERFORM 1 FROM tb_post WHERE id = v_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN fraiseql.not_found('post not found', jsonb_build_object('id', v_id::text));
    END IF;

    v_before := (SELECT data FROM v_post WHERE id = v_id);

    DELETE FROM tb_post WHERE id = v_id;

    PERFORM fraiseql.refresh_projection('tv_post', ARRAY[v_id]);

    RETURN fraiseql.success(
        'Post', v_id::text, v_before, 'post deleted', NULL, NULL,
        jsonb_build_object('before', v_before));
END;
$$;


-- fn_add_comment: as in 004_mutations.sql, plus the refresh of tv_post before its success.
CREATE OR REPLACE FUNCTION fn_add_comment(input jsonb)
RETURNS fraiseql.mutation_result
LANGUAGE plpgsql
AS $$
DECLARE
    v_post_id    uuid;
    v_author_id  uuid;
    v_body       text;
    v_id         uuid := gen_random_uuid();
BEGIN
    IF input IS NULL OR jsonb_typeof(input) <> 'object' THEN
        RETURN fraiseql.validation_error('input must be a JSON object',
                                         jsonb_build_object('field', 'input'));
    END IF;

    IF input->>'post_id' IS NULL THEN
        RETURN fraiseql.validation_error('post_id is required',
                                         jsonb_build_object('field', 'post_id'));
    END IF;
    BEGIN
        v_post_id := (input->>'post_id')::uuid;
    EXCEPTION WHEN invalid_text_representation THEN
        RETURN fraiseql.validation_error('post_id is not a valid id',
                                         jsonb_build_object('field', 'post_id'));
    END;

    IF input->>'author_id' IS NULL THEN
        RETURN fraiseql.validation_error('author_id is required',
                                         jsonb_build_object('field', 'author_id'));
    END IF;
    BEGIN
        v_author_id := (input->>'author_id')::uuid;
    EXCEPTION WHEN invalid_text_representation THEN
        RETURN fraiseql.validation_error('author_id is not a valid id',
                                         jsonb_build_object('field', 'author_id'));
    END;

    IF jsonb_typeof(input->'body') IS DISTINCT FROM 'string' THEN
        RETURN fraiseql.validation_error('body is required', jsonb_build_object('field', 'body'));
    END IF;
    v_body := btrim(input->>'body', E' \t\r\n\f\v');
    IF v_body = '' THEN
        RETURN fraiseql.validation_error('body must not be blank',
                                         jsonb_build_object('field', 'body'));
    END IF;
    IF char_length(v_body) > 2000 THEN
        RETURN fraiseql.validation_error('body must be at most 2000 characters',
                                         jsonb_build_object('field', 'body'));
    END IF;

    -- The locks keep the post and the author from being deleted before we insert.
    PERFORM 1 FROM tb_post WHERE id = v_post_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RETURN fraiseql.not_found('post not found',
                                  jsonb_build_object('post_id', v_post_id::text));
    END IF;
    PERFORM 1 FROM tb_user WHERE id = v_author_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RETURN fraiseql.not_found('author not found',
                                  jsonb_build_object('author_id', v_author_id::text));
    END IF;

    INSERT INTO tb_comment (id, post_id, author_id, body, created_at)
    VALUES (v_id, v_post_id, v_author_id, v_body, clock_timestamp());

    PERFORM fraiseql.refresh_projection('tv_post', ARRAY[v_post_id]);

    RETURN fraiseql.success(
        'Comment', v_id::text,
        (SELECT data FROM v_comment WHERE id = v_id),
        'comment added');
END;
$$;


-- Fill it: every post, in this migration's transaction.
SELECT fraiseql.rebuild_projection('tv_post');
ANALYZE tv_post;
