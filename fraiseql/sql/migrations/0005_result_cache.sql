-- 0005 result cache: every insert into fraiseql.change_log notifies the channel
-- fraiseql_changes with the entity types it logged, so that each server drops
-- the cached query results that read those types.
--
-- One notification per statement: a JSON array of the distinct entity types
-- inserted (null when a row has none), or '*' when that would not fit in a
-- notification; both mean "drop everything" to the server where they must.
-- It is sent when the transaction commits, and not at all if it rolls back.
-- Writes that bypass the API reach every server the same way, as long as they
-- log their change in fraiseql.change_log.

CREATE FUNCTION fraiseql.notify_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    payload text;
BEGIN
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

COMMENT ON FUNCTION fraiseql.notify_changes() IS 'Notifies fraiseql_changes with the entity types a statement logged (a JSON array, or * when too long) so that every server drops the cached results that read them.';

CREATE TRIGGER change_log_notify
    AFTER INSERT ON fraiseql.change_log
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION fraiseql.notify_changes();

COMMENT ON TRIGGER change_log_notify ON fraiseql.change_log IS 'Every change logged, by a mutation or by hand, reaches the result cache of every server.';
