-- The event store: one append-only table of events, globally ordered by
-- (transaction_id, position), hash-chained per stream.

-- The canonical content of an event, hashed onto the previous hash of its stream.
-- One definition, used by the append statement and by verification, so the two can never
-- disagree. Fields are separated by newlines, which none of them can contain raw: stream
-- types and event types are fixed names, stream ids are validated, and JSON text escapes
-- control characters. recorded_at enters as exact microseconds since the epoch.
CREATE FUNCTION event_hash(
    prev_hash bytea,
    stream_type text,
    stream_id text,
    version bigint,
    event_id uuid,
    event_type text,
    event_version integer,
    payload jsonb,
    metadata jsonb,
    recorded_at timestamptz
) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN sha256(
    prev_hash || convert_to(
        concat_ws(
            E'\n',
            stream_type,
            stream_id,
            version::text,
            event_id::text,
            event_type,
            event_version::text,
            (extract(epoch FROM recorded_at) * 1000000)::bigint::text,
            metadata::text,
            payload::text
        ),
        'UTF8'
    )
);

CREATE TABLE events (
    position bigint GENERATED ALWAYS AS IDENTITY,
    transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
    stream_type text NOT NULL,
    stream_id text NOT NULL,
    version bigint NOT NULL CHECK (version > 0),
    event_id uuid NOT NULL,
    event_type text NOT NULL,
    event_version integer NOT NULL,
    payload jsonb NOT NULL,
    metadata jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL,
    CONSTRAINT events_pkey PRIMARY KEY (stream_type, stream_id, version)
);

-- The global order every subscriber reads.
CREATE INDEX events_global_order ON events (transaction_id, position);
-- The causal chain of one order (correlation id), and time-range reads.
CREATE INDEX events_correlation ON events ((metadata ->> 'correlationId'), transaction_id, position);
-- recorded_at grows with position, so a small BRIN index serves time ranges.
CREATE INDEX events_recorded_at ON events USING brin (recorded_at);

-- Append-only for every role, the owner included: statement triggers that fire always
-- (also under session_replication_role = replica).
CREATE FUNCTION events_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % on events is not allowed', TG_OP
        USING ERRCODE = 'DF001';
END
$$;

CREATE TRIGGER events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_update_or_delete;
ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_truncate;

-- The latest snapshot of a stream, with the schema version of its state.
CREATE TABLE snapshots (
    stream_type text NOT NULL,
    stream_id text NOT NULL,
    version bigint NOT NULL,
    schema_version integer NOT NULL,
    state jsonb NOT NULL,
    taken_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream_type, stream_id)
);

-- Commands already applied, recorded by the same statement as their events, so a repeat
-- returns the first result and appends nothing.
CREATE TABLE commands (
    command_id uuid PRIMARY KEY,
    stream_type text NOT NULL,
    stream_id text NOT NULL,
    version bigint NOT NULL,
    position bigint NOT NULL,
    transaction_id xid8 NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

-- The role the server works as: it may read and append events, never change them.
-- Roles are cluster-wide, so creating it tolerates another database having done so.
DO $$
BEGIN
    CREATE ROLE domainflow_app NOLOGIN;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

REVOKE ALL ON events FROM PUBLIC;
GRANT SELECT, INSERT ON events TO domainflow_app;
GRANT SELECT, INSERT, UPDATE ON snapshots TO domainflow_app;
GRANT SELECT, INSERT ON commands TO domainflow_app;
GRANT EXECUTE ON FUNCTION event_hash(bytea, text, text, bigint, uuid, text, integer, jsonb, jsonb, timestamptz) TO domainflow_app;
-- Read models and other tables added by later migrations are the server's to maintain.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO domainflow_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO domainflow_app;
