-- Read models built by the projection workers, and where each worker stands in the log.

-- One row per projection: the last event applied, as a (transaction_id, position) pair in
-- the global order. Workers advance it with compare-and-set in the transaction that
-- applies the batch. A parked projection stops until an operator resumes it.
CREATE TABLE projection_checkpoints (
    name text PRIMARY KEY,
    transaction_id xid8 NOT NULL DEFAULT '0',
    position bigint NOT NULL DEFAULT 0,
    state text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'parked')),
    error text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Orders, with their lines, timeline and payment. `version` is the order stream's version
-- applied; `payment_version` the payment stream's (payment events update the order too).
CREATE TABLE rm_orders (
    id uuid PRIMARY KEY,
    customer_id text NOT NULL,
    status text NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'CANCELLED', 'SHIPPED')),
    cancellation_reason text,
    currency text NOT NULL,
    total_minor bigint NOT NULL,
    -- [{sku, quantity, unitPriceMinor, lineTotalMinor}]
    lines jsonb NOT NULL,
    payment_status text,
    payment_amount_minor bigint,
    -- [{at, event}]
    timeline jsonb NOT NULL DEFAULT '[]',
    version bigint NOT NULL,
    payment_version bigint NOT NULL DEFAULT 0,
    placed_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- A customer's order history, newest first.
CREATE INDEX rm_orders_customer ON rm_orders (customer_id, placed_at DESC, id);
CREATE INDEX rm_orders_status ON rm_orders (status, placed_at DESC, id);

CREATE TABLE rm_tickets (
    id uuid PRIMARY KEY,
    customer_id text NOT NULL,
    order_id uuid,
    subject text NOT NULL,
    status text NOT NULL CHECK (status IN ('OPEN', 'CLOSED')),
    assignee text,
    -- [{author, role, body, at}]
    messages jsonb NOT NULL DEFAULT '[]',
    opened_at timestamptz NOT NULL,
    closed_at timestamptz,
    resolution text,
    version bigint NOT NULL
);

CREATE INDEX rm_tickets_customer ON rm_tickets (customer_id, opened_at DESC, id);
CREATE INDEX rm_tickets_assignee ON rm_tickets (assignee, opened_at DESC, id);

CREATE TABLE rm_products (
    sku text PRIMARY KEY,
    name text NOT NULL,
    on_hand bigint NOT NULL CHECK (on_hand >= 0),
    reserved bigint NOT NULL CHECK (reserved >= 0),
    available bigint NOT NULL CHECK (available >= 0),
    low_stock_threshold bigint NOT NULL,
    low_stock boolean NOT NULL DEFAULT false,
    version bigint NOT NULL
);

CREATE TABLE rm_payments (
    order_id uuid PRIMARY KEY,
    status text NOT NULL
        CHECK (status IN ('REQUESTED', 'SUCCEEDED', 'DECLINED', 'FAILED', 'REFUNDED')),
    amount_minor bigint NOT NULL,
    currency text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    version bigint NOT NULL
);

-- The first migration's default privileges already cover these tables; granted
-- explicitly as well so the server role's rights do not depend on who ran the migrations.
GRANT SELECT, INSERT, UPDATE, DELETE
    ON projection_checkpoints, rm_orders, rm_tickets, rm_products, rm_payments
    TO domainflow_app;
