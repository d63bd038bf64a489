-- 0006 auth: API keys, native sessions with refresh-token rotation, revoked tokens.
--
-- Secrets are never stored: an API key's secret and a refresh token are 32 random
-- bytes, and only their SHA-256 is kept. A slow password hash (bcrypt, argon2) is
-- not needed because nothing here is guessable: 256 random bits cannot be brute
-- forced through SHA-256, and a fast hash keeps every request's check cheap.
--
-- fraiseql.api_keys is written by `fraiseql apikey create|revoke`;
-- fraiseql.sessions and fraiseql.refresh_tokens by fraiseql.auth.sessions.SessionStore;
-- fraiseql.revoked_tokens by fraiseql.auth.revocation.revoke. Every change to the
-- revoked tokens notifies the channel fraiseql_revoked_tokens, on which each server
-- updates its copy of the list.

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
