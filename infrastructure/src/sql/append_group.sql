-- Appends several commands' events, each to its own stream, in one plain statement: the
-- appends that reached the store at the same time share a round trip and a commit.
--   $1 command index, $2 stream_type, $3 stream_id, $4 expected version, $5 head hash
--   ('' for a new stream), $6 metadata, $7 recorded_at, $8 command id, $9 snapshot schema
--   version, $10 snapshot state, $11 snapshot version (NULL: none), $12 the hash of its
--   last event   (one per command)
--   $13 command index, $14 event ids, $15 event types, $16 event versions, $17 payloads,
--   $18 prev hashes, $19 hashes, $20 index within the command   (one per event)
-- A command whose stream's head is not exactly (expected version, head hash) appends nothing
-- and returns no row; the others are appended. A collision (a repeated command id, a
-- concurrent append at the same version, two commands of the batch on one stream) fails the
-- whole statement, and the caller appends each command alone to learn which one it was.
WITH
command_in AS (
    SELECT *
    FROM unnest($1::integer[], $2::text[], $3::text[], $4::bigint[], $5::bytea[], $6::jsonb[],
                $7::timestamptz[], $8::uuid[], $9::integer[], $10::jsonb[], $11::bigint[],
                $12::bytea[])
        AS c (i, stream_type, stream_id, expected, head_hash, metadata, recorded_at,
              command_id, snapshot_schema, snapshot_state, snapshot_version, new_head)
),
ready AS (
    SELECT c.*
    FROM command_in c
    LEFT JOIN LATERAL (
        SELECT version, hash FROM events e
        WHERE e.stream_type = c.stream_type AND e.stream_id = c.stream_id
        ORDER BY version DESC
        LIMIT 1
    ) head ON true
    WHERE coalesce(head.version, 0) = c.expected
      AND coalesce(head.hash, '\x'::bytea) = c.head_hash
),
inserted AS (
    INSERT INTO events (stream_type, stream_id, version, event_id, event_type, event_version,
                        payload, metadata, recorded_at, prev_hash, hash)
    SELECT r.stream_type, r.stream_id, r.expected + ev.n, ev.event_id, ev.event_type,
           ev.event_version, ev.payload, r.metadata, r.recorded_at, ev.prev_hash, ev.hash
    FROM unnest($13::integer[], $14::uuid[], $15::text[], $16::integer[], $17::jsonb[],
                $18::bytea[], $19::bytea[], $20::bigint[])
             AS ev (i, event_id, event_type, event_version, payload, prev_hash, hash, n)
    JOIN ready r ON r.i = ev.i
    -- Stream order: concurrent groups take their index entries in one order.
    ORDER BY r.stream_type, r.stream_id, ev.n
    RETURNING stream_type, stream_id, version, position, transaction_id
),
outcome AS (
    SELECT r.i, max(x.version) AS version, max(x.position) AS position,
           (array_agg(x.transaction_id))[1] AS transaction_id
    FROM ready r
    JOIN inserted x ON x.stream_type = r.stream_type AND x.stream_id = r.stream_id
    GROUP BY r.i
),
command AS (
    INSERT INTO commands (command_id, stream_type, stream_id, version, position, transaction_id)
    SELECT r.command_id, r.stream_type, r.stream_id, o.version, o.position, o.transaction_id
    FROM outcome o JOIN ready r ON r.i = o.i
    ORDER BY r.command_id
),
snapshot AS (
    INSERT INTO snapshots (stream_type, stream_id, version, schema_version, state, head_hash)
    SELECT r.stream_type, r.stream_id, r.snapshot_version, r.snapshot_schema, r.snapshot_state,
           r.new_head
    FROM outcome o JOIN ready r ON r.i = o.i
    WHERE r.snapshot_version IS NOT NULL
    ORDER BY r.stream_type, r.stream_id
    ON CONFLICT (stream_type, stream_id) DO UPDATE
        SET version = excluded.version, schema_version = excluded.schema_version,
            state = excluded.state, head_hash = excluded.head_hash, taken_at = excluded.taken_at
        WHERE snapshots.version < excluded.version
)
SELECT i, version, position, transaction_id::text::bigint AS transaction_id FROM outcome
