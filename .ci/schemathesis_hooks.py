"""Schemathesis hooks for domainflow's API fuzzing in CI.

Idempotency keys: the contract answers 422 IDEMPOTENCY_MISMATCH when a client reuses a key
with a different body. Generated keys repeat across generated bodies, so each request gets
a fresh key just before it is sent; the key semantics themselves are covered by the
end-to-end tests (tests/tests/idempotency.rs).
"""

import re
import uuid

import schemathesis


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())


# X-Consistent-With: a well-formed token naming no event can never be reached, and the
# contract answers it 503 STALE, which the server-error check would flag. Well-formed
# generated tokens are replaced by the start of the log (always reached); malformed ones
# are kept, so the 422 path is still fuzzed. Waiting and STALE are covered by the
# end-to-end tests (tests/tests/reads.rs).
_CONSISTENT_WITH = re.compile(r"^[0-9a-fA-F]{16}[0-7][0-9a-fA-F]{15}$")


@schemathesis.hook("before_call")
def reachable_consistent_with(ctx, case, **kwargs):
    token = (case.headers or {}).get("X-Consistent-With")
    if token is not None and _CONSISTENT_WITH.match(token):
        case.headers["X-Consistent-With"] = "0" * 32
