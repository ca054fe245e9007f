"""Schemathesis hooks for domainflow's API fuzzing in CI.

Idempotency keys: the contract answers 422 IDEMPOTENCY_MISMATCH when a client reuses a key
with a different body. Generated keys repeat across generated bodies, so each request gets
a fresh key just before it is sent; the key semantics themselves are covered by the
end-to-end tests (tests/tests/e2e/idempotency.rs).
"""

import re
import uuid
import zlib

import schemathesis


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())


# X-Consistent-With: a well-formed token naming no event can never be reached, and the
# contract answers it 503 STALE, which the server-error check would flag. Well-formed
# generated tokens are replaced by the start of the log (always reached); malformed ones
# are kept, so the 422 path is still fuzzed. Waiting and STALE are covered by the
# end-to-end tests (tests/tests/e2e/reads.rs).
_CONSISTENT_WITH = re.compile(r"^[0-9a-fA-F]{16}[0-7][0-9a-fA-F]{15}$")


@schemathesis.hook("before_call")
def reachable_consistent_with(ctx, case, **kwargs):
    token = (case.headers or {}).get("X-Consistent-With")
    if token is not None and _CONSISTENT_WITH.match(token):
        case.headers["X-Consistent-With"] = "0" * 32


# GraphQL string arguments: the generator does not write control characters such as NUL,
# which PostgreSQL refuses in text, so every other GraphQL case (chosen by the query's
# checksum, so a seed replays) gets a NUL at the start of one of its string literals. Every
# string argument must be parsed before it reaches the database, and answer VALIDATION.
_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')


@schemathesis.hook("before_call")
def nul_in_a_graphql_string(ctx, case, **kwargs):
    label = str(case.operation.label)
    if not label.startswith(("Query.", "Mutation.")):
        return
    query = case.body.get("query") if isinstance(case.body, dict) else case.body
    if not isinstance(query, str):
        return
    literals = list(_STRING_LITERAL.finditer(query))
    checksum = zlib.crc32(query.encode())
    if not literals or checksum % 2:
        return
    start = literals[(checksum // 2) % len(literals)].start() + 1
    query = query[:start] + "\\u0000" + query[start:]
    if isinstance(case.body, dict):
        case.body["query"] = query
    else:
        case.body = query


# GraphQL answers errors with status 200 and a code in `extensions.code`. Schemathesis's
# own server-error check counts every resolver error as the server's fault unless it carries
# an Apollo code (BAD_USER_INPUT ...), so it would flag our VALIDATION, FORBIDDEN and
# NOT_FOUND answers (API.md's codes); the GraphQL pass turns it off and runs this one: no
# 5xx status, and no error with the code INTERNAL (a request that reached something
# unprepared for it, the database included).
@schemathesis.check
def no_internal_error(ctx, response, case):
    if response.status_code >= 500:
        raise AssertionError(f"server error: status {response.status_code}")
    try:
        body = response.json()
    except Exception:
        return None
    errors = body.get("errors") if isinstance(body, dict) else None
    for error in errors if isinstance(errors, list) else []:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        if isinstance(extensions, dict) and extensions.get("code") == "INTERNAL":
            raise AssertionError(f"INTERNAL error: {error.get('message')}")
    return None
