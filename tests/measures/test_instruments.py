"""WSAS and EPDS (and the registry's rules for every instrument): scored against the published
keys and cut-offs, validated per instrument, their safety item, the brief's chart and the FHIR
export's codes.

References, written here rather than read from the code:
- WSAS (Mundt, Marks, Shear & Greist 2002, Br J Psychiatry 180:461-4): five items 0-8; the
  work item (1) is left out for people not in work; totals below 10 subclinical, 10-19
  significant impairment, 20 and above moderately severe or worse.
- EPDS (Cox, Holden & Sagovsky 1987, Br J Psychiatry 150:782-6): ten items with four
  responses each; items 1, 2 and 4 are scored 0-3 from the first response to the last, the
  other seven 3-0; 10-12 possible and 13 or more probable depression; item 10 is "the thought
  of harming myself has occurred to me".
"""

import itertools
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.measures.instruments import REGISTRY
from app.models.safety import SafetyReason
from app.models.therapy import Instrument
from tests.export.support import LOINC, download, fhir_bundle, resources
from tests.factories import Account, assert_problem, create_measure, measure_body, register

EPDS_SCORED_UPWARDS = {1, 2, 4}  # the rest are reverse-scored on the printed form


def epds_scores(responses: list[int]) -> list[int]:
    """Item scores from the responses ticked (0 = the first printed response) by the
    published key."""
    assert len(responses) == 10
    return [
        response if item in EPDS_SCORED_UPWARDS else 3 - response
        for item, response in enumerate(responses, start=1)
    ]


def post(client: TestClient, account: Account, **overrides: Any) -> Any:
    return client.post("/v1/measures", json=measure_body(**overrides), headers=account.headers)


@pytest.fixture
def ana(client: TestClient) -> Account:
    return register(client)


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ([0, 0, 0, 0, 0], 0, "subclinical"),
        ([2, 2, 2, 2, 1], 9, "subclinical"),
        ([2, 2, 2, 2, 2], 10, "significant"),
        ([4, 4, 4, 4, 3], 19, "significant"),
        ([4, 4, 4, 4, 4], 20, "severe"),
        ([8, 8, 8, 8, 8], 40, "severe"),
        # Not in work: the total is over the other four items.
        ([None, 2, 2, 2, 3], 9, "subclinical"),
        ([None, 3, 3, 2, 2], 10, "significant"),
        ([None, 5, 5, 5, 5], 20, "severe"),
        ([None, 8, 8, 8, 8], 32, "severe"),
    ],
)
def test_wsas_totals_and_bands(
    client: TestClient, ana: Account, answers: list[int | None], total: int, band: str
) -> None:
    response = post(client, ana, instrument="wsas", answers=answers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["total"], body["severity"], body["answers"]) == (total, band, answers)
    assert body["safety"] is None  # WSAS has no safety item
    fetched = client.get(f"/v1/measures/{body['id']}", headers=ana.headers).json()
    assert fetched["answers"] == answers


@pytest.mark.parametrize(
    ("responses", "total", "band"),
    [
        ([0] * 10, 21, "probable"),  # the first response everywhere
        ([3] * 10, 9, "unlikely"),  # the last response everywhere
        ([0, 0, 3, 0, 3, 3, 3, 3, 3, 3], 0, "unlikely"),  # the least distress on every item
        ([3, 3, 0, 3, 0, 0, 0, 0, 0, 3], 27, "probable"),
        ([1, 1, 0, 1, 2, 2, 2, 3, 3, 3], 9, "unlikely"),
        ([1, 1, 0, 1, 1, 2, 2, 3, 3, 3], 10, "possible"),
        ([1, 1, 0, 1, 1, 1, 1, 3, 3, 3], 12, "possible"),
        ([1, 1, 0, 1, 1, 1, 0, 3, 3, 3], 13, "probable"),
    ],
)
def test_epds_totals_and_bands_from_the_published_key(
    client: TestClient, ana: Account, responses: list[int], total: int, band: str
) -> None:
    scores = epds_scores(responses)
    assert sum(scores) == total  # the table above is the key's arithmetic, checked
    response = post(client, ana, instrument="epds", answers=scores)
    assert response.status_code == 201, response.text
    assert (response.json()["total"], response.json()["severity"]) == (total, band)


@pytest.mark.parametrize("item10", [1, 2, 3])
def test_epds_item_10_above_0_gives_the_safety_notice_and_keeps_an_event(
    client: TestClient, ana: Account, item10: int
) -> None:
    answers = [0] * 9 + [item10]
    created = post(client, ana, instrument="epds", answers=answers).json()
    assert created["safety"]["reason"] == "epds_item10"
    assert created["safety"]["helpline_url"].startswith("https://")
    events = client.get("/v1/safety-events", headers=ana.headers).json()["items"]
    assert [(e["reason"], e["source_type"], e["source_id"]) for e in events] == [
        ("epds_item10", "measure", created["id"])
    ]


def test_epds_item_10_at_0_gives_no_notice_even_when_probable(
    client: TestClient, ana: Account
) -> None:
    created = post(client, ana, instrument="epds", answers=[3] * 9 + [0]).json()
    assert (created["total"], created["severity"], created["safety"]) == (27, "probable", None)
    assert client.get("/v1/safety-events", headers=ana.headers).json()["items"] == []


@pytest.mark.parametrize(
    ("instrument", "answers", "field"),
    [
        ("wsas", [1, None, 1, 1, 1], "body.answers.1"),  # only the work item may be null
        ("wsas", [1, 1, 1, 1, 9], "body.answers.4"),  # 0-8
        ("wsas", [1, 1, 1, 1], "body.answers"),
        ("epds", [0] * 9 + [4], "body.answers.9"),  # 0-3
        ("epds", [0] * 9, "body.answers"),
        ("epds", [None] + [0] * 9, "body.answers.0"),
        ("phq9", [0] * 8 + [None], "body.answers.8"),
        ("phq9", [4] + [0] * 8, "body.answers.0"),
        ("gad7", [0] * 5, "body.answers"),
        ("wsas", [True, 1, 1, 1, 1], "body.answers.0"),  # a boolean is not a number
        ("wsas", [1.5, 1, 1, 1, 1], "body.answers.0"),
    ],
)
def test_answers_outside_the_instruments_rules_are_422_naming_the_answer(
    client: TestClient, ana: Account, instrument: str, answers: list[Any], field: str
) -> None:
    assert_problem(post(client, ana, instrument=instrument, answers=answers), 422, field)
    assert client.get("/v1/measures", headers=ana.headers).json()["items"] == []


def test_changing_the_instrument_checks_the_answers_against_the_new_one(
    client: TestClient, ana: Account
) -> None:
    created = create_measure(client, ana, instrument="wsas", answers=[None, 8, 8, 8, 8])
    headers = {**ana.headers, "If-Match": '"1"'}
    refused = client.patch(
        f"/v1/measures/{created['id']}", json={"instrument": "gad7"}, headers=headers
    )
    assert_problem(refused, 422, "body.answers")
    moved = client.patch(
        f"/v1/measures/{created['id']}",
        json={"instrument": "epds", "answers": [3] * 10},
        headers=headers,
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["total"], moved.json()["severity"]) == (30, "probable")


def test_the_fhir_export_codes_each_total_by_loinc_where_it_has_one(
    client: TestClient, ana: Account
) -> None:
    create_measure(client, ana, instrument="epds", answers=[1] * 10)
    create_measure(client, ana, instrument="wsas", answers=[None, 1, 2, 3, 4])
    observations = resources(fhir_bundle(download(client, ana, "fhir")), "Observation")
    codes = {
        (o.code.coding[0].system, o.code.coding[0].code, o.valueInteger)
        for o in observations
        if o.valueInteger is not None and o.code.coding[0].code in {"99046-5", "wsas"}
    }
    assert (LOINC, "99046-5", 10) in codes  # LOINC's EPDS total score
    [wsas] = [code for code in codes if code[1] == "wsas"]  # LOINC has no WSAS total
    assert wsas[0] != LOINC
    assert wsas[0].startswith("https://")
    assert wsas[2] == 10


def test_the_brief_charts_each_instrument_taken_with_its_safety_item(
    app: FastAPI, client: TestClient, ana: Account
) -> None:
    create_measure(
        client, ana, instrument="epds", answers=[1] * 9 + [2], completed_at="2026-11-20T09:00:00Z"
    )
    create_measure(
        client,
        ana,
        instrument="wsas",
        answers=[None, 5, 5, 5, 5],
        completed_at="2026-11-21T09:00:00Z",
    )
    html = client.get("/v1/reports/session-brief", headers=ana.headers).text
    assert "EPDS over time" in html
    assert "WSAS over time" in html
    assert "PHQ-9 over time" not in html  # never taken
    # The safety box counts the EPDS answer and names its item; the table shows the answer.
    text = re.sub(r"<[^>]+>", "", html)
    assert "1 EPDS answer with item 10 (thoughts of harming oneself) above 0" in " ".join(
        text.split()
    )
    assert "EPDS item 10: item 10 answered 2 of 3" in " ".join(text.split())
    assert re.search(r"WSAS totals \(0.40\)", text)


def test_the_registry_covers_every_instrument_and_its_bands_every_total() -> None:
    assert set(REGISTRY) == set(Instrument)
    for spec in REGISTRY.values():
        edges = [(band.lowest, band.highest) for band in spec.bands]
        assert edges[0][0] == 0, spec.code
        assert edges[-1][1] == spec.items * spec.item_max, spec.code
        assert all(low == previous + 1 for (_, previous), (low, _) in itertools.pairwise(edges))
    measure_reasons = set(SafetyReason) - {SafetyReason.low_mood}
    assert {spec.safety_item.reason for spec in REGISTRY.values() if spec.safety_item} == (
        measure_reasons
    )
