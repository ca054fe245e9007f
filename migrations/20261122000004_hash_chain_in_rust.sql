-- The hash chain is computed by the server (infrastructure/src/store/hash.rs) and passed to
-- the plain append statement: the recursive CTE that computed it in the database cost
-- about a third of append throughput (BENCHMARKS.md). `domainflow verify` recomputes every
-- link from the stored content with the same function.
DROP FUNCTION event_hash(bytea, text, text, bigint, uuid, text, integer, jsonb, jsonb, timestamptz);

-- The hash of the event a snapshot was taken at, so an append after a snapshot-only load
-- can link to it without reading the event.
ALTER TABLE snapshots ADD COLUMN head_hash bytea;
