"""Property-based fuzzing of every operation with an authenticated client (schemathesis).

Checks: no 5xx, and every response conforms to the published schema (status code,
content type, headers, body). Each operation is its own test, on both databases.
(Driven through each operation's hypothesis strategy: schemathesis' `from_fixture`
loader does not work with pytest 9.2.)
"""

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from app.main import app as module_app
from tests.factories import Account, create_entry, create_focus_area, create_person, register

# Where the contract deliberately refuses a schema-valid request, and why; nowhere else is a
# check switched off. (The schema states each rule; no JSON Schema keyword can enforce it.)
# - If-Match must name the current version: missing → 428, stale → 412.
# - A cursor or sync anchor must be one the API issued (→ 422); a calendar feed's token too
#   (→ 404).
# - An id in a body must name one of the caller's rows; a share code must be live (→ 422).
# - Rules across fields: `dispute_stage` only for a role dispute; 9 answers for a PHQ-9 and 7
#   for a GAD-7; a share's `expires_at` in the future; an import's references between its
#   own rows; an email address that can receive mail (not `.local`, `.test`, `localhost`…).
# - A mailed code must be one the API sent (→ 422); a password change needs the current
#   password (→ 403); a reset request is throttled per address (→ 429).
SEMANTIC_PARAMETERS = {"cursor", "since", "If-Match", "token"}
SEMANTIC_BODIES = {
    ("POST", "/v1/auth/register"),  # a deliverable email address; an invitation code
    ("POST", "/v1/auth/password-reset"),  # a deliverable email address; throttled
    ("POST", "/v1/auth/password-reset/confirm"),  # a mailed code
    ("POST", "/v1/auth/verify-email"),  # a mailed code
    ("POST", "/v1/me/password"),  # the current password
    ("POST", "/v1/focus-areas"),  # person ids; dispute_stage
    ("POST", "/v1/entries"),  # person, focus-area ids
    ("POST", "/v1/measures"),  # answers per instrument
    ("POST", "/v1/reminders"),  # a recurrence rule that occurs; a start from 1900 to 2199
    ("POST", "/v1/shares"),  # expires_at in the future
    ("POST", "/v1/therapist/links"),  # a live share code
    ("POST", "/v1/import"),  # references between the document's rows
}
SEMANTIC_REJECTIONS = SEMANTIC_BODIES | {
    (method.upper(), path)
    for path, operations in module_app.openapi()["paths"].items()
    for method, operation in operations.items()
    if SEMANTIC_PARAMETERS & {p["name"] for p in operation.get("parameters", [])}
}

OPERATIONS = [
    (method.upper(), path)
    for path, operations in module_app.openapi()["paths"].items()
    for method in operations
]


@pytest.fixture(scope="session")
def api_schema(app: FastAPI) -> OpenApiSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="session")
def fuzz_account(app: FastAPI) -> Account:
    with TestClient(app) as client:
        account = register(client)
        person = create_person(client, account)
        create_focus_area(client, account, person_ids=[person["id"]])
        create_entry(client, account, people=[{"person_id": person["id"], "quality": 1}])
    return account


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_conforms_to_its_schema(
    method: str, path: str, api_schema: OpenApiSchema, fuzz_account: Account
) -> None:
    operation = api_schema[path][method]
    excluded = [positive_data_acceptance] if (method, path) in SEMANTIC_REJECTIONS else []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case: Case) -> None:
        case.call_and_validate(headers=fuzz_account.headers, excluded_checks=excluded)

    check()
