"""Schemathesis hooks for ops/fuzz-openapi.sh.

A valid Idempotency-Key that the generator happens to send twice with different bodies is
rightly refused (422 idempotency_key_reused: the same key must carry the same request); that is
state the document cannot express, so every valid key is made unique here. Invalid keys are left
as generated, so the header's format is still fuzzed. Idempotency itself is tested end to end in
tests/spine.rs and tests/hostile_input.rs.
"""

import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"^[!-~]{1,255}$")


@schemathesis.hook
def before_call(context, case, kwargs):
    # Every phase sends through here (the coverage phase bypasses the generation hooks).
    headers = case.headers if case.headers is not None else {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and VALID_KEY.match(str(headers[name])):
            headers[name] = f"fuzz-{uuid.uuid4()}"
