-- API keys for machine clients. Only the SHA-256 of a key is kept; the key itself is shown
-- once, when created. A revoked key keeps its row (and so its name): a new key never
-- inherits an old key's subject by accident.
CREATE TABLE api_keys (
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    role text NOT NULL CHECK (role IN ('customer', 'agent', 'operator', 'auditor')),
    key_hash bytea NOT NULL CHECK (length(key_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    -- Named, because the server tells a taken name apart by this constraint.
    CONSTRAINT api_keys_name_key UNIQUE (name),
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);

-- The default privileges of the first migration grant DELETE too, and only apply when this
-- migration runs as the role that ran the first; the server needs exactly this, whoever
-- migrates.
REVOKE ALL ON api_keys FROM domainflow_app;
GRANT SELECT, INSERT, UPDATE (revoked_at) ON api_keys TO domainflow_app;
