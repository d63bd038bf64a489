-- The first migration: a table, the view the Note type reads, and a few rows.
--
-- `fraiseql dev` and `fraiseql migrate` apply db/*.sql in name order, each file
-- once. Never edit an applied file: put the next change in 002_....sql.

CREATE TABLE tb_note (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    title       text        NOT NULL,
    body        text        NOT NULL DEFAULT '',
    is_done     boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One jsonb `data` column with a key per field (snake_case), plus `id`.
CREATE VIEW v_note AS
SELECT
    n.id,
    jsonb_build_object(
        'id',         n.id,
        'title',      n.title,
        'body',       n.body,
        'is_done',    n.is_done,
        'created_at', to_jsonb(n.created_at)
    ) AS data
FROM tb_note n;

INSERT INTO tb_note (id, title, body, is_done) VALUES
    ('6c1b7e0a-2f4d-4c8e-9a1b-000000000001', 'Welcome to FraiseQL',
     'This note comes from the view v_note.', true),
    ('6c1b7e0a-2f4d-4c8e-9a1b-000000000002', 'Add a field',
     'Add a key to v_note in a new migration, then the field to Note in app.py.', false),
    ('6c1b7e0a-2f4d-4c8e-9a1b-000000000003', 'Check the views',
     'Run `fraiseql check` to compare the views with the types.', false);
