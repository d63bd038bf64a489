-- 0002 mutations: what a mutation function returns, the builders that make that
-- result, the check the engine applies to it, and the change log it writes.
--
-- A mutation function takes (context params as text..., input jsonb) and returns
-- fraiseql.mutation_result, built with fraiseql.success, fraiseql.noop,
-- fraiseql.error or a class builder (fraiseql.not_found, ...). The engine runs
--     SELECT * FROM fraiseql.checked(fn_x(...))
-- and, when the result succeeded and changed state, appends to fraiseql.change_log
-- in the same statement.

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
