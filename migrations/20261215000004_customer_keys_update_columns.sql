-- The server may only destroy a data key (set wrapped_key to NULL with erased_at), never
-- rewrite a key row's id or customer. Keys are wrapped with their id and customer as
-- additional data (AES-256-GCM), so a row moved to another customer does not open.
REVOKE UPDATE ON customer_keys FROM domainflow_app;
GRANT UPDATE (wrapped_key, erased_at) ON customer_keys TO domainflow_app;
