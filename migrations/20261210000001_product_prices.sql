-- Products carry a price: the read model shows it as integer minor units beside its
-- currency. Both are null for a product registered before products had prices, until it
-- is repriced.
--
-- The rebuild's shadow copy changes the same way: a rebuild refuses to start while the
-- live table and its shadow differ.

ALTER TABLE public.rm_products
    ADD COLUMN price_minor bigint,
    ADD COLUMN currency text;

ALTER TABLE read_model_shadow.rm_products
    ADD COLUMN price_minor bigint,
    ADD COLUMN currency text;
