-- Blog example: base tables.
--
-- Naming convention: tables are tb_*, read views are v_* (see 002_views.sql).
-- All primary keys are uuid. Timestamps are timestamptz.

CREATE TABLE tb_user (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    username    text        NOT NULL,
    email       text        NOT NULL,
    full_name   text        NOT NULL,
    bio         text,
    is_active   boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tb_user_username_key UNIQUE (username),
    CONSTRAINT tb_user_email_key    UNIQUE (email),
    CONSTRAINT tb_user_username_not_blank CHECK (btrim(username) <> '')
);

CREATE INDEX tb_user_created_at_idx ON tb_user (created_at);

CREATE TABLE tb_post (
    id            uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    author_id     uuid          NOT NULL REFERENCES tb_user (id) ON DELETE RESTRICT,
    title         text          NOT NULL,
    slug          text          NOT NULL,
    body          text          NOT NULL DEFAULT '',
    status        text          NOT NULL DEFAULT 'draft',
    published_at  timestamptz,
    view_count    integer       NOT NULL DEFAULT 0,
    rating        numeric(3,2),
    created_at    timestamptz   NOT NULL DEFAULT now(),
    updated_at    timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT tb_post_slug_key        UNIQUE (slug),
    CONSTRAINT tb_post_created_at_key  UNIQUE (created_at),
    CONSTRAINT tb_post_status_check    CHECK (status IN ('draft', 'published', 'archived')),
    CONSTRAINT tb_post_view_count_check CHECK (view_count >= 0),
    CONSTRAINT tb_post_rating_check    CHECK (rating IS NULL OR rating BETWEEN 0 AND 5)
);

-- The unique constraint on created_at already provides the btree index used for
-- "ORDER BY created_at DESC LIMIT n" (scanned backwards).
CREATE INDEX tb_post_author_id_idx ON tb_post (author_id);
CREATE INDEX tb_post_status_idx    ON tb_post (status);

CREATE TABLE tb_comment (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    post_id     uuid        NOT NULL REFERENCES tb_post (id) ON DELETE CASCADE,
    author_id   uuid        NOT NULL REFERENCES tb_user (id) ON DELETE RESTRICT,
    body        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX tb_comment_post_id_created_at_idx ON tb_comment (post_id, created_at);
CREATE INDEX tb_comment_author_id_idx          ON tb_comment (author_id);

CREATE TABLE tb_tag (
    id    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name  text NOT NULL,
    slug  text NOT NULL,
    CONSTRAINT tb_tag_name_key UNIQUE (name),
    CONSTRAINT tb_tag_slug_key UNIQUE (slug)
);

CREATE TABLE tb_post_tag (
    post_id  uuid NOT NULL REFERENCES tb_post (id) ON DELETE CASCADE,
    tag_id   uuid NOT NULL REFERENCES tb_tag (id)  ON DELETE CASCADE,
    PRIMARY KEY (post_id, tag_id)
);

CREATE INDEX tb_post_tag_tag_id_idx ON tb_post_tag (tag_id);
