"""Helpers the export tests share: downloading, parsing the three formats, importing."""

import csv
import io
import json
import uuid
from typing import Any

import httpx
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle

from tests.factories import Account, list_all

LOINC = "http://loinc.org"
PHQ9_LOINC = "44261-6"
GAD7_LOINC = "70274-6"
KINDS = ("people", "focus_areas", "sessions", "measures", "reminders", "entries")
# Every list endpoint of a client's diary, as (document section, path, query).
LISTS = (
    ("people", "/v1/people", {"include_archived": "true"}),
    ("focus_areas", "/v1/focus-areas", {}),
    ("sessions", "/v1/sessions", {}),
    ("measures", "/v1/measures", {}),
    ("reminders", "/v1/reminders", {}),
    ("entries", "/v1/entries", {}),
)


def new_id() -> str:
    return str(uuid.uuid4())


def download(
    client: TestClient, account: Account, fmt: str = "json", path: str = "/v1/export", **params: Any
) -> httpx.Response:
    response = client.get(path, params={"format": fmt, **params}, headers=account.headers)
    assert response.status_code == 200, response.text
    return response


def export_json(client: TestClient, account: Account, **params: Any) -> dict[str, Any]:
    return dict(json.loads(download(client, account, "json", **params).content))


def csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    """The CSV download read back as a spreadsheet would: UTF-8 with a byte-order mark."""
    text = response.content.decode("utf-8-sig")
    assert not text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def csv_header(response: httpx.Response) -> list[str]:
    return next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def fhir_bundle(response: httpx.Response) -> Bundle:
    return parse_bundle(response.content)


def parse_bundle(content: bytes) -> Bundle:
    """A FHIR R4 Bundle, as the fhir.resources R4B models read it (a parse error fails)."""
    return Bundle.model_validate_json(content)


def resources(bundle: Bundle, kind: str) -> list[Any]:
    return [e.resource for e in bundle.entry or [] if e.resource.get_resource_type() == kind]


def loinc_code(observation: Any) -> str | None:
    for coding in observation.code.coding or []:
        if coding.system == LOINC:
            return str(coding.code)
    return None


def mood_observations(bundle: Bundle) -> dict[str, Any]:
    """The diary entries' Observations (those without a LOINC code), by id."""
    return {o.id: o for o in resources(bundle, "Observation") if loinc_code(o) is None}


def import_document(client: TestClient, account: Account, document: Any) -> dict[str, Any]:
    response = client.post("/v1/import", json=document, headers=account.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def counts(**values: int) -> dict[str, int]:
    return {kind: values.get(kind, 0) for kind in KINDS}


def listed(client: TestClient, account: Account) -> dict[str, list[dict[str, Any]]]:
    """Everything the account's list endpoints show."""
    return {kind: list_all(client, account, path, **query) for kind, path, query in LISTS}


def assert_nothing_listed(client: TestClient, account: Account) -> None:
    assert listed(client, account) == {kind: [] for kind in KINDS}


def entry_doc(**overrides: Any) -> dict[str, Any]:
    """An entry as a JSON export holds it."""
    return {
        "id": new_id(),
        "occurred_at": "2026-10-05T12:00:00Z",
        "mood": 5,
        "event": "Lunch",
        "event_type": "other",
        "people": [],
        "emotions": [],
        "tags": [],
        **overrides,
    }


def document(**sections: Any) -> dict[str, Any]:
    return {"format_version": 2, **{kind: sections.get(kind, []) for kind in KINDS}}
