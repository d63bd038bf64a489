-- FraiseQL framework objects: the schema that every later framework file builds on,
-- the installed framework version, and the ledger of applied project migrations.
-- Idempotent: install_framework runs every framework file on every install.

CREATE SCHEMA IF NOT EXISTS fraiseql;

-- One row: the version of the framework SQL installed in this database.
CREATE TABLE IF NOT EXISTS fraiseql.schema_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version integer NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT now()
);

-- A later framework file may have raised the version already: replaying this
-- file must never lower it.
INSERT INTO fraiseql.schema_version (singleton, version) VALUES (true, 1)
ON CONFLICT (singleton) DO UPDATE SET version = excluded.version
    WHERE fraiseql.schema_version.version < excluded.version;

-- Project migrations (db/*.sql) applied to this database, one row per file.
CREATE TABLE IF NOT EXISTS fraiseql.migrations (
    filename text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
