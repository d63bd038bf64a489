-- 0003 persisted queries: the shared store of automatic persisted queries (APQ)
-- and the set of trusted documents.
--
-- Both tables are keyed by the lower-case hex SHA-256 of the query text (UTF-8),
-- and a CHECK recomputes it, so no row can name a hash its text does not have.
-- fraiseql.persisted_queries is written by the server (FRAISEQL_APQ_STORE=postgres)
-- when a client registers a query; fraiseql.trusted_documents by
-- `fraiseql documents register`. Every change to the trusted documents notifies
-- the channel fraiseql_trusted_documents, on which each server reloads its copy.

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
