"""PHQ-9 and GAD-7: scored by the service at every severity boundary, validated, rescored on
change, and the safety notice that a PHQ-9 item 9 above 0 (or a very low mood) triggers."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import (
    Account,
    assert_problem,
    create_entry,
    create_measure,
    entry_body,
    measure_body,
    register,
)

ITEMS = {"phq9": 9, "gad7": 7}


def answers_for(instrument: str, total: int, item9: int = 0) -> list[int]:
    """Answers adding up to `total`; for PHQ-9 item 9 is `item9` (when the rest can make up
    the difference), filling the other items with 3s from the first."""
    count = ITEMS[instrument]
    answers = [0] * count
    rest = total
    if instrument == "phq9":
        answers[8] = item9 if total - item9 <= 24 else total - 24
        rest -= answers[8]
    for index in range(count if instrument == "gad7" else 8):
        answers[index] = min(3, rest)
        rest -= answers[index]
    assert rest == 0
    assert sum(answers) == total
    return answers


def post_measure(client: TestClient, account: Account, **overrides: Any) -> Any:
    return client.post("/v1/measures", json=measure_body(**overrides), headers=account.headers)


@pytest.fixture
def ana(client: TestClient) -> Account:
    return register(client)


@pytest.fixture(scope="module")
def shared(app: FastAPI) -> Iterator[Account]:
    """For tests that only look at the measure or entry they create (never a whole list)."""
    with TestClient(app) as client:
        yield register(client, name="Shared")


PHQ9_TABLE = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "moderately_severe"),
    (19, "moderately_severe"),
    (20, "severe"),
    (27, "severe"),
]
GAD7_TABLE = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "severe"),
    (21, "severe"),
]


@pytest.mark.parametrize(
    ("instrument", "total", "severity"),
    [("phq9", t, s) for t, s in PHQ9_TABLE] + [("gad7", t, s) for t, s in GAD7_TABLE],
)
def test_total_and_severity_at_every_boundary(
    client: TestClient, shared: Account, instrument: str, total: int, severity: str
) -> None:
    answers = answers_for(instrument, total)
    response = post_measure(client, shared, instrument=instrument, answers=answers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["total"], body["severity"]) == (total, severity)
    assert body["answers"] == answers
    assert response.headers["etag"] == '"1"'
    fetched = client.get(f"/v1/measures/{body['id']}", headers=shared.headers).json()
    assert (fetched["total"], fetched["severity"]) == (total, severity)


def test_a_measure_round_trips(client: TestClient, ana: Account) -> None:
    created = create_measure(
        client,
        ana,
        instrument="gad7",
        answers=[1, 2, 0, 1, 3, 0, 1],
        completed_at="2026-11-20T09:00:00+01:00",
    )
    assert created["instrument"] == "gad7"
    assert created["completed_at"] == "2026-11-20T08:00:00Z"
    assert created["version"] == 1
    assert "owner_id" not in created
    fetched = client.get(f"/v1/measures/{created['id']}", headers=ana.headers)
    assert fetched.status_code == 200
    assert fetched.json() == created
    listed = client.get("/v1/measures", headers=ana.headers).json()
    assert [m["id"] for m in listed["items"]] == [created["id"]]


@pytest.mark.parametrize(
    ("instrument", "answers"),
    [
        ("phq9", [1] * 7),
        ("phq9", [1] * 8),
        ("phq9", [1] * 10),
        ("phq9", []),
        ("gad7", [1] * 6),
        ("gad7", [1] * 8),
        ("gad7", [1] * 9),
    ],
    ids=["phq9-7", "phq9-8", "phq9-10", "phq9-0", "gad7-6", "gad7-8", "gad7-9"],
)
def test_a_wrong_number_of_answers_is_422(
    client: TestClient, ana: Account, instrument: str, answers: list[int]
) -> None:
    response = post_measure(client, ana, instrument=instrument, answers=answers)
    assert_problem(response, 422, "body.answers")
    assert client.get("/v1/measures", headers=ana.headers).json()["items"] == []


def names_answers(response: Any) -> None:
    body = assert_problem(response, 422)
    fields = [error["field"] for error in body.get("errors", [])]
    assert any(f == "body.answers" or f.startswith("body.answers.") for f in fields), fields


@pytest.mark.parametrize("bad", [4, -1, 10, "x", 1.5, None])
@pytest.mark.parametrize("instrument", ["phq9", "gad7"])
def test_an_answer_outside_0_to_3_is_422(
    client: TestClient, ana: Account, instrument: str, bad: Any
) -> None:
    answers: list[Any] = [1] * ITEMS[instrument]
    answers[2] = bad
    names_answers(post_measure(client, ana, instrument=instrument, answers=answers))
    assert client.get("/v1/measures", headers=ana.headers).json()["items"] == []


@pytest.mark.parametrize(
    "extra",
    [{"total": 0}, {"severity": "minimal"}, {"total": 0, "severity": "minimal"}],
    ids=["total", "severity", "both"],
)
def test_total_and_severity_from_the_client_are_rejected(
    client: TestClient, ana: Account, extra: dict[str, Any]
) -> None:
    answers = answers_for("phq9", 22)
    response = post_measure(client, ana, answers=answers, **extra)
    body = assert_problem(response, 422)
    fields = [error["field"] for error in body["errors"]]
    assert all(f"body.{name}" in fields for name in extra), fields
    assert client.get("/v1/measures", headers=ana.headers).json()["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"instrument": "bdi"}, "body.instrument"),
        ({"completed_at": "2026-11-20T09:00:00"}, "body.completed_at"),
        ({"owner_id": "00000000-0000-0000-0000-000000000000"}, "body.owner_id"),
    ],
    ids=["instrument", "naive-time", "owner_id"],
)
def test_other_invalid_measures_are_422(
    client: TestClient, shared: Account, body: dict[str, Any], field: str
) -> None:
    assert_problem(post_measure(client, shared, **body), 422, field)


# --- changes ------------------------------------------------------------------------------


def patch(
    client: TestClient, account: Account, measure: dict[str, Any], etag: str, **body: Any
) -> Any:
    return client.patch(
        f"/v1/measures/{measure['id']}", json=body, headers={**account.headers, "If-Match": etag}
    )


def test_patching_answers_rescores(client: TestClient, shared: Account) -> None:
    measure = create_measure(client, shared, answers=answers_for("phq9", 3))
    assert (measure["total"], measure["severity"]) == (3, "minimal")
    response = patch(client, shared, measure, '"1"', answers=answers_for("phq9", 16))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["total"], body["severity"], body["version"]) == (16, "moderately_severe", 2)
    assert response.headers["etag"] == '"2"'
    fetched = client.get(f"/v1/measures/{measure['id']}", headers=shared.headers).json()
    assert (fetched["total"], fetched["severity"]) == (16, "moderately_severe")


def test_patching_the_instrument_rescores_with_its_bands(
    client: TestClient, shared: Account
) -> None:
    measure = create_measure(client, shared, answers=answers_for("phq9", 15))
    assert measure["severity"] == "moderately_severe"
    # 9 answers do not fit a GAD-7: refused, the measure unchanged.
    mismatch = patch(client, shared, measure, "*", instrument="gad7")
    assert_problem(mismatch, 422, "body.answers")
    response = patch(
        client, shared, measure, "*", instrument="gad7", answers=answers_for("gad7", 15)
    )
    assert response.status_code == 200, response.text
    assert (response.json()["total"], response.json()["severity"]) == (15, "severe")
    assert response.json()["instrument"] == "gad7"


def test_patching_only_the_time_keeps_the_score(client: TestClient, shared: Account) -> None:
    measure = create_measure(client, shared, instrument="gad7", answers=answers_for("gad7", 10))
    response = patch(client, shared, measure, '"1"', completed_at="2026-11-21T09:00:00Z")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["total"], body["severity"]) == (10, "moderate")
    assert body["completed_at"] == "2026-11-21T09:00:00Z"


@pytest.mark.parametrize(
    "body",
    [{"total": 27}, {"severity": "severe"}, {"answers": [4] * 9}, {"answers": [1] * 8}],
    ids=["total", "severity", "answer-4", "8-answers"],
)
def test_a_bad_patch_is_422_and_changes_nothing(
    client: TestClient, shared: Account, body: dict[str, Any]
) -> None:
    measure = create_measure(client, shared, answers=answers_for("phq9", 2))
    names = assert_problem(patch(client, shared, measure, '"1"', **body), 422)
    fields = [error["field"] for error in names["errors"]]
    assert any(f.startswith(f"body.{next(iter(body))}") for f in fields), fields
    fetched = client.get(f"/v1/measures/{measure['id']}", headers=shared.headers).json()
    assert (fetched["total"], fetched["severity"], fetched["version"]) == (2, "minimal", 1)


def test_patch_and_delete_need_if_match(client: TestClient, shared: Account) -> None:
    measure = create_measure(client, shared)
    url = f"/v1/measures/{measure['id']}"
    assert_problem(client.patch(url, json={"answers": [1] * 9}, headers=shared.headers), 428)
    assert_problem(patch(client, shared, measure, '"7"', answers=[1] * 9), 412)
    assert_problem(client.delete(url, headers=shared.headers), 428)
    assert_problem(client.delete(url, headers={**shared.headers, "If-Match": '"2"'}), 412)
    assert client.get(url, headers=shared.headers).json()["total"] == 0
    deleted = client.delete(url, headers={**shared.headers, "If-Match": '"1"'})
    assert deleted.status_code == 204
    assert_problem(client.get(url, headers=shared.headers), 404)


def test_another_clients_measure_is_404(client: TestClient, shared: Account) -> None:
    bo = register(client)
    theirs = create_measure(client, bo)
    url = f"/v1/measures/{theirs['id']}"
    assert_problem(client.get(url, headers=shared.headers), 404)
    assert_problem(patch(client, shared, theirs, "*", answers=[3] * 9), 404)
    assert_problem(client.delete(url, headers={**shared.headers, "If-Match": "*"}), 404)
    assert client.get(url, headers=bo.headers).json()["total"] == 0


# --- safety -------------------------------------------------------------------------------


def assert_safety(body: dict[str, Any], reason: str) -> None:
    safety = body["safety"]
    assert safety is not None, body
    assert safety["reason"] == reason
    assert safety["message"].strip()
    assert safety["helpline_url"].startswith("http")


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item_9_above_0_returns_safety(
    client: TestClient, shared: Account, item9: int
) -> None:
    answers = [0] * 8 + [item9]  # a minimal total: item 9 alone triggers it
    response = post_measure(client, shared, answers=answers)
    assert response.status_code == 201, response.text
    assert response.json()["severity"] == "minimal"
    assert_safety(response.json(), "phq9_item9")


def test_phq9_item_9_at_0_returns_no_safety_even_when_severe(
    client: TestClient, shared: Account
) -> None:
    response = post_measure(client, shared, answers=[3] * 8 + [0])
    assert response.status_code == 201, response.text
    assert (response.json()["total"], response.json()["severity"]) == (24, "severe")
    assert response.json()["safety"] is None


def test_gad7_never_returns_safety(client: TestClient, shared: Account) -> None:
    for answers in ([3] * 7, [0] * 6 + [3]):
        response = post_measure(client, shared, instrument="gad7", answers=answers)
        assert response.status_code == 201, response.text
        assert response.json()["safety"] is None


def test_safety_is_only_on_the_write_that_triggered_it(client: TestClient, ana: Account) -> None:
    measure = create_measure(client, ana, answers=[0] * 8 + [2])
    assert_safety(measure, "phq9_item9")
    fetched = client.get(f"/v1/measures/{measure['id']}", headers=ana.headers).json()
    assert fetched["safety"] is None
    listed = client.get("/v1/measures", headers=ana.headers).json()["items"]
    assert [m["safety"] for m in listed] == [None]


def test_patching_item_9_above_0_returns_safety(client: TestClient, shared: Account) -> None:
    measure = create_measure(client, shared, answers=[1] * 8 + [0])
    assert measure["safety"] is None
    response = patch(client, shared, measure, '"1"', answers=[1] * 8 + [1])
    assert response.status_code == 200, response.text
    assert_safety(response.json(), "phq9_item9")
    cleared = patch(client, shared, measure, '"2"', answers=[1] * 8 + [0])
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["safety"] is None


@pytest.mark.parametrize(("mood", "flagged"), [(0, True), (1, True), (2, False), (10, False)])
def test_entry_mood_at_most_1_returns_safety(
    client: TestClient, shared: Account, mood: int, flagged: bool
) -> None:
    response = client.post("/v1/entries", json=entry_body(mood=mood), headers=shared.headers)
    assert response.status_code == 201, response.text
    if flagged:
        assert_safety(response.json(), "low_mood")
    else:
        assert response.json()["safety"] is None


@pytest.mark.parametrize(("mood", "flagged"), [(0, True), (1, True), (2, False)])
def test_patching_an_entry_to_mood_at_most_1_returns_safety(
    client: TestClient, shared: Account, mood: int, flagged: bool
) -> None:
    entry = create_entry(client, shared, mood=6)
    assert entry["safety"] is None
    response = client.patch(
        f"/v1/entries/{entry['id']}",
        json={"mood": mood},
        headers={**shared.headers, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    if flagged:
        assert_safety(response.json(), "low_mood")
    else:
        assert response.json()["safety"] is None


def test_a_low_entry_shows_safety_only_when_written(client: TestClient, shared: Account) -> None:
    entry = create_entry(client, shared, mood=0)
    assert_safety(entry, "low_mood")
    fetched = client.get(f"/v1/entries/{entry['id']}", headers=shared.headers).json()
    assert fetched["safety"] is None
