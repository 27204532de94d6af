"""Creates one of everything the command API's paths name (a campaign with a pending structure
request, a running one with a pending proposal, an audience with a segment, an API key) for the tenant of the given Admin
token, and writes a schemathesis configuration that sends their real ids as path parameters, so
that the fuzzing reaches the handlers instead of stopping at 404.

    python3 ops/fuzz_fixtures.py COMMAND_URL QUERY_URL ADMIN_TOKEN OUT_TOML
"""

import json
import sys
import time
import urllib.error
import urllib.request

command_url, query_url, token, out = sys.argv[1:5]


def call(url, body, headers=None):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raise SystemExit(f"{url}: {error.code} {error.read().decode()}")


def command(path, body, version=None):
    headers = {"If-Match": str(version)} if version is not None else {}
    return call(command_url + path, body, headers)


def query(text, variables):
    for _ in range(100):
        reply = call(query_url + "/graphql", {"query": text, "variables": variables})
        if not reply.get("errors"):
            return reply["data"]
        time.sleep(0.2)
    raise SystemExit(f"query failed: {reply}")


def history(aggregate, position):
    return query(
        "query($id: ID!, $p: String) { history(aggregateId: $id, minPosition: $p) { entries { eventType data } } }",
        {"id": aggregate, "p": position})["history"]["entries"]


def event_field(aggregate, position, event_type, field):
    return next(e["data"][field] for e in history(aggregate, position) if e["eventType"] == event_type)


campaign_body = {
    "name": "Fuzzing fixture", "objective": "LEAD_GENERATION", "platforms": ["GOOGLE"],
    "totalBudgetMicros": 50_000_000_000, "startDate": "2027-01-01", "endDate": "2027-03-31"}
google = {"google": {
    "dailyBudgetMicros": 50_000_000,
    "campaign": {"name": "Search", "channel": "SEARCH", "bidding": {"strategy": "MAXIMIZE_CONVERSIONS"},
                 "locations": ["geoTargetConstants/2276"], "languages": ["languageConstants/1001"]},
    "adGroups": [{"name": "Software", "keywords": [{"text": "b2b campaign software", "matchType": "PHRASE"}],
                  "ads": [{"headlines": ["B2B ads that convert", "Plan campaigns fast", "Try it free"],
                           "descriptions": ["Campaigns from one brief.", "Budgets and copy in one place."],
                           "finalUrls": ["https://example.com/b2b"]}]}]}}

# A campaign waiting for its structure (the structure-request paths and most commands).
waiting = command("/v1/campaigns", campaign_body)
requested = command(f"/v1/campaigns/{waiting['id']}/structure-requests", {}, waiting["version"])
request_id = event_field(waiting["id"], requested["position"], "StructureGenerationRequested", "requestId")

# A running campaign with a pending proposal (the proposal paths).
running = command("/v1/campaigns", campaign_body)
asked = command(f"/v1/campaigns/{running['id']}/structure-requests", {}, running["version"])
running_request = event_field(running["id"], asked["position"], "StructureGenerationRequested", "requestId")
version = asked["version"]
for suffix, body in [
        (f"structure-requests/{running_request}/result", {"modelVersion": "m", "structure": google}),
        ("approve", {}), ("deploy", {}), ("deployments/google", {"externalId": "customers/1/campaigns/2"}),
        ("activate", {})]:
    version = command(f"/v1/campaigns/{running['id']}/{suffix}", body, version)["version"]
proposed = command(f"/v1/campaigns/{running['id']}/proposals", {
    "action": {"kind": "PAUSE"}, "reason": "fixture", "confidenceBasisPoints": 1000, "modelVersion": "fixture-1"},
    version)
proposal_id = event_field(running["id"], proposed["position"], "OptimisationProposed", "proposalId")

audience = command("/v1/audiences", {"name": "Fuzzing audience", "criteria": {"include": {"locations": ["DE"], "industries": ["software"]}}})
segmented = command(f"/v1/audiences/{audience['id']}/segments",
                    {"name": "Fixture segment", "criteria": {"include": {"locations": ["DE"], "industries": ["software"]}}}, audience["version"])
api_key = command("/v1/api-keys", {"name": "fuzzing fixture", "role": "VIEWER"})
segments = query(
    "query($id: ID!, $p: String) { audience(id: $id, minPosition: $p) { segments { id } } }",
    {"id": audience["id"], "p": segmented["position"]})["audience"]["segments"]

# Operations whose bodies carry rules JSON Schema cannot state: facets that cannot be combined,
# an audience that must exist, dates relative to today, free text without control characters,
# platform and editorial rules on structures, guardrail ranges that depend on each other, and
# structures whose size passes the 64 KiB body limit. The document lists each such rule in prose.
CROSS_FIELD_RULES = [
    "POST /v1/audiences",
    "POST /v1/audiences/{id}/account-lists",
    "POST /v1/audiences/{id}/segmentation-requests",
    "POST /v1/audiences/{id}/segments",
    "POST /v1/audiences/{id}/segments/{segmentId}/personas",
    "POST /v1/campaigns",
    "POST /v1/campaigns/{id}/deployments/{platform}",
    "POST /v1/campaigns/{id}/performance",
    "POST /v1/campaigns/{id}/proposals",
    "POST /v1/campaigns/{id}/proposals/{proposalId}/decline",
    "POST /v1/campaigns/{id}/schedule",
    "POST /v1/campaigns/{id}/segments",
    "POST /v1/campaigns/{id}/structure",
    "POST /v1/campaigns/{id}/structure-requests",
    "POST /v1/campaigns/{id}/structure-requests/{requestId}/result",
    "POST /v1/campaigns/{id}/structure/reject",
    "POST /v1/settings/guardrails",
    "POST /v1/settings/decision-rules",
]

operations = [
    ("^/v1/campaigns/[^/]+/proposals", {"path.id": running["id"], "path.proposalId": proposal_id}),
    ("^/v1/campaigns/[^/]+/(?!proposals)", {"path.id": waiting["id"], "path.requestId": request_id}),
    ("^/v1/audiences/", {"path.id": audience["id"], "path.segmentId": segments[0]["id"]}),
    ("^/v1/api-keys/", {"path.id": api_key["id"]}),
]
# 428 Precondition Required is the answer to a missing If-Match (RFC 6585), beside the defaults.
# Where a rule cannot be stated in JSON Schema (facets that cannot be combined, an audience that
# must exist, platform and editorial rules on structures), 422 is an expected answer too.
with open(out, "w") as config:
    config.write(f'[auth.openapi.bearer]\nbearer = {json.dumps(token)}\n\n')
    config.write('[checks.missing_required_header]\n')
    config.write('expected-statuses = ["400", "401", "403", "406", "415", "422", "428"]\n\n')
    # A schema-violating body that is also larger than the body limit is refused with 413 before
    # it is read: a rejection like any other.
    config.write('[checks.negative_data_rejection]\n')
    config.write('expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]\n\n')
    semantic = '["2xx", "401", "403", "404", "409", "413", "422", "429"]'
    for name in CROSS_FIELD_RULES:
        config.write("[[operations]]\n")
        config.write(f"include-name = {json.dumps(name)}\n")
        config.write(f"checks.positive_data_acceptance.expected-statuses = {semantic}\n")
        for phase in ("examples", "coverage", "fuzzing", "stateful"):
            config.write(f"phases.{phase}.checks.positive_data_acceptance.expected-statuses = {semantic}\n")
        config.write("\n")
    for regex, parameters in operations:
        config.write("[[operations]]\n")
        config.write(f"include-path-regex = {json.dumps(regex)}\n")
        inline = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in parameters.items())
        config.write(f"parameters = {{ {inline} }}\n\n")
print(f"fixtures: campaigns {waiting['id']} and {running['id']}, audience {audience['id']}, api key {api_key['id']}", file=sys.stderr)
