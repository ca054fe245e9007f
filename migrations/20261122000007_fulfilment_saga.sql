-- The order-fulfilment saga: each order's progress, its payment deadlines, the messages it
-- could not process, and where its runner stands in the global order.

-- One row per order the saga has seen. `steps` are the policy's inputs so far, in the order
-- they were taken in; folding them again gives the saga's state. `phase` is derived from
-- them and kept for metrics and operators.
CREATE TABLE saga_fulfilments (
    order_id uuid PRIMARY KEY,
    -- The order's correlation id: every command the saga sends for it carries it.
    correlation_id uuid NOT NULL,
    phase text NOT NULL,
    steps jsonb NOT NULL,
    -- The last event of the log taken in as a step: a batch read again after a crash skips
    -- what this saga has already taken.
    last_transaction_id xid8 NOT NULL DEFAULT '0',
    last_position bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX saga_fulfilments_phase ON saga_fulfilments (phase);

-- Durable payment deadlines: when one falls due and the payment has not settled, the saga
-- compensates with PAYMENT_TIMEOUT. Removed once the order reaches an outcome.
CREATE TABLE saga_deadlines (
    order_id uuid PRIMARY KEY,
    due_at timestamptz NOT NULL
);
CREATE INDEX saga_deadlines_due ON saga_deadlines (due_at);

-- Actions the saga gave up on after its retries. The step that caused the action is
-- `steps[step_index]` of the order's saga, and the action is the `action_index`-th the
-- policy answered to it; a redrive carries out the actions from there on.
CREATE TABLE saga_dead_letters (
    id bigserial PRIMARY KEY,
    order_id uuid NOT NULL,
    step_index integer NOT NULL,
    action_index integer NOT NULL,
    action text NOT NULL,
    -- The event that caused the step (position token, stream, version, type), if any.
    cause jsonb NOT NULL,
    error text NOT NULL,
    attempts integer NOT NULL,
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    last_failed_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, step_index, action_index)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON saga_fulfilments, saga_deadlines, saga_dead_letters
    TO domainflow_app;
GRANT USAGE, SELECT ON SEQUENCE saga_dead_letters_id_seq TO domainflow_app;
