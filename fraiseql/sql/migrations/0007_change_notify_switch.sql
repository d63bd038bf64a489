-- 0007 change notifications only once a result cache exists.
--
-- The notification of 0005 costs every write a pg_notify (a lock on the notification
-- queue at commit): ~15 % of a one-row mutation's database time (benchmarks/RESULTS.md,
-- W5). Nobody needs it until a server with a result cache listens, so it starts off
-- and the first such server turns it on for good (fraiseql.enable_change_notifications).
--
-- The switch is a sequence, not a table row: a sequence is read without a snapshot, so
-- every writer sees it flip at once, whatever its isolation level. Turning it on then
-- waits for the writers that read it before it flipped (they hold their change_log
-- insert lock until they commit), so once it returns every committed change either
-- notified or committed before the cache started listening.

CREATE SEQUENCE fraiseql.change_notifications_on MINVALUE 0 MAXVALUE 1 START 0;

COMMENT ON SEQUENCE fraiseql.change_notifications_on IS 'Whether inserts into fraiseql.change_log notify fraiseql_changes: last_value 0 (off, the default) or 1 (on, since a server with a result cache started).';

-- Readable by every role that writes the change log (the trigger reads it as the writer).
GRANT SELECT ON SEQUENCE fraiseql.change_notifications_on TO PUBLIC;

CREATE OR REPLACE FUNCTION fraiseql.notify_changes() RETURNS trigger
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
