-- Idempotency-Key records of the HTTP API: which request a caller's key belongs to, and
-- the response it got. The command itself is recorded in `commands` by the very statement
-- that appends its events (the command id is derived from caller and key), so a request
-- that crashed after its append is answered from there when retried.
CREATE TABLE idempotency_keys (
    caller text NOT NULL,
    key text NOT NULL,
    request_hash bytea NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    response_status smallint,
    response_body jsonb,
    completed_at timestamptz,
    PRIMARY KEY (caller, key)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO domainflow_app;

-- The server checks readiness against the migration history.
GRANT SELECT ON _sqlx_migrations TO domainflow_app;
