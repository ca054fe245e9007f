-- The server appends events but never chooses where they fall in the global order:
-- `transaction_id` (the order subscribers and checkpoints follow) and `position` come from
-- the database alone. A plain INSERT privilege would let the server's login supply an old
-- transaction id and place an event below every projection's and the saga's checkpoint,
-- unseen by all of them. Column privileges leave the server every other column.
-- (`recorded_at` stays the server's: the hash it computes covers it.)
REVOKE INSERT ON events FROM domainflow_app;
GRANT INSERT (stream_type, stream_id, version, event_id, event_type, event_version, payload,
              metadata, recorded_at, prev_hash, hash)
    ON events TO domainflow_app;

-- Nothing of the schema is the server's to create: on PostgreSQL 14 and older every role may
-- create objects in `public` unless told otherwise (15 and later already refuse).
DO $$
BEGIN
    IF pg_has_role((SELECT nspowner FROM pg_namespace WHERE nspname = 'public'), 'USAGE') THEN
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    END IF;
END
$$;
