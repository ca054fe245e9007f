-- The built-in simulated payment provider's ledger, when the server keeps it in the
-- database: one row per payment (the order id, the provider's idempotency key), so that a
-- restart, another replica or an operator's CLI redrive sees the charges already made and
-- never charges or refunds twice.
CREATE TABLE simulated_payments (
    payment_id uuid PRIMARY KEY,
    -- The first answer to a charge, which every later charge of the payment repeats:
    -- 'approved' (captured) or 'declined'; NULL while nothing is decided.
    outcome text CHECK (outcome IN ('approved', 'declined')),
    decline_reason text,
    -- A charge under way (tok_lateApproval) captures at this time.
    pending_until timestamptz,
    -- Calls so far of a tok_flaky charge, which fails twice and then approves.
    flaky_calls integer NOT NULL DEFAULT 0,
    -- What was paid back, if anything.
    refunded_minor bigint,
    refunded_currency text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((outcome = 'declined') = (decline_reason IS NOT NULL))
);

GRANT SELECT, INSERT, UPDATE ON simulated_payments TO domainflow_app;
