-- Blog example: read views.
--
-- Every view exposes `id`, optional real columns for filtering/ordering, and one
-- jsonb `data` column with snake_case keys. Embedded objects and lists are built
-- with correlated sub-selects inside the select list, so when a query does not
-- need `data` (or only needs it for the rows that survive WHERE/ORDER BY/LIMIT)
-- PostgreSQL never evaluates them for the other rows.
--
-- Timestamps are rendered by jsonb's own timestamptz conversion (same as
-- to_jsonb): ISO 8601, e.g. "2023-01-01T01:23:45+00:00". The offset shown follows
-- the session's TimeZone setting.
--
-- Tag lists are ordered by name under the "C" collation so the output is the
-- same whatever the database's default collation is.

CREATE VIEW v_user AS
SELECT
    u.id,
    u.created_at,
    jsonb_build_object(
        'id',         u.id,
        'username',   u.username,
        'email',      u.email,
        'full_name',  u.full_name,
        'bio',        u.bio,
        'is_active',  u.is_active,
        'created_at', to_jsonb(u.created_at),
        'post_count', (SELECT count(*) FROM tb_post p WHERE p.author_id = u.id)
    ) AS data
FROM tb_user u;

CREATE VIEW v_tag AS
SELECT
    t.id,
    jsonb_build_object(
        'id',   t.id,
        'name', t.name,
        'slug', t.slug
    ) AS data
FROM tb_tag t;

CREATE VIEW v_comment AS
SELECT
    c.id,
    c.post_id,
    c.author_id,
    c.created_at,
    jsonb_build_object(
        'id',         c.id,
        'body',       c.body,
        'created_at', to_jsonb(c.created_at),
        'post_id',    c.post_id,
        'author',     (SELECT jsonb_build_object(
                                  'id',        u.id,
                                  'username',  u.username,
                                  'full_name', u.full_name)
                         FROM tb_user u
                        WHERE u.id = c.author_id)
    ) AS data
FROM tb_comment c;

CREATE VIEW v_post AS
SELECT
    p.id,
    p.author_id,
    p.created_at,
    p.status,
    jsonb_build_object(
        'id',           p.id,
        'title',        p.title,
        'slug',         p.slug,
        'body',         p.body,
        'status',       p.status,
        'published_at', to_jsonb(p.published_at),
        'view_count',   p.view_count,
        'rating',       p.rating,
        'created_at',   to_jsonb(p.created_at),
        'updated_at',   to_jsonb(p.updated_at),
        'author',       (SELECT jsonb_build_object(
                                    'id',        u.id,
                                    'username',  u.username,
                                    'full_name', u.full_name,
                                    'email',     u.email,
                                    'bio',       u.bio)
                           FROM tb_user u
                          WHERE u.id = p.author_id),
        'tags',         (SELECT coalesce(
                                    jsonb_agg(
                                        jsonb_build_object(
                                            'id',   t.id,
                                            'name', t.name,
                                            'slug', t.slug)
                                        ORDER BY t.name COLLATE "C", t.id),
                                    '[]'::jsonb)
                           FROM tb_post_tag pt
                           JOIN tb_tag t ON t.id = pt.tag_id
                          WHERE pt.post_id = p.id),
        'comments',     (SELECT coalesce(
                                    jsonb_agg(
                                        jsonb_build_object(
                                            'id',         c.id,
                                            'body',       c.body,
                                            'created_at', to_jsonb(c.created_at),
                                            'author',     jsonb_build_object(
                                                              'id',        cu.id,
                                                              'username',  cu.username,
                                                              'full_name', cu.full_name))
                                        ORDER BY c.created_at, c.id),
                                    '[]'::jsonb)
                           FROM tb_comment c
                           JOIN tb_user cu ON cu.id = c.author_id
                          WHERE c.post_id = p.id)
    ) AS data
FROM tb_post p;
