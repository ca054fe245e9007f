"""Schemathesis hooks for domainflow's API fuzzing in CI.

Idempotency keys: the contract answers 422 IDEMPOTENCY_MISMATCH when a client reuses a key
with a different body. Generated keys repeat across generated bodies, so each request gets
a fresh key just before it is sent; the key semantics themselves are covered by the
end-to-end tests (tests/tests/idempotency.rs).
"""

import uuid

import schemathesis


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
