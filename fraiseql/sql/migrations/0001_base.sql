-- 0001 base: the fraiseql schema, the installed framework version, the ledger of
-- applied framework migrations and the ledger of applied project migrations.
--
-- Written to be safe to run on a database that already has these objects: it is
-- how databases installed before framework migrations existed (by the former
-- 000_framework.sql, same objects minus fraiseql.framework_migrations) are
-- adopted. Later migrations need not be: the ledger runs each of them once.

CREATE SCHEMA IF NOT EXISTS fraiseql;

-- One row: the highest framework migration applied (install_framework keeps it).
CREATE TABLE IF NOT EXISTS fraiseql.schema_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version integer NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT now()
);

-- Framework migrations (fraiseql/sql/migrations/NNNN_name.sql) applied to this database.
CREATE TABLE IF NOT EXISTS fraiseql.framework_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- Project migrations (db/*.sql) applied to this database, one row per file.
CREATE TABLE IF NOT EXISTS fraiseql.migrations (
    filename text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON SCHEMA fraiseql IS 'FraiseQL framework objects; created and upgraded by install_framework (fraiseql install), never edited by hand.';
COMMENT ON TABLE fraiseql.schema_version IS 'One row: the highest framework migration applied to this database.';
COMMENT ON TABLE fraiseql.framework_migrations IS 'Framework migrations (fraiseql/sql/migrations/NNNN_name.sql) applied to this database, one row per migration.';
COMMENT ON TABLE fraiseql.migrations IS 'Project migrations (db/*.sql) applied to this database, one row per file, with the checksum of the applied text.';
