-- Appends one command's events to a stream in one plain statement (one round trip, its own
-- transaction, so the insert is the transaction's first write).
--   $1 stream_type, $2 stream_id, $3 expected version (0 for a new stream),
--   $4 the hash of the event at that version ('' for a new stream)
--   $5 event ids, $6 event types, $7 event versions, $8 payloads, $9 prev hashes,
--   $10 hashes (parallel arrays, computed by the server), $11 metadata, $12 recorded_at
--   $13 command id, $14 snapshot schema version, $15 snapshot state, $16 snapshot
--   version (NULL: no snapshot)
-- Nothing is inserted unless the stream's head is exactly (expected version, hash); a
-- concurrent append at the same version fails on the primary key (SQLSTATE 23505). A
-- repeated command id fails on commands_pkey and takes its events with it.
WITH
head AS (
    SELECT coalesce(max(version), 0) AS version,
           coalesce((array_agg(hash))[1], '\x'::bytea) AS hash
    FROM (
        SELECT version, hash FROM events
        WHERE stream_type = $1 AND stream_id = $2
        ORDER BY version DESC
        LIMIT 1
    ) last
),
inserted AS (
    INSERT INTO events (stream_type, stream_id, version, event_id, event_type, event_version,
                        payload, metadata, recorded_at, prev_hash, hash)
    SELECT $1, $2, $3::bigint + i.n, i.event_id, i.event_type, i.event_version, i.payload,
           $11::jsonb, $12::timestamptz, i.prev_hash, i.hash
    FROM unnest($5::uuid[], $6::text[], $7::integer[], $8::jsonb[], $9::bytea[], $10::bytea[])
             WITH ORDINALITY AS i (event_id, event_type, event_version, payload, prev_hash, hash, n),
         head
    WHERE head.version = $3::bigint AND head.hash = $4::bytea
    ORDER BY i.n
    RETURNING version, position, transaction_id
),
outcome AS (
    SELECT max(version) AS version, max(position) AS position,
           (array_agg(transaction_id))[1] AS transaction_id
    FROM inserted
    HAVING count(*) > 0
),
command AS (
    INSERT INTO commands (command_id, stream_type, stream_id, version, position, transaction_id)
    SELECT $13::uuid, $1, $2, version, position, transaction_id
    FROM outcome
),
snapshot AS (
    INSERT INTO snapshots (stream_type, stream_id, version, schema_version, state, head_hash)
    SELECT $1, $2, $16::bigint, $14::integer, $15::jsonb, ($10::bytea[])[cardinality($10::bytea[])]
    FROM outcome
    WHERE $16::bigint IS NOT NULL
    ON CONFLICT (stream_type, stream_id) DO UPDATE
        SET version = excluded.version, schema_version = excluded.schema_version,
            state = excluded.state, head_hash = excluded.head_hash, taken_at = excluded.taken_at
        WHERE snapshots.version < excluded.version
)
SELECT version, position, transaction_id::text::bigint AS transaction_id FROM outcome
