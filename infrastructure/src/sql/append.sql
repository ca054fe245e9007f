-- Appends one command's events to a stream in one statement (one round trip, its own
-- transaction, so the insert is the transaction's first write).
--   $1 stream_type, $2 stream_id, $3 expected version (0 for a new stream)
--   $4 event ids, $5 event types, $6 event versions, $7 payloads (parallel arrays)
--   $8 metadata, $9 command id (NULL: do not record)
--   $10 snapshot schema version, $11 snapshot state, $12 snapshot version (NULL: no snapshot)
-- Nothing is inserted when the stream is not at the expected version; a concurrent append
-- at the same version fails on the primary key (SQLSTATE 23505). A repeated command id
-- fails on commands_pkey and takes its events with it.
WITH RECURSIVE
head AS (
    SELECT coalesce(max(version), 0) AS version,
           coalesce((array_agg(hash ORDER BY version DESC))[1], '\x'::bytea) AS hash
    FROM (
        SELECT version, hash FROM events
        WHERE stream_type = $1 AND stream_id = $2
        ORDER BY version DESC
        LIMIT 1
    ) last
),
input AS (
    SELECT *
    FROM unnest($4::uuid[], $5::text[], $6::integer[], $7::jsonb[])
        WITH ORDINALITY AS i (event_id, event_type, event_version, payload, n)
),
chain AS (
    SELECT i.n, $3::bigint + 1 AS version, i.event_id, i.event_type, i.event_version,
           i.payload, h.hash AS prev_hash,
           event_hash(h.hash, $1, $2, $3::bigint + 1, i.event_id, i.event_type,
                      i.event_version, i.payload, $8::jsonb, now()) AS hash
    FROM input i, head h
    WHERE i.n = 1 AND h.version = $3::bigint
    UNION ALL
    SELECT i.n, c.version + 1, i.event_id, i.event_type, i.event_version, i.payload,
           c.hash,
           event_hash(c.hash, $1, $2, c.version + 1, i.event_id, i.event_type,
                      i.event_version, i.payload, $8::jsonb, now())
    FROM chain c JOIN input i ON i.n = c.n + 1
),
inserted AS (
    INSERT INTO events (stream_type, stream_id, version, event_id, event_type, event_version,
                        payload, metadata, recorded_at, prev_hash, hash)
    SELECT $1, $2, version, event_id, event_type, event_version, payload, $8::jsonb, now(),
           prev_hash, hash
    FROM chain
    ORDER BY n
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
    SELECT $9::uuid, $1, $2, version, position, transaction_id
    FROM outcome
    WHERE $9::uuid IS NOT NULL
),
snapshot AS (
    INSERT INTO snapshots (stream_type, stream_id, version, schema_version, state)
    SELECT $1, $2, $12::bigint, $10::integer, $11::jsonb
    FROM outcome
    WHERE $12::bigint IS NOT NULL
    ON CONFLICT (stream_type, stream_id) DO UPDATE
        SET version = excluded.version, schema_version = excluded.schema_version,
            state = excluded.state, taken_at = excluded.taken_at
        WHERE snapshots.version < excluded.version
)
SELECT version, position, transaction_id::text::bigint AS transaction_id FROM outcome
