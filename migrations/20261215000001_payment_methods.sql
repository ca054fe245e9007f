-- Payment tokens leave the log: the provider registers a customer's token and answers a
-- payment method (a reference and a fingerprint), which OrderPlaced and PaymentRequested v2
-- keep instead. Events stored earlier keep their bytes (the log is append-only) and are
-- shown redacted; the saga's state and the snapshots are not the log, and lose their copies
-- of tokens here.

-- The built-in simulated provider's vault: what a real provider keeps on its side. It
-- holds the tokens, so that a charge of a reference finds its test token's behaviour.
CREATE TABLE simulated_payment_methods (
    reference text PRIMARY KEY,
    token text NOT NULL,
    fingerprint text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The vault's secret, which keys the fingerprints: equal tokens get equal fingerprints,
-- and a fingerprint does not give its token back, not even a short test token's.
CREATE TABLE simulated_payment_vault (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    secret bytea NOT NULL
);
INSERT INTO simulated_payment_vault (secret)
VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

GRANT SELECT, INSERT ON simulated_payment_methods TO domainflow_app;
GRANT SELECT ON simulated_payment_vault TO domainflow_app;

-- The saga's first step of each order kept the token: it keeps a redacted method now. An
-- order placed before this and not charged yet is declined when charged, as the provider
-- knows no method by that reference; one already charged is answered from the charge.
UPDATE saga_fulfilments
SET steps = (
    SELECT jsonb_agg(
        CASE WHEN step ? 'paymentToken'
            THEN (step - 'paymentToken')
                || '{"paymentMethod": {"reference": "redacted", "fingerprint": "redacted"}}'
            ELSE step
        END
        ORDER BY n)
    FROM jsonb_array_elements(steps) WITH ORDINALITY AS s (step, n))
WHERE steps @? '$[*].paymentToken';

-- Payment snapshots of shape 1 kept the token; the server ignores them since shape 2.
DELETE FROM snapshots WHERE stream_type = 'payment' AND schema_version = 1;
