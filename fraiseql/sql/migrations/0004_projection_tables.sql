-- 0004 projection tables: a table (tv_*) that stores what its source view computes,
-- so a read looks rows up instead of rebuilding each row's data from the base tables.
--
-- The tv table has the source's columns (the key, any filter columns, data), a
-- unique index on the key and any indexes reads need. Register it once with
--     SELECT fraiseql.register_projection('tv_post', 'v_post');
-- fill it with fraiseql.rebuild_projection('tv_post'), and keep it in step from
-- every write function with
--     PERFORM fraiseql.refresh_projection('tv_post', ARRAY[post_id]);
-- which re-reads those keys from the source in the caller's transaction.
--
-- Rows are stored as the source renders them when they are written, so what
-- depends on the session is fixed then: refresh and rebuild run with TimeZone UTC,
-- the setting of FraiseQL's own connections, so stored timestamps read the same
-- as the view's. A source whose rows depend on who reads them (row-level security,
-- current_user, settings) does not suit a projection table.
--
-- Concurrency: refresh_projection takes ROW EXCLUSIVE on the tv table, then locks
-- the rows it will write, and only then reads the source (each in its own
-- statement, so under READ COMMITTED the read sees whatever an earlier writer of
-- those rows committed). rebuild_projection takes SHARE ROW EXCLUSIVE: readers go
-- on, refreshes wait for it and then write over it with their own newer rows.

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
