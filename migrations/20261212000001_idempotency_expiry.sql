-- Idempotency answers expire (`--idempotency-ttl`): the sweeper deletes those completed
-- before a cut-off, found through this index rather than a scan of every key.
CREATE INDEX idempotency_keys_completed_at ON idempotency_keys (completed_at);
