-- Seals of the whole log: every so often the server records where the global order stood
-- (its head, the number of events up to it, and a running digest over every event's hash in
-- the global order) and signs it with an Ed25519 key whose private half is not in the
-- database. `domainflow verify --public-key FILE` recomputes the digest from the stored
-- events and checks each seal: an event deleted, moved in the global order, or a stream's
-- chain recomputed, breaks the first seal that covers it.
CREATE TABLE log_seals (
    -- 1, 2, 3, …: each seal goes on from the one before.
    sequence bigint PRIMARY KEY CHECK (sequence > 0),
    -- The last event it covers, in the global order.
    transaction_id xid8 NOT NULL,
    position bigint NOT NULL,
    -- Events in the global order up to and including the head.
    event_count bigint NOT NULL CHECK (event_count >= 0),
    -- sha256 chained over the hashes of those events in the global order.
    digest bytea NOT NULL,
    sealed_at timestamptz NOT NULL,
    -- The signing key's public half (hex), so a rotation is visible.
    public_key text NOT NULL,
    signature bytea NOT NULL
);

-- Append-only, like the events.
CREATE TRIGGER log_seals_no_update_or_delete
    BEFORE UPDATE OR DELETE ON log_seals
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
CREATE TRIGGER log_seals_no_truncate
    BEFORE TRUNCATE ON log_seals
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
ALTER TABLE log_seals ENABLE ALWAYS TRIGGER log_seals_no_update_or_delete;
ALTER TABLE log_seals ENABLE ALWAYS TRIGGER log_seals_no_truncate;

REVOKE ALL ON log_seals FROM domainflow_app;
GRANT SELECT, INSERT ON log_seals TO domainflow_app;
