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

-- Projection tables: see migrations/0004_projection_tables.sql.

CREATE TABLE fraiseql.projections (
    tv regclass PRIMARY KEY,
    source regclass NOT NULL,
    key_column name NOT NULL DEFAULT 'id',
    rebuilt_at timestamptz
);

COMMENT ON TABLE fraiseql.projections IS 'Projection tables (tv_*): each stores the rows of its source view, kept in step by fraiseql.refresh_projection and rebuilt by fraiseql.rebuild_projection. Written by fraiseql.register_projection.';
COMMENT ON COLUMN fraiseql.projections.tv IS 'The projection table.';
COMMENT ON COLUMN fraiseql.projections.source IS 'The view (or other relation) whose rows the table stores.';
COMMENT ON COLUMN fraiseql.projections.key_column IS 'The uuid column identifying a row in both the table and the source (unique in the table).';
COMMENT ON COLUMN fraiseql.projections.rebuilt_at IS 'When fraiseql.rebuild_projection last committed for this table (null: never).';

-- The statements every refresh and rebuild runs, made from the catalog each time,
-- so a column added to both the source and the table is copied without re-registering.
CREATE FUNCTION fraiseql.projection_statements(
    tv regclass, OUT source regclass, OUT key_column name, OUT upsert text, OUT remove text
)
LANGUAGE plpgsql STABLE
AS $$
#variable_conflict use_column
DECLARE
    v_columns text;
    v_values text;
    v_assignments text;
    v_old text;
    v_new text;
BEGIN
    SELECT p.source, p.key_column INTO source, key_column
      FROM fraiseql.projections p WHERE p.tv = projection_statements.tv;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'undefined_object',
            MESSAGE = format('%s is not a registered projection table', tv),
            HINT = format('register it first: SELECT fraiseql.register_projection(%L, ''<source view>'')',
                          tv::text);
    END IF;
    IF NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = source) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'undefined_table',
            MESSAGE = format('the source of projection %s (OID %s) no longer exists', tv,
                             source::oid),
            HINT = format('register it again: SELECT fraiseql.register_projection(%L, ''<source view>'')',
                          tv::text);
    END IF;
    SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum),
           string_agg(format('s.%I', a.attname), ', ' ORDER BY a.attnum),
           string_agg(format('%I = excluded.%I', a.attname, a.attname), ', ' ORDER BY a.attnum)
               FILTER (WHERE a.attname <> key_column),
           string_agg(format('t.%I', a.attname), ', ' ORDER BY a.attnum),
           string_agg(format('excluded.%I', a.attname), ', ' ORDER BY a.attnum)
      INTO v_columns, v_values, v_assignments, v_old, v_new
      FROM pg_attribute a
     WHERE a.attrelid = tv AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
    -- $1 (uuid[]) names the keys to bring in step; null means every row. Planned
    -- with its value, so either way the condition folds away or uses the key's index.
    -- An unchanged row is not rewritten; rows are compared as text because jsonb
    -- equality calls 1.0 and 1.00 equal, yet a client would see the difference.
    upsert := format('INSERT INTO %s AS t (%s) SELECT %s FROM %s AS s'
                     ' WHERE ($1::uuid[] IS NULL OR s.%I = ANY ($1)) ',
                     tv, v_columns, v_values, source, key_column)
        || CASE WHEN v_assignments IS NULL
                THEN format('ON CONFLICT (%I) DO NOTHING', key_column)
                ELSE format('ON CONFLICT (%I) DO UPDATE SET %s WHERE ROW(%s)::text IS DISTINCT '
                            'FROM ROW(%s)::text', key_column, v_assignments, v_old, v_new)
           END;
    remove := format('DELETE FROM %s AS t WHERE ($1::uuid[] IS NULL OR t.%I = ANY ($1))'
                     ' AND NOT EXISTS (SELECT FROM %s AS s WHERE s.%I = t.%I)',
                     tv, key_column, source, key_column, key_column);
END
$$;

COMMENT ON FUNCTION fraiseql.projection_statements(regclass) IS 'Internal: the registered source and key of a projection table and the upsert and delete statements that bring rows of it in step with the source; raises undefined_object when the table is not registered.';

CREATE FUNCTION fraiseql.register_projection(tv regclass, source regclass,
                                             key_column text DEFAULT 'id')
RETURNS void
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_kind "char";
    v_problem text;
BEGIN
    IF tv IS NULL OR source IS NULL OR key_column IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'fraiseql.register_projection: tv, source and key_column must not be null';
    END IF;
    SELECT relkind INTO v_kind FROM pg_class WHERE oid = tv;
    IF v_kind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
            MESSAGE = format('projection %s must be a table, not a %s', tv,
                             CASE v_kind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                                         WHEN 'f' THEN 'foreign table'
                                         ELSE 'relation of kind ' || v_kind::text END);
    END IF;
    IF tv = source THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('projection %s cannot be its own source', tv);
    END IF;
    SELECT relkind INTO v_kind FROM pg_class WHERE oid = source;
    IF v_kind NOT IN ('v', 'm', 'r', 'p', 'f') THEN
        RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
            MESSAGE = format('source %s of projection %s must be a view or a table', source, tv);
    END IF;

    -- The key: a uuid column in both (refresh_projection takes uuid[]), unique in the table.
    SELECT CASE
             WHEN t.attname IS NULL THEN format('%s has no key column %I', tv, key_column)
             WHEN s.attname IS NULL THEN format('%s has no key column %I', source, key_column)
             WHEN t.atttypid <> 'uuid'::regtype THEN
                 format('key column %s.%I is %s, expected uuid', tv, key_column,
                        format_type(t.atttypid, t.atttypmod))
             WHEN s.atttypid <> 'uuid'::regtype THEN
                 format('key column %s.%I is %s, expected uuid', source, key_column,
                        format_type(s.atttypid, s.atttypmod))
           END
      INTO v_problem
      FROM (SELECT) AS one
      LEFT JOIN pg_attribute t ON t.attrelid = tv AND t.attname = key_column
                              AND t.attnum > 0 AND NOT t.attisdropped
      LEFT JOIN pg_attribute s ON s.attrelid = source AND s.attname = key_column
                              AND s.attnum > 0 AND NOT s.attisdropped;
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_column', MESSAGE = v_problem;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a
                     ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                    WHERE i.indrelid = tv AND i.indisunique AND i.indnkeyatts = 1
                      AND i.indpred IS NULL AND i.indexprs IS NULL AND a.attname = key_column) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_table_definition',
            MESSAGE = format('projection %s needs a primary key or unique index on (%I)', tv,
                             key_column),
            HINT = format('ALTER TABLE %s ADD PRIMARY KEY (%I)', tv, key_column);
    END IF;

    -- Every column the table fills comes from the source column of that name and type.
    SELECT string_agg(CASE WHEN s.attname IS NULL THEN format('%s has no column %I', source, t.attname)
                           ELSE format('column %I is %s in %s but %s in %s', t.attname,
                                       format_type(t.atttypid, t.atttypmod), tv,
                                       format_type(s.atttypid, s.atttypmod), source)
                      END, '; ' ORDER BY t.attnum)
      INTO v_problem
      FROM pg_attribute t
      LEFT JOIN pg_attribute s ON s.attrelid = source AND s.attname = t.attname
                              AND s.attnum > 0 AND NOT s.attisdropped
     WHERE t.attrelid = tv AND t.attnum > 0 AND NOT t.attisdropped AND t.attgenerated = ''
       AND (s.attname IS NULL OR s.atttypid <> t.atttypid);
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'datatype_mismatch',
            MESSAGE = format('projection %s does not match its source: %s', tv, v_problem),
            HINT = 'give the table the columns of the source, with the same types';
    END IF;

    INSERT INTO fraiseql.projections AS p (tv, source, key_column)
    VALUES (register_projection.tv, register_projection.source, register_projection.key_column)
    ON CONFLICT (tv) DO UPDATE
        SET source = excluded.source, key_column = excluded.key_column,
            rebuilt_at = CASE WHEN (p.source, p.key_column) = (excluded.source, excluded.key_column)
                              THEN p.rebuilt_at END;
END
$$;

COMMENT ON FUNCTION fraiseql.register_projection(regclass, regclass, text) IS 'Register table tv as the projection of source (a view), keyed by key_column (uuid, unique in tv); every column of tv must be a source column of the same type. Registering again replaces the source and key. Does not fill the table: call fraiseql.rebuild_projection.';

CREATE FUNCTION fraiseql.unregister_projection(tv regclass) RETURNS boolean
LANGUAGE sql
AS $$
    WITH gone AS (DELETE FROM fraiseql.projections p WHERE p.tv = $1 RETURNING 1)
    SELECT EXISTS (SELECT FROM gone)
$$;

COMMENT ON FUNCTION fraiseql.unregister_projection(regclass) IS 'Forget a projection table (call it before dropping the table); true if it was registered. The table and its rows stay.';

CREATE FUNCTION fraiseql.refresh_projection(tv regclass, ids uuid[]) RETURNS void
LANGUAGE plpgsql
SET "TimeZone" = 'UTC'
AS $$
DECLARE
    v record;
BEGIN
    SELECT * INTO v FROM fraiseql.projection_statements(tv);
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    -- Four statements, in this order: the lock waits for a running rebuild, the
    -- row locks for another refresh of the same keys; the reads after them see
    -- what those committed.
    EXECUTE format('LOCK TABLE %s IN ROW EXCLUSIVE MODE', tv);
    EXECUTE format('SELECT FROM %s WHERE %I = ANY ($1) ORDER BY %I FOR UPDATE', tv,
                   v.key_column, v.key_column) USING ids;
    EXECUTE v.remove USING ids;
    EXECUTE v.upsert USING ids;
END
$$;

COMMENT ON FUNCTION fraiseql.refresh_projection(regclass, uuid[]) IS 'Bring the rows of projection table tv with these keys in step with its source, in the caller''s transaction: rows the source has are inserted or updated (unchanged ones are not rewritten), rows it no longer has are deleted. Call it from every function that changes what the source shows for those keys.';

CREATE FUNCTION fraiseql.rebuild_projection(
    tv regclass, OUT inserted bigint, OUT updated bigint, OUT deleted bigint
)
LANGUAGE plpgsql
SET "TimeZone" = 'UTC'
AS $$
#variable_conflict use_column
DECLARE
    v record;
BEGIN
    SELECT * INTO v FROM fraiseql.projection_statements(tv);
    -- Readers go on reading the old rows until this commits; refreshes wait and
    -- then apply their (newer) rows over these.
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', tv);
    EXECUTE format('WITH gone AS (%s RETURNING 1) SELECT count(*) FROM gone', v.remove)
        INTO deleted USING NULL::uuid[];
    -- xmax is 0 on a row version this statement inserted, our xid on one it updated.
    EXECUTE format('WITH written AS (%s RETURNING t.xmax = 0 AS fresh) SELECT'
                   ' count(*) FILTER (WHERE fresh), count(*) FILTER (WHERE NOT fresh) FROM written',
                   v.upsert) INTO inserted, updated USING NULL::uuid[];
    UPDATE fraiseql.projections p SET rebuilt_at = now() WHERE p.tv = rebuild_projection.tv;
END
$$;

COMMENT ON FUNCTION fraiseql.rebuild_projection(regclass) IS 'Make projection table tv equal to its source in one transaction without emptying it: missing rows inserted, differing rows updated, rows the source lacks deleted; returns those three counts. Readers are not blocked; writes to tv wait until it commits.';

-- Result cache invalidation: see migrations/0005_result_cache.sql and
-- 0007_change_notify_switch.sql (notifications start off).

CREATE SEQUENCE fraiseql.change_notifications_on MINVALUE 0 MAXVALUE 1 START 0;

COMMENT ON SEQUENCE fraiseql.change_notifications_on IS 'Whether inserts into fraiseql.change_log notify fraiseql_changes: last_value 0 (off, the default) or 1 (on, since a server with a result cache started).';

-- Readable by every role that writes the change log (the trigger reads it as the writer).
GRANT SELECT ON SEQUENCE fraiseql.change_notifications_on TO PUBLIC;

CREATE FUNCTION fraiseql.notify_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    payload text;
BEGIN
    IF (SELECT s.last_value FROM fraiseql.change_notifications_on AS s) = 0 THEN
        RETURN NULL;  -- no result cache anywhere: nobody to tell
    END IF;
    SELECT jsonb_agg(DISTINCT c.entity_type)::text INTO payload FROM changed AS c;
    IF payload IS NULL THEN
        RETURN NULL;  -- the statement inserted nothing
    END IF;
    IF octet_length(payload) >= 8000 THEN
        payload := '*';
    END IF;
    PERFORM pg_notify('fraiseql_changes', payload);
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION fraiseql.notify_changes() IS 'Once change notifications are on (fraiseql.change_notifications_on), notifies fraiseql_changes with the entity types a statement logged (a JSON array, or * when too long) so that every server drops the cached results that read them.';

CREATE TRIGGER change_log_notify
    AFTER INSERT ON fraiseql.change_log
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION fraiseql.notify_changes();

COMMENT ON TRIGGER change_log_notify ON fraiseql.change_log IS 'Every change logged, by a mutation or by hand, reaches the result cache of every server.';

-- Authentication (API keys, sessions, revoked tokens): see migrations/0006_auth.sql.

CREATE TABLE fraiseql.api_keys (
    id text PRIMARY KEY,
    secret_hash bytea NOT NULL,
    name text NOT NULL,
    subject text NOT NULL,
    roles text[] NOT NULL DEFAULT '{}',
    scopes text[] NOT NULL DEFAULT '{}',
    tenant_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz,
    last_used_at timestamptz,
    CONSTRAINT api_keys_id_check CHECK (id ~ '^[A-Za-z0-9]{8,32}$'),
    CONSTRAINT api_keys_secret_hash_check CHECK (octet_length(secret_hash) = 32)
);

COMMENT ON TABLE fraiseql.api_keys IS 'API keys (header X-API-Key: fq_<id>_<secret>) for services; written by fraiseql apikey create|revoke. The secret itself is never stored.';
COMMENT ON COLUMN fraiseql.api_keys.id IS 'The public part of the key: looked up, logged and named by fraiseql apikey revoke.';
COMMENT ON COLUMN fraiseql.api_keys.secret_hash IS 'SHA-256 of the secret part of the key (32 random bytes, base64url).';
COMMENT ON COLUMN fraiseql.api_keys.name IS 'What the key is for (free text).';
COMMENT ON COLUMN fraiseql.api_keys.subject IS 'The principal''s subject when this key authenticates a request.';
COMMENT ON COLUMN fraiseql.api_keys.roles IS 'The principal''s roles.';
COMMENT ON COLUMN fraiseql.api_keys.scopes IS 'The principal''s scopes.';
COMMENT ON COLUMN fraiseql.api_keys.tenant_id IS 'The principal''s tenant, if any.';
COMMENT ON COLUMN fraiseql.api_keys.created_at IS 'When the key was created.';
COMMENT ON COLUMN fraiseql.api_keys.expires_at IS 'When the key stops working (null: never).';
COMMENT ON COLUMN fraiseql.api_keys.revoked_at IS 'When the key was revoked (null: not revoked).';
COMMENT ON COLUMN fraiseql.api_keys.last_used_at IS 'When the key last authenticated a request, to the minute (written at most once a minute).';
COMMENT ON CONSTRAINT api_keys_id_check ON fraiseql.api_keys IS 'The id is 8 to 32 ASCII letters and digits (it sits between underscores in the key).';
COMMENT ON CONSTRAINT api_keys_secret_hash_check ON fraiseql.api_keys IS 'secret_hash is a SHA-256 (32 bytes).';

CREATE INDEX api_keys_subject_idx ON fraiseql.api_keys (subject);

COMMENT ON INDEX fraiseql.api_keys_subject_idx IS 'The keys of a subject.';

CREATE TABLE fraiseql.sessions (
    id uuid PRIMARY KEY,
    subject text NOT NULL,
    roles text[] NOT NULL DEFAULT '{}',
    scopes text[] NOT NULL DEFAULT '{}',
    tenant_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    idle_timeout interval NOT NULL,
    revoked_at timestamptz,
    revoked_reason text
);

COMMENT ON TABLE fraiseql.sessions IS 'Native login sessions (fraiseql.auth.sessions): each is a family of single-use refresh tokens; revoking it rejects its access tokens on the next request.';
COMMENT ON COLUMN fraiseql.sessions.id IS 'The session id: the sid claim of its access tokens.';
COMMENT ON COLUMN fraiseql.sessions.subject IS 'Who logged in (the sub claim).';
COMMENT ON COLUMN fraiseql.sessions.roles IS 'The principal''s roles.';
COMMENT ON COLUMN fraiseql.sessions.scopes IS 'The principal''s scopes.';
COMMENT ON COLUMN fraiseql.sessions.tenant_id IS 'The principal''s tenant, if any.';
COMMENT ON COLUMN fraiseql.sessions.created_at IS 'When the session was created (login).';
COMMENT ON COLUMN fraiseql.sessions.last_used_at IS 'When a refresh token of the session was last rotated (idle expiry counts from here).';
COMMENT ON COLUMN fraiseql.sessions.expires_at IS 'Absolute expiry: no rotation after this.';
COMMENT ON COLUMN fraiseql.sessions.idle_timeout IS 'Idle expiry: no rotation once last_used_at + idle_timeout has passed.';
COMMENT ON COLUMN fraiseql.sessions.revoked_at IS 'When the session was revoked (null: not revoked).';
COMMENT ON COLUMN fraiseql.sessions.revoked_reason IS 'Why: logout, revoked by an administrator, refresh token reuse, ...';

CREATE INDEX sessions_subject_idx ON fraiseql.sessions (subject);

COMMENT ON INDEX fraiseql.sessions_subject_idx IS 'The sessions of a subject (list, revoke_all).';

CREATE TABLE fraiseql.refresh_tokens (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES fraiseql.sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at timestamptz,
    CONSTRAINT refresh_tokens_token_hash_check CHECK (octet_length(token_hash) = 32)
);

COMMENT ON TABLE fraiseql.refresh_tokens IS 'Every refresh token a session was given; each is single-use, and presenting a used one revokes its session (theft detection).';
COMMENT ON COLUMN fraiseql.refresh_tokens.token_hash IS 'SHA-256 of the refresh token (32 random bytes, base64url).';
COMMENT ON COLUMN fraiseql.refresh_tokens.session_id IS 'The session (token family) it belongs to.';
COMMENT ON COLUMN fraiseql.refresh_tokens.created_at IS 'When it was issued.';
COMMENT ON COLUMN fraiseql.refresh_tokens.used_at IS 'When it was exchanged for the next one (null: still the current token).';
COMMENT ON CONSTRAINT refresh_tokens_token_hash_check ON fraiseql.refresh_tokens IS 'token_hash is a SHA-256 (32 bytes).';

CREATE INDEX refresh_tokens_session_idx ON fraiseql.refresh_tokens (session_id);

COMMENT ON INDEX fraiseql.refresh_tokens_session_idx IS 'The tokens of a session (deleted with it).';

CREATE TABLE fraiseql.revoked_tokens (
    jti text PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now(),
    reason text
);

COMMENT ON TABLE fraiseql.revoked_tokens IS 'Token ids (jti) refused before they expire; every server keeps a copy (fraiseql.auth.revocation.RevocationList). Rows past expires_at are purged.';
COMMENT ON COLUMN fraiseql.revoked_tokens.jti IS 'The jti claim of the revoked token.';
COMMENT ON COLUMN fraiseql.revoked_tokens.expires_at IS 'When the token expires anyway: the row is useless (and purged) after that.';
COMMENT ON COLUMN fraiseql.revoked_tokens.revoked_at IS 'When it was revoked.';
COMMENT ON COLUMN fraiseql.revoked_tokens.reason IS 'Why it was revoked (free text).';

CREATE INDEX revoked_tokens_expires_at_idx ON fraiseql.revoked_tokens (expires_at);

COMMENT ON INDEX fraiseql.revoked_tokens_expires_at_idx IS 'Finds the rows to purge.';

-- An insert sends the new rows themselves, [[jti, expires_at as epoch seconds], ...],
-- which every server adds to its copy without reloading it; anything else (or an
-- insert too large for one notification) sends '*': compare the digest, reload.
-- Deleting only rows that expired (the purge) changes no server's copy: no notification.
CREATE FUNCTION fraiseql.notify_revoked_tokens() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    payload text := '*';
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT jsonb_agg(jsonb_build_array(n.jti, extract(epoch FROM n.expires_at)))::text
          INTO payload FROM inserted AS n;
        IF payload IS NULL THEN
            RETURN NULL;  -- the statement inserted nothing (ON CONFLICT DO NOTHING)
        END IF;
        IF octet_length(payload) >= 8000 THEN
            payload := '*';
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT FROM deleted AS d WHERE d.expires_at > now()) THEN
            RETURN NULL;
        END IF;
    END IF;
    PERFORM pg_notify('fraiseql_revoked_tokens', payload);
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION fraiseql.notify_revoked_tokens() IS 'Notifies fraiseql_revoked_tokens so that every server updates its list of revoked tokens: the inserted rows as [[jti, expires_at epoch], ...], or * (reload) for any other change; nothing when only expired rows were deleted.';

CREATE TRIGGER revoked_tokens_notify_insert
    AFTER INSERT ON fraiseql.revoked_tokens
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION fraiseql.notify_revoked_tokens();

COMMENT ON TRIGGER revoked_tokens_notify_insert ON fraiseql.revoked_tokens IS 'Every revocation, by the API or by hand, reaches every server.';

CREATE TRIGGER revoked_tokens_notify_delete
    AFTER DELETE ON fraiseql.revoked_tokens
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION fraiseql.notify_revoked_tokens();

COMMENT ON TRIGGER revoked_tokens_notify_delete ON fraiseql.revoked_tokens IS 'Deleting rows that have not expired yet (un-revoking) makes every server check its list; purging expired rows does not.';

CREATE TRIGGER revoked_tokens_notify
    AFTER UPDATE OR TRUNCATE ON fraiseql.revoked_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION fraiseql.notify_revoked_tokens();

COMMENT ON TRIGGER revoked_tokens_notify ON fraiseql.revoked_tokens IS 'Any other change (an edit by hand) makes every server check its list.';

CREATE FUNCTION fraiseql.enable_change_notifications() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    IF (SELECT s.last_value FROM fraiseql.change_notifications_on AS s) = 1 THEN
        RETURN;
    END IF;
    PERFORM setval('fraiseql.change_notifications_on', 1);
    -- Writers that read the switch before it flipped still hold their insert lock:
    -- wait until they have committed (the lock ends with this function's statement).
    LOCK TABLE fraiseql.change_log IN SHARE MODE;
END
$$;

COMMENT ON FUNCTION fraiseql.enable_change_notifications() IS 'Turns change notifications on (for good) and returns once every writer that missed the switch has committed. Called by each server with a result cache before it listens.';

-- Role-based access control: see migrations/0008_rbac.sql.

CREATE FUNCTION fraiseql.is_permission_pattern(pattern text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pattern ~ '^([A-Za-z0-9_][A-Za-z0-9_.-]*|\*):([A-Za-z0-9_][A-Za-z0-9_.-]*|\*)$'
$$;

COMMENT ON FUNCTION fraiseql.is_permission_pattern(text) IS 'Whether the text is a permission pattern: resource:action, each letters, digits, _ . - (not starting with . or -) or a lone * (any).';

CREATE FUNCTION fraiseql.permission_matches(pattern text, permission text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT split_part(pattern, ':', 1) IN ('*', split_part(permission, ':', 1))
       AND split_part(pattern, ':', 2) IN ('*', split_part(permission, ':', 2))
$$;

COMMENT ON FUNCTION fraiseql.permission_matches(text, text) IS 'Whether the pattern (post:*, *:read, *:*, post:read) covers the permission resource:action.';

CREATE TABLE fraiseql.roles (
    name text PRIMARY KEY,
    description text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT roles_name_check CHECK (name ~ '^[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,99}$')
);

COMMENT ON TABLE fraiseql.roles IS 'Roles: named sets of permissions, inherited through fraiseql.role_parents and held through grants or token roles.';
COMMENT ON COLUMN fraiseql.roles.name IS 'The role''s name, as tokens and grants name it.';
COMMENT ON COLUMN fraiseql.roles.description IS 'What the role is for (free text).';
COMMENT ON COLUMN fraiseql.roles.created_at IS 'When the role was created.';
COMMENT ON CONSTRAINT roles_name_check ON fraiseql.roles IS 'A role name is 1 to 100 letters, digits, _ . : @ - (not starting with . : @ -).';

CREATE TABLE fraiseql.role_parents (
    role text NOT NULL REFERENCES fraiseql.roles (name) ON DELETE CASCADE,
    parent text NOT NULL REFERENCES fraiseql.roles (name) ON DELETE CASCADE,
    PRIMARY KEY (role, parent),
    CONSTRAINT role_parents_not_self CHECK (role <> parent)
);

COMMENT ON TABLE fraiseql.role_parents IS 'Inheritance: role holds every permission (allow and deny) of parent, transitively. Cycles are refused.';
COMMENT ON COLUMN fraiseql.role_parents.role IS 'The inheriting role.';
COMMENT ON COLUMN fraiseql.role_parents.parent IS 'The role it inherits from.';
COMMENT ON CONSTRAINT role_parents_not_self ON fraiseql.role_parents IS 'A role cannot inherit from itself.';

CREATE INDEX role_parents_parent_idx ON fraiseql.role_parents (parent);

COMMENT ON INDEX fraiseql.role_parents_parent_idx IS 'The roles that inherit from a role (deleted with it).';

CREATE TABLE fraiseql.role_permissions (
    role text NOT NULL REFERENCES fraiseql.roles (name) ON DELETE CASCADE,
    permission text NOT NULL,
    effect text NOT NULL,
    PRIMARY KEY (role, permission),
    CONSTRAINT role_permissions_permission_check CHECK (fraiseql.is_permission_pattern(permission)),
    CONSTRAINT role_permissions_effect_check CHECK (effect IN ('allow', 'deny'))
);

COMMENT ON TABLE fraiseql.role_permissions IS 'What each role allows or denies; a deny anywhere among a subject''s roles beats every allow.';
COMMENT ON COLUMN fraiseql.role_permissions.role IS 'The role.';
COMMENT ON COLUMN fraiseql.role_permissions.permission IS 'A permission pattern: resource:action, where * may stand for the whole resource or the whole action.';
COMMENT ON COLUMN fraiseql.role_permissions.effect IS 'allow or deny.';
COMMENT ON CONSTRAINT role_permissions_permission_check ON fraiseql.role_permissions IS 'The permission is resource:action (fraiseql.is_permission_pattern).';
COMMENT ON CONSTRAINT role_permissions_effect_check ON fraiseql.role_permissions IS 'The effect is allow or deny.';

CREATE TABLE fraiseql.role_grants (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject text NOT NULL,
    role text NOT NULL REFERENCES fraiseql.roles (name) ON DELETE CASCADE,
    tenant_id text,
    expires_at timestamptz,
    granted_at timestamptz NOT NULL DEFAULT now(),
    granted_by text,
    CONSTRAINT role_grants_subject_check CHECK (subject <> ''),
    CONSTRAINT role_grants_tenant_check CHECK (tenant_id <> ''),
    CONSTRAINT role_grants_subject_role_tenant_key UNIQUE NULLS NOT DISTINCT
        (subject, role, tenant_id)
);

COMMENT ON TABLE fraiseql.role_grants IS 'Roles given to subjects, in one tenant or in every tenant, until they expire.';
COMMENT ON COLUMN fraiseql.role_grants.id IS 'The grant''s id.';
COMMENT ON COLUMN fraiseql.role_grants.subject IS 'Who holds the role (the principal''s subject).';
COMMENT ON COLUMN fraiseql.role_grants.role IS 'The role held.';
COMMENT ON COLUMN fraiseql.role_grants.tenant_id IS 'The tenant in which it is held (null: in every tenant).';
COMMENT ON COLUMN fraiseql.role_grants.expires_at IS 'When the grant stops counting (null: never).';
COMMENT ON COLUMN fraiseql.role_grants.granted_at IS 'When it was granted (or last re-granted).';
COMMENT ON COLUMN fraiseql.role_grants.granted_by IS 'Who granted it (free text).';
COMMENT ON CONSTRAINT role_grants_subject_check ON fraiseql.role_grants IS 'The subject is not empty.';
COMMENT ON CONSTRAINT role_grants_tenant_check ON fraiseql.role_grants IS 'A tenant is not empty (null means every tenant).';
COMMENT ON CONSTRAINT role_grants_subject_role_tenant_key ON fraiseql.role_grants IS 'One grant per subject, role and tenant (null tenants included): re-granting updates it.';
COMMENT ON INDEX fraiseql.role_grants_subject_role_tenant_key IS 'Enforces one grant per subject, role and tenant; finds the grants of a subject.';

-- Refuses an edge that closes a cycle. The advisory lock serialises the writers of
-- role_parents, so two transactions cannot each add one half of a cycle unseen; in
-- READ COMMITTED the check, run after the lock, sees what the other committed.
CREATE FUNCTION fraiseql.refuse_role_cycles() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('fraiseql.role_parents'));
    IF EXISTS (
        WITH RECURSIVE ancestors (name) AS (
            SELECT NEW.parent
            UNION
            SELECT p.parent FROM fraiseql.role_parents AS p JOIN ancestors AS a ON p.role = a.name
        )
        SELECT FROM ancestors WHERE name = NEW.role
    ) THEN
        RAISE EXCEPTION 'role % cannot inherit from %: % already inherits from %',
            NEW.role, NEW.parent, NEW.parent, NEW.role
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION fraiseql.refuse_role_cycles() IS 'Refuses a role_parents row that would make a role inherit from itself, directly or through other roles.';

CREATE TRIGGER role_parents_no_cycles
    BEFORE INSERT OR UPDATE ON fraiseql.role_parents
    FOR EACH ROW EXECUTE FUNCTION fraiseql.refuse_role_cycles();

COMMENT ON TRIGGER role_parents_no_cycles ON fraiseql.role_parents IS 'Role inheritance stays acyclic.';

CREATE FUNCTION fraiseql.notify_rbac() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('fraiseql_rbac', '');
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION fraiseql.notify_rbac() IS 'Notifies fraiseql_rbac (empty payload) so that every server clears its cache of effective access.';

CREATE TRIGGER roles_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fraiseql.roles
    FOR EACH STATEMENT EXECUTE FUNCTION fraiseql.notify_rbac();

COMMENT ON TRIGGER roles_notify ON fraiseql.roles IS 'Any change reaches the access cache of every server.';

CREATE TRIGGER role_parents_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fraiseql.role_parents
    FOR EACH STATEMENT EXECUTE FUNCTION fraiseql.notify_rbac();

COMMENT ON TRIGGER role_parents_notify ON fraiseql.role_parents IS 'Any change reaches the access cache of every server.';

CREATE TRIGGER role_permissions_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fraiseql.role_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION fraiseql.notify_rbac();

COMMENT ON TRIGGER role_permissions_notify ON fraiseql.role_permissions IS 'Any change reaches the access cache of every server.';

CREATE TRIGGER role_grants_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fraiseql.role_grants
    FOR EACH STATEMENT EXECUTE FUNCTION fraiseql.notify_rbac();

COMMENT ON TRIGGER role_grants_notify ON fraiseql.role_grants IS 'Any change reaches the access cache of every server.';

-- --- management -------------------------------------------------------------------

CREATE FUNCTION fraiseql.require_role(name text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM fraiseql.roles AS r WHERE r.name = require_role.name) THEN
        RAISE EXCEPTION 'unknown role: %', name USING ERRCODE = 'foreign_key_violation';
    END IF;
END
$$;

COMMENT ON FUNCTION fraiseql.require_role(text) IS 'Raises "unknown role: <name>" (SQLSTATE 23503) unless the role exists.';

CREATE FUNCTION fraiseql.create_role(name text, description text DEFAULT NULL,
                                     parents text[] DEFAULT '{}') RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    parent text;
BEGIN
    INSERT INTO fraiseql.roles AS r (name, description)
    VALUES (create_role.name, create_role.description)
    ON CONFLICT ON CONSTRAINT roles_pkey
    DO UPDATE SET description = coalesce(excluded.description, r.description);
    FOREACH parent IN ARRAY coalesce(parents, '{}') LOOP
        PERFORM fraiseql.require_role(parent);
        INSERT INTO fraiseql.role_parents (role, parent) VALUES (create_role.name, parent)
        ON CONFLICT DO NOTHING;
    END LOOP;
END
$$;

COMMENT ON FUNCTION fraiseql.create_role(text, text, text[]) IS 'Creates a role inheriting from parents; on an existing role, sets the description (if given) and adds the parents. Unknown parents and cycles are refused.';

CREATE FUNCTION fraiseql.set_permission(role text, permission text, effect text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM fraiseql.require_role(role);
    IF permission IS NULL OR NOT fraiseql.is_permission_pattern(permission) THEN
        RAISE EXCEPTION 'bad permission %: expected resource:action, e.g. post:publish, post:* or *:read',
            coalesce(quote_literal(permission), 'NULL') USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO fraiseql.role_permissions AS p (role, permission, effect)
    VALUES (set_permission.role, set_permission.permission, set_permission.effect)
    ON CONFLICT ON CONSTRAINT role_permissions_pkey DO UPDATE SET effect = excluded.effect;
END
$$;

COMMENT ON FUNCTION fraiseql.set_permission(text, text, text) IS 'Makes role allow or deny a permission pattern (replacing the other effect if it had it).';

CREATE FUNCTION fraiseql.allow(role text, permission text) RETURNS void
LANGUAGE sql AS $$ SELECT fraiseql.set_permission(role, permission, 'allow') $$;

COMMENT ON FUNCTION fraiseql.allow(text, text) IS 'Makes role allow the permission pattern (resource:action, * for any).';

CREATE FUNCTION fraiseql.deny(role text, permission text) RETURNS void
LANGUAGE sql AS $$ SELECT fraiseql.set_permission(role, permission, 'deny') $$;

COMMENT ON FUNCTION fraiseql.deny(text, text) IS 'Makes role deny the permission pattern; a deny beats every allow, inherited or not.';

CREATE FUNCTION fraiseql.grant_role(subject text, role text, tenant_id text DEFAULT NULL,
                                    expires_at timestamptz DEFAULT NULL,
                                    granted_by text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    grant_id bigint;
BEGIN
    PERFORM fraiseql.require_role(role);
    IF expires_at <= now() THEN
        RAISE EXCEPTION 'the grant would expire at %, which has passed', expires_at
            USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO fraiseql.role_grants AS g (subject, role, tenant_id, expires_at, granted_by)
    VALUES (grant_role.subject, grant_role.role, grant_role.tenant_id, grant_role.expires_at,
            grant_role.granted_by)
    ON CONFLICT ON CONSTRAINT role_grants_subject_role_tenant_key
    DO UPDATE SET expires_at = excluded.expires_at, granted_at = now(),
                  granted_by = excluded.granted_by
    RETURNING g.id INTO grant_id;
    RETURN grant_id;
END
$$;

COMMENT ON FUNCTION fraiseql.grant_role(text, text, text, timestamptz, text) IS 'Gives subject the role in tenant_id (null: every tenant) until expires_at (null: never); re-granting updates the expiry. Returns the grant''s id.';

CREATE FUNCTION fraiseql.revoke_role(subject text, role text, tenant_id text DEFAULT NULL)
RETURNS boolean
LANGUAGE sql AS $$
    WITH removed AS (
        DELETE FROM fraiseql.role_grants AS g
        WHERE g.subject = $1 AND g.role = $2 AND g.tenant_id IS NOT DISTINCT FROM $3
        RETURNING 1
    )
    SELECT EXISTS (SELECT FROM removed)
$$;

COMMENT ON FUNCTION fraiseql.revoke_role(text, text, text) IS 'Removes the grant of role to subject in tenant_id (null: the grant for every tenant); whether there was one.';

-- --- reading -----------------------------------------------------------------------

CREATE FUNCTION fraiseql.effective_access(subject text, tenant_id text, token_roles text[])
RETURNS TABLE (roles text[], allowed text[], denied text[], tenants text[],
               valid_until timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, fraiseql AS $$
    WITH RECURSIVE current_grants AS (
        SELECT g.role, g.tenant_id, g.expires_at FROM fraiseql.role_grants AS g
        WHERE g.subject = $1 AND (g.expires_at IS NULL OR g.expires_at > now())
    ), held (role) AS (
        SELECT t.role FROM unnest($3) AS t (role) WHERE t.role IS NOT NULL
        UNION
        SELECT c.role FROM current_grants AS c WHERE c.tenant_id IS NULL OR c.tenant_id = $2
        UNION
        SELECT p.parent FROM held AS h JOIN fraiseql.role_parents AS p ON p.role = h.role
    ), held_permissions AS (
        SELECT p.permission, p.effect
        FROM fraiseql.role_permissions AS p JOIN held AS h ON h.role = p.role
    )
    SELECT ARRAY(SELECT h.role FROM held AS h ORDER BY 1),
           ARRAY(SELECT DISTINCT p.permission FROM held_permissions AS p
                 WHERE p.effect = 'allow' ORDER BY 1),
           ARRAY(SELECT DISTINCT p.permission FROM held_permissions AS p
                 WHERE p.effect = 'deny' ORDER BY 1),
           ARRAY(SELECT DISTINCT c.tenant_id FROM current_grants AS c
                 WHERE c.tenant_id IS NOT NULL ORDER BY 1),
           -- Every current grant shapes the answer (its roles or its tenant): the answer
           -- holds until the first of them expires.
           (SELECT min(c.expires_at) FROM current_grants AS c)
$$;

COMMENT ON FUNCTION fraiseql.effective_access(text, text, text[]) IS 'What subject may do in tenant_id with token_roles: its roles (token roles, unexpired grants in that tenant or every tenant, and their ancestors), the permission patterns they allow and deny, the tenants it holds grants in, and when the answer stops holding (the first grant expiry, null: never).';

REVOKE EXECUTE ON FUNCTION fraiseql.effective_access(text, text, text[]) FROM PUBLIC;

CREATE FUNCTION fraiseql.has_permission(permission text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, fraiseql AS $$
DECLARE
    access record;
BEGIN
    IF permission IS NULL OR permission !~ '^[A-Za-z0-9_][A-Za-z0-9_.-]*:[A-Za-z0-9_][A-Za-z0-9_.-]*$' THEN
        RAISE EXCEPTION 'bad permission %: expected resource:action without *, e.g. post:publish',
            coalesce(quote_literal(permission), 'NULL') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO access FROM fraiseql.effective_access(
        nullif(current_setting('fraiseql.user_id', true), ''),
        nullif(current_setting('fraiseql.tenant_id', true), ''),
        ARRAY(SELECT jsonb_array_elements_text(
            coalesce(nullif(current_setting('fraiseql.roles', true), ''), '[]')::jsonb)));
    IF EXISTS (SELECT FROM unnest(access.denied) AS d (pattern)
               WHERE fraiseql.permission_matches(d.pattern, permission)) THEN
        RETURN false;
    END IF;
    RETURN EXISTS (SELECT FROM unnest(access.allowed) AS a (pattern)
                   WHERE fraiseql.permission_matches(a.pattern, permission));
END
$$;

COMMENT ON FUNCTION fraiseql.has_permission(text) IS 'Whether the current principal (settings fraiseql.user_id, fraiseql.tenant_id, fraiseql.roles) holds the permission resource:action: some held role allows it and none denies it. For row-level security policies and functions.';

REVOKE EXECUTE ON FUNCTION fraiseql.has_permission(text) FROM PUBLIC;

-- Audit log (hash-chained, append-only): see migrations/0009_audit.sql.

CREATE TABLE fraiseql.audit_log (
    id bigint PRIMARY KEY,
    recorded_at timestamptz NOT NULL,
    actor text,
    actor_type text,
    tenant_id text,
    operation text NOT NULL,
    kind text NOT NULL,
    outcome text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}',
    trace_id text,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL,
    CONSTRAINT audit_log_kind_check CHECK (kind IN ('mutation', 'denied'))
);

COMMENT ON TABLE fraiseql.audit_log IS 'Who did what (mutations) or was refused (denied), append-only and hash-chained: fraiseql audit verify checks that no row was changed, deleted or reordered.';
COMMENT ON COLUMN fraiseql.audit_log.id IS 'Position in the chain, set by the trigger: 1, 2, ... in commit order.';
COMMENT ON COLUMN fraiseql.audit_log.recorded_at IS 'When the row was chained (clock_timestamp(), set by the trigger).';
COMMENT ON COLUMN fraiseql.audit_log.actor IS 'Who: the principal''s subject (null: anonymous).';
COMMENT ON COLUMN fraiseql.audit_log.actor_type IS 'What kind of principal: user, api_key, service, ...';
COMMENT ON COLUMN fraiseql.audit_log.tenant_id IS 'The principal''s tenant, if any.';
COMMENT ON COLUMN fraiseql.audit_log.operation IS 'What: the mutation or field, e.g. createPost.';
COMMENT ON COLUMN fraiseql.audit_log.kind IS 'mutation (an attempted change) or denied (an authorization refusal).';
COMMENT ON COLUMN fraiseql.audit_log.outcome IS 'How it ended: success, failure, error, denied, ...';
COMMENT ON COLUMN fraiseql.audit_log.detail IS 'Anything else worth keeping (ids, the reason of a refusal), as JSON.';
COMMENT ON COLUMN fraiseql.audit_log.trace_id IS 'The request''s trace id, to find its logs.';
COMMENT ON COLUMN fraiseql.audit_log.prev_hash IS 'The previous row''s hash (32 zero bytes for the first row).';
COMMENT ON COLUMN fraiseql.audit_log.hash IS 'fraiseql.audit_hash(row): sha256(prev_hash || the row''s canonical text).';
COMMENT ON CONSTRAINT audit_log_kind_check ON fraiseql.audit_log IS 'A row records a mutation or a denial.';

CREATE TABLE fraiseql.audit_log_head (
    singleton boolean PRIMARY KEY DEFAULT true,
    last_id bigint NOT NULL,
    last_hash bytea NOT NULL,
    CONSTRAINT audit_log_head_singleton_check CHECK (singleton)
);

COMMENT ON TABLE fraiseql.audit_log_head IS 'The end of the audit chain (one row): the trigger locks it to chain rows in commit order; verification checks that the last row is still there.';
COMMENT ON COLUMN fraiseql.audit_log_head.singleton IS 'Always true: the table has one row.';
COMMENT ON COLUMN fraiseql.audit_log_head.last_id IS 'The id of the newest row (0: none yet).';
COMMENT ON COLUMN fraiseql.audit_log_head.last_hash IS 'The hash of the newest row (32 zero bytes: none yet).';
COMMENT ON CONSTRAINT audit_log_head_singleton_check ON fraiseql.audit_log_head IS 'There is only one head.';

INSERT INTO fraiseql.audit_log_head (singleton, last_id, last_hash)
VALUES (true, 0, decode(repeat('00', 32), 'hex'));

REVOKE ALL ON fraiseql.audit_log, fraiseql.audit_log_head FROM PUBLIC;

-- The body is parsed when the function is created (RETURN, not a string): no search_path
-- can change what it calls.
CREATE FUNCTION fraiseql.audit_hash(entry fraiseql.audit_log) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN sha256(entry.prev_hash || convert_to(jsonb_build_array(
    entry.id, trunc(EXTRACT(epoch FROM entry.recorded_at) * 1000000)::bigint, entry.actor,
    entry.actor_type, entry.tenant_id, entry.operation, entry.kind, entry.outcome,
    entry.detail, entry.trace_id)::text, 'UTF8'));

COMMENT ON FUNCTION fraiseql.audit_hash(fraiseql.audit_log) IS 'The hash an audit row must carry: sha256(prev_hash || UTF-8 of [id, recorded_at in epoch microseconds, actor, actor_type, tenant_id, operation, kind, outcome, detail, trace_id] as jsonb text). Independent of session settings.';

CREATE FUNCTION fraiseql.audit_log_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fraiseql AS $$
DECLARE
    head fraiseql.audit_log_head;
BEGIN
    -- Held until the writer commits: the next writer waits here, then reads this row's
    -- id and hash (or fails with 40001 under REPEATABLE READ / SERIALIZABLE).
    SELECT * INTO STRICT head FROM fraiseql.audit_log_head FOR UPDATE;
    NEW.id := head.last_id + 1;
    NEW.recorded_at := clock_timestamp();
    NEW.detail := coalesce(NEW.detail, '{}');
    NEW.prev_hash := head.last_hash;
    NEW.hash := fraiseql.audit_hash(NEW);
    UPDATE fraiseql.audit_log_head SET last_id = NEW.id, last_hash = NEW.hash;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION fraiseql.audit_log_chain() IS 'Chains a new audit row: sets id, recorded_at, prev_hash and hash (whatever the writer gave) under the lock of fraiseql.audit_log_head, and moves the head.';

CREATE TRIGGER audit_log_chain
    BEFORE INSERT ON fraiseql.audit_log
    FOR EACH ROW EXECUTE FUNCTION fraiseql.audit_log_chain();

COMMENT ON TRIGGER audit_log_chain ON fraiseql.audit_log IS 'Every row, however it is inserted, joins the chain.';
