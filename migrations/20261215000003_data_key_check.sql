-- Which data key this database's personal data is written with: a constant encrypted under
-- it (AES-256-GCM). A server started with another key, or without one, refuses to start
-- rather than write personal data no one can read, or in the clear beside encrypted data.
CREATE TABLE data_key_check (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    sealed bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT ON data_key_check TO domainflow_app;
