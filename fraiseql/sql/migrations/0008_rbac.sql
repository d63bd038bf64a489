-- 0008 role-based access control: roles, their parents and permissions, grants.
--
-- A permission is resource:action (post:publish). A role allows or denies permission
-- patterns, where * stands for a whole resource or a whole action (post:*, *:read,
-- *:*); a role inherits every allow AND deny of its parents, transitively; deny beats
-- allow. A subject holds roles through its token (token roles) and through grants,
-- in one tenant or (tenant_id NULL) in every tenant, until they expire.
--
-- Managed with SQL (fraiseql.create_role, allow, deny, grant_role, revoke_role) or with
-- `fraiseql roles ...` / `fraiseql grants ...`. Servers ask fraiseql.effective_access
-- and cache the answer (fraiseql.authz.rbac.RoleStore); every change to the four tables
-- notifies the channel fraiseql_rbac, on which each server clears its cache.
--
-- Privileges: the tables are not readable by PUBLIC, and neither are the two readers.
-- effective_access and has_permission are SECURITY DEFINER, so the application's role
-- needs only USAGE on schema fraiseql and
--     GRANT EXECUTE ON FUNCTION fraiseql.effective_access(text, text, text[]),
--                               fraiseql.has_permission(text) TO app_role;
-- to call them (in queries, functions and row-level security policies).

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
