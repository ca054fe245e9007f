-- Rebuilding read models without downtime.
--
-- `projections rebuild` fills a second copy of a projection's tables, in the schema
-- read_model_shadow, from the start of the log while the live tables in public keep
-- serving; then, in one transaction, the two copies trade schemas. The projection code
-- names its tables without a schema, so the same code writes the live tables (default
-- search_path) or the shadow ones (search_path = read_model_shadow, public), and every
-- query finds the live tables by name after a swap. Grants travel with the tables, and the
-- same grants are given to both copies here, so they hold whichever copy is live.
--
-- A migration that changes a read-model table must change its shadow copy the same way:
-- a rebuild refuses to start while the two differ.

CREATE SCHEMA read_model_shadow;
-- Empty between swaps: a table passes through it so index names never clash.
CREATE SCHEMA read_model_swap;

CREATE TABLE read_model_shadow.rm_orders (LIKE public.rm_orders INCLUDING ALL);
CREATE TABLE read_model_shadow.rm_tickets (LIKE public.rm_tickets INCLUDING ALL);
CREATE TABLE read_model_shadow.rm_products (LIKE public.rm_products INCLUDING ALL);
CREATE TABLE read_model_shadow.rm_payments (LIKE public.rm_payments INCLUDING ALL);

GRANT USAGE ON SCHEMA read_model_shadow TO domainflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON read_model_shadow.rm_orders, read_model_shadow.rm_tickets,
       read_model_shadow.rm_products, read_model_shadow.rm_payments
    TO domainflow_app;

-- A rebuild in progress: where it stands, for `projections status`. The row is written by
-- the session holding the projection's rebuild lock (`backend_pid`), and deleted by the
-- swap; a row whose session is gone is a rebuild that stopped.
CREATE TABLE projection_rebuilds (
    name text PRIMARY KEY,
    backend_pid integer NOT NULL,
    transaction_id xid8 NOT NULL DEFAULT '0',
    position bigint NOT NULL DEFAULT 0,
    applied bigint NOT NULL DEFAULT 0,
    total bigint NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE, DELETE ON projection_rebuilds TO domainflow_app;

-- The tables a rebuild may touch; anything else is refused.
CREATE FUNCTION read_model_check(tables text[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY tables LOOP
        IF NOT t = ANY (ARRAY['rm_orders', 'rm_tickets', 'rm_products', 'rm_payments']) THEN
            RAISE EXCEPTION '% is not a read-model table', t USING ERRCODE = '22023';
        END IF;
        IF EXISTS (
            (SELECT column_name::text, data_type::text, is_nullable::text, column_default::text
             FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = t
             EXCEPT
             SELECT column_name::text, data_type::text, is_nullable::text, column_default::text
             FROM information_schema.columns
             WHERE table_schema = 'read_model_shadow' AND table_name = t)
            UNION ALL
            (SELECT column_name::text, data_type::text, is_nullable::text, column_default::text
             FROM information_schema.columns
             WHERE table_schema = 'read_model_shadow' AND table_name = t
             EXCEPT
             SELECT column_name::text, data_type::text, is_nullable::text, column_default::text
             FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = t)
        ) THEN
            RAISE EXCEPTION 'the shadow copy of % differs from the live table', t
                USING ERRCODE = '55000';
        END IF;
    END LOOP;
END
$$;

-- Empties the shadow copies of `tables` (as their owner: the server's role may not
-- truncate).
CREATE FUNCTION read_model_clear_shadow(tables text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    t text;
BEGIN
    PERFORM public.read_model_check(tables);
    FOREACH t IN ARRAY tables LOOP
        EXECUTE format('TRUNCATE read_model_shadow.%I', t);
    END LOOP;
END
$$;

-- Makes the shadow copies of `tables` live and the live ones the shadow, in the caller's
-- transaction (as their owner: only the owner may alter a table).
CREATE FUNCTION read_model_swap(tables text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    t text;
BEGIN
    PERFORM public.read_model_check(tables);
    FOREACH t IN ARRAY tables LOOP
        EXECUTE format('ALTER TABLE public.%I SET SCHEMA read_model_swap', t);
        EXECUTE format('ALTER TABLE read_model_shadow.%I SET SCHEMA public', t);
        EXECUTE format('ALTER TABLE read_model_swap.%I SET SCHEMA read_model_shadow', t);
    END LOOP;
END
$$;

REVOKE ALL ON FUNCTION read_model_check(text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION read_model_clear_shadow(text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION read_model_swap(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION read_model_check(text[]) TO domainflow_app;
GRANT EXECUTE ON FUNCTION read_model_clear_shadow(text[]) TO domainflow_app;
GRANT EXECUTE ON FUNCTION read_model_swap(text[]) TO domainflow_app;
