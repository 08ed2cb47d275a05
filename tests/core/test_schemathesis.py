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

# Where a schema-valid request can still be refused by design: a cursor or sync anchor must
# be one the API issued, instants lie between 1900 and 2199, a time zone must be a real IANA
# name, ids must name the caller's own rows, some fields depend on others (dispute_stage only
# for role_dispute, answers per instrument), codes must be live, and If-Match must name the
# current version (412).
SEMANTIC_PARAMETERS = {"cursor", "since", "from", "to", "If-Match"}
SEMANTIC_BODIES = {
    ("POST", "/v1/auth/register"),
    ("PATCH", "/v1/me"),
    ("POST", "/v1/focus-areas"),
    ("POST", "/v1/entries"),
    ("POST", "/v1/sessions"),
    ("POST", "/v1/measures"),
    ("POST", "/v1/shares"),
    ("POST", "/v1/therapist/links"),
    ("POST", "/v1/import"),
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
