"""A therapist's export: full scope only, never a private entry, always in the access log."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.export.support import csv_rows, fhir_bundle, mood_observations, resources
from tests.factories import (
    Account,
    assert_problem,
    create_entry,
    create_focus_area,
    create_measure,
    create_person,
    list_all,
    register,
    share_with,
)

PRIVATE_EVENT = "Private: what I never told anyone"
FORMATS = ("json", "csv", "fhir")


@dataclass
class Practice:
    ana: Account  # the client
    shared_ids: set[str]  # her entries that are not private
    private_ids: set[str]
    full: Account  # a therapist she shares everything with
    summaries: Account  # a therapist she shares summaries with
    unlinked: Account  # a therapist she does not share with
    bystander: Account  # another client, shared in full with `unlinked`


@pytest.fixture(scope="module")
def practice(app: FastAPI) -> Iterator[Practice]:
    with TestClient(app, raise_server_exceptions=False) as http:
        ana = register(http, name="Ana")
        mum = create_person(http, ana, name="Mum", relationship="parent")
        area = create_focus_area(http, ana, problem_area="grief", title="Losing Dad")
        create_measure(http, ana)
        shared, private = set(), set()
        for day in range(1, 7):
            is_private = day % 3 == 0
            entry = create_entry(
                http,
                ana,
                occurred_at=f"2026-10-0{day}T12:00:00Z",
                mood=day,
                event=f"{PRIVATE_EVENT} #{day}" if is_private else f"Shared day {day}",
                people=[{"person_id": mum["id"], "quality": 1}],
                emotions=[{"label": "sad", "intensity": day, "person_id": mum["id"]}],
                focus_area_id=area["id"],
                private=is_private,
            )
            (private if is_private else shared).add(entry["id"])
        full = register(http, role="therapist", name="Dr Full")
        summaries = register(http, role="therapist", name="Dr Summaries")
        unlinked = register(http, role="therapist", name="Dr Unlinked")
        bystander = register(http, name="Bea")
        share_with(http, ana, full, "full")
        share_with(http, ana, summaries, "summaries")
        share_with(http, bystander, unlinked, "full")
        yield Practice(ana, shared, private, full, summaries, unlinked, bystander)


def therapist_export(
    client: TestClient, therapist: Account, client_id: str, fmt: str, **params: Any
) -> Any:
    return client.get(
        f"/v1/therapist/clients/{client_id}/export",
        params={"format": fmt, **params},
        headers=therapist.headers,
    )


def assert_no_private_text(content: bytes) -> None:
    for encoded in (PRIVATE_EVENT.encode(), json.dumps(PRIVATE_EVENT).encode()):
        assert encoded not in content


def test_the_json_export_holds_exactly_the_shared_entries(
    client: TestClient, practice: Practice
) -> None:
    response = therapist_export(client, practice.full, practice.ana.id, "json")
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith("attachment")
    doc = json.loads(response.content)
    assert {e["id"] for e in doc["entries"]} == practice.shared_ids
    assert len(doc["entries"]) == len(practice.shared_ids) == 4
    assert not any(e["private"] for e in doc["entries"])
    assert doc["account"]["id"] == practice.ana.id
    assert [p["name"] for p in doc["people"]] == ["Mum"]
    assert [a["title"] for a in doc["focus_areas"]] == ["Losing Dad"]
    assert len(doc["measures"]) == 1
    assert_no_private_text(response.content)


def test_the_csv_export_has_a_row_per_shared_entry(client: TestClient, practice: Practice) -> None:
    response = therapist_export(client, practice.full, practice.ana.id, "csv")
    assert response.status_code == 200, response.text
    rows = csv_rows(response)
    assert len(rows) == len(practice.shared_ids)
    assert {row["id"] for row in rows} == practice.shared_ids
    assert {row["private"] for row in rows} == {"no"}
    assert_no_private_text(response.content)


def test_the_fhir_export_has_an_observation_per_shared_entry(
    client: TestClient, practice: Practice
) -> None:
    response = therapist_export(client, practice.full, practice.ana.id, "fhir")
    assert response.status_code == 200, response.text
    bundle = fhir_bundle(response)
    assert mood_observations(bundle).keys() == practice.shared_ids
    assert [patient.id for patient in resources(bundle, "Patient")] == [practice.ana.id]
    assert_no_private_text(response.content)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_therapists_export_never_carries_the_clients_email(
    client: TestClient, practice: Practice, fmt: str
) -> None:
    response = therapist_export(client, practice.full, practice.ana.id, fmt)
    assert response.status_code == 200, response.text
    assert practice.ana.email.split("@")[0].encode() not in response.content.lower()


def test_only_the_clients_own_export_carries_their_email(
    client: TestClient, practice: Practice
) -> None:
    """The control for the test above: the email is there to be left out."""
    own = client.get("/v1/export", headers=practice.ana.headers)
    assert own.json()["account"]["email"] == practice.ana.email
    shared = therapist_export(client, practice.full, practice.ana.id, "json")
    assert json.loads(shared.content)["account"].keys() == {"id", "display_name", "timezone"}


def test_the_range_applies_to_a_therapists_export(client: TestClient, practice: Practice) -> None:
    window = {"from": "2026-10-01T00:00:00Z", "to": "2026-10-03T00:00:00Z"}
    response = therapist_export(client, practice.full, practice.ana.id, "json", **window)
    assert response.status_code == 200, response.text
    days = sorted(e["occurred_at"][:10] for e in json.loads(response.content)["entries"])
    assert days == ["2026-10-01", "2026-10-02"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_summaries_scope_therapist_may_not_export(
    client: TestClient, practice: Practice, fmt: str
) -> None:
    response = therapist_export(client, practice.summaries, practice.ana.id, fmt)
    assert_problem(response, 403)
    assert_no_private_text(response.content)
    assert "Shared day" not in response.text


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unlinked_therapist_gets_404(client: TestClient, practice: Practice, fmt: str) -> None:
    response = therapist_export(client, practice.unlinked, practice.ana.id, fmt)
    assert_problem(response, 404)
    assert "Shared day" not in response.text
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_problem(therapist_export(client, practice.full, unknown, fmt), 404)


def test_a_client_cannot_use_the_therapists_export(client: TestClient, practice: Practice) -> None:
    response = therapist_export(client, practice.bystander, practice.ana.id, "json")
    assert_problem(response, 403)
    assert "Shared day" not in response.text


def access_log(client: TestClient, account: Account) -> list[dict[str, Any]]:
    return list_all(client, account, "/v1/access-log")


def test_the_export_read_is_in_the_clients_access_log(
    client: TestClient, practice: Practice
) -> None:
    before = access_log(client, practice.ana)
    response = therapist_export(client, practice.full, practice.ana.id, "csv")
    assert response.status_code == 200, response.text
    after = access_log(client, practice.ana)
    assert len(after) == len(before) + 1
    newest = after[0]
    assert newest["action"] == "export"
    assert newest["therapist_id"] == practice.full.id
    assert newest["therapist_name"] == "Dr Full"
    assert newest["outcome"] == "ok"
    assert after[1:] == before


def test_a_refused_export_is_logged_as_denied(client: TestClient, practice: Practice) -> None:
    before = access_log(client, practice.ana)
    assert_problem(therapist_export(client, practice.summaries, practice.ana.id, "json"), 403)
    after = access_log(client, practice.ana)
    assert after[1:] == before
    assert (after[0]["action"], after[0]["therapist_id"], after[0]["outcome"]) == (
        "export",
        practice.summaries.id,
        "denied",
    )
    # A therapist without a link leaves no trace in her log.
    assert_problem(therapist_export(client, practice.unlinked, practice.ana.id, "json"), 404)
    assert access_log(client, practice.ana) == after
