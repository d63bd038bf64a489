-- 0009 audit: a hash-chained, append-only audit log.
--
-- Every row carries hash = sha256(prev_hash || canonical text of the row), prev_hash
-- being the previous row's hash (32 zero bytes for the first): changing, deleting or
-- reordering a row breaks the chain at that row or the next (`fraiseql audit verify`,
-- fraiseql.authz.audit.verify). The canonical text is built by fraiseql.audit_hash, used
-- by both the trigger and verification, from values whose text does not depend on the
-- session (timestamps as epoch microseconds, jsonb's own text), so TimeZone or DateStyle
-- never change a hash.
--
-- Writers only name the content columns (fraiseql.authz.audit.AUDIT_COLUMNS), in a plain
-- INSERT or in a data-modifying CTE of a mutation statement; the trigger
-- fraiseql.audit_log_chain fills id, recorded_at, prev_hash and hash, overwriting
-- whatever the writer gave. It locks the one row of fraiseql.audit_log_head (the last
-- id and hash) until the writer commits, so chain order is commit order and ids have
-- no gaps (a rolled back insert rolls back the head too). A row lock rather than an
-- advisory lock plus "read the highest id": under REPEATABLE READ or SERIALIZABLE the
-- writer's snapshot would not see a row committed while it waited, and the chain would
-- fork; locking an updated head row fails instead (SQLSTATE 40001, retry the
-- transaction). Verification checks each row's hash and its prev_hash linkage, and that
-- the last row is the head (so deleting the newest rows is seen too).
--
-- Privileges: nothing for PUBLIC. The application role may add rows and never change
-- them; reading the log is for whoever audits. Grant, for the role the server connects
-- as:
--     GRANT USAGE ON SCHEMA fraiseql TO app;
--     GRANT INSERT ON fraiseql.audit_log TO app;
--     GRANT SELECT (id) ON fraiseql.audit_log TO app;  -- only for INSERT ... RETURNING id
-- and for an auditor (`fraiseql audit verify|list`):
--     GRANT SELECT ON fraiseql.audit_log, fraiseql.audit_log_head TO auditor;
-- Never UPDATE, DELETE or TRUNCATE to anyone: the trigger (SECURITY DEFINER) needs no
-- privilege of the writer's beyond INSERT.

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
