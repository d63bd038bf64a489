-- The whole FraiseQL framework schema as of the latest migration in migrations/.
--
-- A fresh install runs this file instead of every migration, then records each
-- migration as applied; an existing database gets only the migrations it lacks.
-- Both must end in the same schema: a change goes into a new migration AND here
-- (tests/integration/test_framework_sql.py compares the two).

CREATE SCHEMA IF NOT EXISTS fraiseql;

-- One row: the highest framework migration applied (install_framework keeps it).
CREATE TABLE fraiseql.schema_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version integer NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT now()
);

-- Framework migrations (fraiseql/sql/migrations/NNNN_name.sql) applied to this database.
CREATE TABLE fraiseql.framework_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- Project migrations (db/*.sql) applied to this database, one row per file.
CREATE TABLE fraiseql.migrations (
    filename text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON SCHEMA fraiseql IS 'FraiseQL framework objects; created and upgraded by install_framework (fraiseql install), never edited by hand.';
COMMENT ON TABLE fraiseql.schema_version IS 'One row: the highest framework migration applied to this database.';
COMMENT ON TABLE fraiseql.framework_migrations IS 'Framework migrations (fraiseql/sql/migrations/NNNN_name.sql) applied to this database, one row per migration.';
COMMENT ON TABLE fraiseql.migrations IS 'Project migrations (db/*.sql) applied to this database, one row per file, with the checksum of the applied text.';

-- Mutations: see migrations/0002_mutations.sql for how the engine uses them.

-- The ten columns, in this order, are a contract: functions build it positionally.
CREATE TYPE fraiseql.mutation_result AS (
    succeeded boolean,
    state_changed boolean,
    error_class text,
    message text,
    entity_id text,
    entity_type text,
    entity jsonb,
    updated_fields text[],
    cascade jsonb,
    metadata jsonb
);

COMMENT ON TYPE fraiseql.mutation_result IS 'What a mutation function returns; build it with fraiseql.success, fraiseql.noop, fraiseql.error or a class builder, never by hand.';
COMMENT ON COLUMN fraiseql.mutation_result.succeeded IS 'true: the mutation did what was asked (or had nothing to do); false: it failed and changed nothing.';
COMMENT ON COLUMN fraiseql.mutation_result.state_changed IS 'true when the mutation wrote something; only a success may change state.';
COMMENT ON COLUMN fraiseql.mutation_result.error_class IS 'null on success; on failure one of fraiseql.error_classes(): validation, not_found, conflict, unauthorized, forbidden, timeout, failed.';
COMMENT ON COLUMN fraiseql.mutation_result.message IS 'A human-readable message for the client (optional on success).';
COMMENT ON COLUMN fraiseql.mutation_result.entity_id IS 'The id of the entity the mutation is about, as text.';
COMMENT ON COLUMN fraiseql.mutation_result.entity_type IS 'The GraphQL type name of that entity, e.g. Post.';
COMMENT ON COLUMN fraiseql.mutation_result.entity IS 'The entity as its view presents it (the data column), after the mutation.';
COMMENT ON COLUMN fraiseql.mutation_result.updated_fields IS 'The fields the mutation changed, if it says so.';
COMMENT ON COLUMN fraiseql.mutation_result.cascade IS 'Other entities the mutation changed, as JSON, if it says so.';
COMMENT ON COLUMN fraiseql.mutation_result.metadata IS 'Anything else for the result members (error details, before, ...) as a JSON object.';

-- The closed set of error classes, in one place.
CREATE FUNCTION fraiseql.error_classes() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ARRAY['validation', 'not_found', 'conflict', 'unauthorized', 'forbidden', 'timeout', 'failed']::text[]
$$;

COMMENT ON FUNCTION fraiseql.error_classes() IS 'The error classes a failed mutation result may carry: validation, not_found, conflict, unauthorized, forbidden, timeout, failed.';

CREATE FUNCTION fraiseql.success(
    entity_type text, entity_id text, entity jsonb, message text DEFAULT NULL,
    updated_fields text[] DEFAULT NULL, cascade jsonb DEFAULT NULL, metadata jsonb DEFAULT NULL
) RETURNS fraiseql.mutation_result
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ROW(true, true, NULL, message, entity_id, entity_type, entity,
               updated_fields, cascade, metadata)::fraiseql.mutation_result
$$;

COMMENT ON FUNCTION fraiseql.success(text, text, jsonb, text, text[], jsonb, jsonb) IS 'A successful mutation that changed state (logged to fraiseql.change_log): entity_type, entity_id, entity, then optional message, updated_fields, cascade, metadata.';

CREATE FUNCTION fraiseql.noop(
    entity_type text, entity_id text, entity jsonb, message text DEFAULT NULL,
    metadata jsonb DEFAULT NULL
) RETURNS fraiseql.mutation_result
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ROW(true, false, NULL, message, entity_id, entity_type, entity,
               NULL, NULL, metadata)::fraiseql.mutation_result
$$;

COMMENT ON FUNCTION fraiseql.noop(text, text, jsonb, text, jsonb) IS 'A successful mutation that had nothing to change (not logged): entity_type, entity_id, entity, then optional message, metadata.';

CREATE FUNCTION fraiseql.error(
    error_class text, message text, metadata jsonb DEFAULT NULL, entity_type text DEFAULT NULL,
    entity_id text DEFAULT NULL, entity jsonb DEFAULT NULL
) RETURNS fraiseql.mutation_result
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF error_class IS NULL OR NOT error_class = ANY (fraiseql.error_classes()) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'FQ001',
            MESSAGE = format('fraiseql.error: unknown error class %s; expected one of %s',
                             coalesce(quote_literal(error_class), 'NULL'),
                             array_to_string(fraiseql.error_classes(), ', ')),
            HINT = 'or call the builder of the class, e.g. fraiseql.not_found(message)';
    END IF;
    RETURN ROW(false, false, error_class, message, entity_id, entity_type, entity,
               NULL, NULL, metadata)::fraiseql.mutation_result;
END
$$;

COMMENT ON FUNCTION fraiseql.error(text, text, jsonb, text, text, jsonb) IS 'A failed mutation (changed nothing) of error_class, one of fraiseql.error_classes() (else SQLSTATE FQ001), with message and optional metadata, entity_type, entity_id, entity.';

CREATE FUNCTION fraiseql.validation_error(message text, metadata jsonb DEFAULT NULL)
RETURNS fraiseql.mutation_result
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ROW(false, false, 'validation', message, NULL, NULL, NULL, NULL, NULL,
               metadata)::fraiseql.mutation_result
$$;

COMMENT ON FUNCTION fraiseql.validation_error(text, jsonb) IS 'A failed mutation of class validation: the input is not acceptable.';

CREATE FUNCTION fraiseql.not_found(message text, metadata jsonb DEFAULT NULL)
RETURNS fraiseql.mutation_result
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ROW(false, false, 'not_found', message, NULL, NULL, NULL, NULL, NULL,
               metadata)::fraiseql.mutation_result
$$;

COMMENT ON FUNCTION fraiseql.not_found(text, jsonb) IS 'A failed mutation of class not_found: an entity it needs does not exist.';

CREATE FUNCTION fraiseql.conflict(message text, metadata jsonb DEFAULT NULL)
RETURNS fraiseql.mutation_result
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ROW(false, false, 'conflict', message, NULL, NULL, NULL, NULL, NULL,
               metadata)::fraiseql.mutation_result
$$;

COMMENT ON FUNCTION fraiseql.conflict(text, jsonb) IS 'A failed mutation of class conflict: it clashes with the current state (duplicate, stale version).';

CREATE FUNCTION fraiseql.unauthorized(message text, metadata jsonb DEFAULT NULL)
RETURNS fraiseql.mutation_result
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ROW(false, false, 'unauthorized', message, NULL, NULL, NULL, NULL, NULL,
               metadata)::fraiseql.mutation_result
$$;

COMMENT ON FUNCTION fraiseql.unauthorized(text, jsonb) IS 'A failed mutation of class unauthorized: the caller is not authenticated.';

CREATE FUNCTION fraiseql.forbidden(message text, metadata jsonb DEFAULT NULL)
RETURNS fraiseql.mutation_result
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ROW(false, false, 'forbidden', message, NULL, NULL, NULL, NULL, NULL,
               metadata)::fraiseql.mutation_result
$$;

COMMENT ON FUNCTION fraiseql.forbidden(text, jsonb) IS 'A failed mutation of class forbidden: the caller may not do this.';

CREATE FUNCTION fraiseql.timeout_error(message text, metadata jsonb DEFAULT NULL)
RETURNS fraiseql.mutation_result
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ROW(false, false, 'timeout', message, NULL, NULL, NULL, NULL, NULL,
               metadata)::fraiseql.mutation_result
$$;

COMMENT ON FUNCTION fraiseql.timeout_error(text, jsonb) IS 'A failed mutation of class timeout: something it waited for took too long.';

CREATE FUNCTION fraiseql.failed(message text, metadata jsonb DEFAULT NULL)
RETURNS fraiseql.mutation_result
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ROW(false, false, 'failed', message, NULL, NULL, NULL, NULL, NULL,
               metadata)::fraiseql.mutation_result
$$;

COMMENT ON FUNCTION fraiseql.failed(text, jsonb) IS 'A failed mutation of class failed: any other failure.';

-- Every result passes through here before the engine uses it.
CREATE FUNCTION fraiseql.checked(r fraiseql.mutation_result) RETURNS fraiseql.mutation_result
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    problem text;
BEGIN
    IF r IS NULL THEN
        problem := 'the result is null (did the function RETURN a built result on every path?)';
    ELSIF r.succeeded IS NULL THEN
        problem := 'succeeded is null';
    ELSIF r.state_changed IS NULL THEN
        problem := 'state_changed is null';
    ELSIF r.error_class IS NOT NULL AND NOT r.error_class = ANY (fraiseql.error_classes()) THEN
        problem := format('error_class %L is not one of %s', r.error_class,
                          array_to_string(fraiseql.error_classes(), ', '));
    ELSIF r.succeeded AND r.error_class IS NOT NULL THEN
        problem := format('succeeded = true with error_class %L (a success has no error class)',
                          r.error_class);
    ELSIF NOT r.succeeded AND r.state_changed THEN
        problem := 'succeeded = false with state_changed = true (a failed mutation must change nothing)';
    ELSIF NOT r.succeeded AND r.error_class IS NULL THEN
        problem := format('succeeded = false without an error_class (one of %s)',
                          array_to_string(fraiseql.error_classes(), ', '));
    END IF;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'FQ001',
            MESSAGE = 'illegal mutation result: ' || problem,
            HINT = 'build the result with fraiseql.success, fraiseql.noop, fraiseql.error or a class builder such as fraiseql.not_found';
    END IF;
    RETURN r;
END
$$;

COMMENT ON FUNCTION fraiseql.checked(fraiseql.mutation_result) IS 'Returns a legal mutation result unchanged; raises SQLSTATE FQ001 (illegal mutation result: ...) for an illegal one.';

-- One row per mutation that succeeded and changed state, written by the engine
-- in the mutation's own statement (so it commits or rolls back with it).
CREATE TABLE fraiseql.change_log (
    seq bigserial PRIMARY KEY,
    entity_type text,
    entity_id text,
    operation text NOT NULL CONSTRAINT change_log_operation_check
        CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE', 'CUSTOM')),
    entity_after jsonb,
    entity_before jsonb,
    updated_fields text[],
    mutation text NOT NULL,
    actor text,
    tenant_id text,
    trace_id text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX change_log_entity_idx ON fraiseql.change_log (entity_type, entity_id);

COMMENT ON TABLE fraiseql.change_log IS 'One row per mutation that succeeded and changed state, appended by the engine in the mutation''s own statement.';
COMMENT ON COLUMN fraiseql.change_log.seq IS 'Order of the changes (gaps possible: rolled-back mutations consume numbers).';
COMMENT ON COLUMN fraiseql.change_log.entity_type IS 'mutation_result.entity_type: the GraphQL type of the changed entity.';
COMMENT ON COLUMN fraiseql.change_log.entity_id IS 'mutation_result.entity_id: the id of the changed entity, as text.';
COMMENT ON COLUMN fraiseql.change_log.operation IS 'The operation the mutation declares: INSERT, UPDATE, DELETE or CUSTOM.';
COMMENT ON COLUMN fraiseql.change_log.entity_after IS 'mutation_result.entity: the entity after the change.';
COMMENT ON COLUMN fraiseql.change_log.entity_before IS 'The entity before the change, when the function gives it (metadata.before).';
COMMENT ON COLUMN fraiseql.change_log.updated_fields IS 'mutation_result.updated_fields.';
COMMENT ON COLUMN fraiseql.change_log.mutation IS 'The GraphQL name of the mutation, e.g. createPost.';
COMMENT ON COLUMN fraiseql.change_log.actor IS 'Who made the change (the request''s user id), if known.';
COMMENT ON COLUMN fraiseql.change_log.tenant_id IS 'The request''s tenant id, if any.';
COMMENT ON COLUMN fraiseql.change_log.trace_id IS 'The request''s trace id, if any.';
COMMENT ON COLUMN fraiseql.change_log.created_at IS 'When the row was written (clock time, not transaction start).';
COMMENT ON CONSTRAINT change_log_operation_check ON fraiseql.change_log IS 'operation is one of INSERT, UPDATE, DELETE, CUSTOM.';
COMMENT ON INDEX fraiseql.change_log_entity_idx IS 'The history of one entity: WHERE entity_type = ... AND entity_id = ... ORDER BY seq.';

-- Persisted queries and trusted documents: see migrations/0003_persisted_queries.sql.

CREATE TABLE fraiseql.persisted_queries (
    hash text PRIMARY KEY,
    query text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT persisted_queries_hash_check
        CHECK (hash = encode(sha256(convert_to(query, 'UTF8')), 'hex'))
);

COMMENT ON TABLE fraiseql.persisted_queries IS 'Automatic persisted queries registered by clients (FRAISEQL_APQ_STORE=postgres), shared by every server.';
COMMENT ON COLUMN fraiseql.persisted_queries.hash IS 'The lower-case hex SHA-256 of query (UTF-8): extensions.persistedQuery.sha256Hash.';
COMMENT ON COLUMN fraiseql.persisted_queries.query IS 'The GraphQL document, exactly as the client sent it.';
COMMENT ON COLUMN fraiseql.persisted_queries.created_at IS 'When a client first registered it.';
COMMENT ON CONSTRAINT persisted_queries_hash_check ON fraiseql.persisted_queries IS 'hash is the SHA-256 of query.';

CREATE TABLE fraiseql.trusted_documents (
    hash text PRIMARY KEY,
    query text NOT NULL,
    name text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT trusted_documents_hash_check
        CHECK (hash = encode(sha256(convert_to(query, 'UTF8')), 'hex'))
);

COMMENT ON TABLE fraiseql.trusted_documents IS 'The documents a server with FRAISEQL_TRUSTED_DOCUMENTS=strict accepts; written by fraiseql documents register.';
COMMENT ON COLUMN fraiseql.trusted_documents.hash IS 'The lower-case hex SHA-256 of query (UTF-8), as in the manifest.';
COMMENT ON COLUMN fraiseql.trusted_documents.query IS 'The GraphQL document, exactly as the manifest has it.';
COMMENT ON COLUMN fraiseql.trusted_documents.name IS 'The names of the operations in the document (comma-separated), if any.';
COMMENT ON COLUMN fraiseql.trusted_documents.created_at IS 'When it was registered.';
COMMENT ON CONSTRAINT trusted_documents_hash_check ON fraiseql.trusted_documents IS 'hash is the SHA-256 of query.';

CREATE FUNCTION fraiseql.notify_trusted_documents() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('fraiseql_trusted_documents', TG_OP);
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION fraiseql.notify_trusted_documents() IS 'Notifies fraiseql_trusted_documents (payload: the operation) so that every server reloads the trusted documents.';

CREATE TRIGGER trusted_documents_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fraiseql.trusted_documents
    FOR EACH STATEMENT EXECUTE FUNCTION fraiseql.notify_trusted_documents();

COMMENT ON TRIGGER trusted_documents_notify ON fraiseql.trusted_documents IS 'Any change, by fraiseql documents register or by hand, reaches every server.';
