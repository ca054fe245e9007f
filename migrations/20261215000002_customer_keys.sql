-- Customers' data keys (crypto-shredding). The personal fields of a customer's events (a
-- ticket's subject, messages and resolution) are stored encrypted under the customer's
-- data key; the key is stored here encrypted under the master key from the settings, which
-- is never in the database. Erasing the customer destroys the key (wrapped_key becomes
-- NULL): the ciphertext stays in the log, its hash chain intact, and reads as erased.
CREATE TABLE customer_keys (
    key_id uuid PRIMARY KEY,
    customer_id text NOT NULL,
    -- nonce ‖ AES-256-GCM(master key, data key, aad = key_id) ‖ tag; NULL once destroyed.
    wrapped_key bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    erased_at timestamptz,
    CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
);

-- One live key per customer; an erased customer who comes back gets a new one.
CREATE UNIQUE INDEX customer_keys_live ON customer_keys (customer_id) WHERE erased_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON customer_keys TO domainflow_app;
