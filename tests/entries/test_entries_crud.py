import pytest
from fastapi.testclient import TestClient

from tests.factories import (
    assert_problem,
    create_entry,
    create_focus_area,
    create_person,
    register,
)


def test_entry_round_trip_keeps_every_field(client: TestClient) -> None:
    ana = register(client)
    mum = create_person(client, ana, name="Mum", relationship="parent", closeness=1)
    focus = create_focus_area(client, ana, problem_area="role_dispute", dispute_stage="impasse")
    created = create_entry(
        client,
        ana,
        occurred_at="2026-11-20T18:30:00+01:00",
        mood=3,
        event="Argued about Christmas",
        event_type="conflict",
        focus_area_id=focus["id"],
        people=[{"person_id": mum["id"], "quality": -2}],
        emotions=[
            {"label": " Hurt ", "intensity": 7, "person_id": mum["id"]},
            {"label": "Weird Feeling", "intensity": 3},
        ],
        communication={"what_i_said": "I can't come", "what_i_could_try": "Ask calmly"},
        tags=["family"],
        private=True,
    )
    fetched = client.get(f"/v1/entries/{created['id']}", headers=ana.headers)
    assert fetched.status_code == 200
    assert fetched.headers["etag"] == '"1"'
    body = fetched.json()
    assert body == created
    assert body["occurred_at"] == "2026-11-20T18:30:00+01:00"  # on the clock it was written by
    assert body["people"] == [{"person_id": mum["id"], "quality": -2}]
    assert body["emotions"] == [
        {"label": "hurt", "intensity": 7, "person_id": mum["id"], "custom": False},
        {"label": "weird feeling", "intensity": 3, "person_id": None, "custom": True},
    ]
    assert body["communication"]["what_i_said"] == "I can't come"
    assert body["communication"]["what_they_said"] is None
    assert body["private"] is True
    assert body["version"] == 1


def test_naive_occurred_at_is_refused(client: TestClient) -> None:
    ana = register(client)
    response = client.post(
        "/v1/entries",
        json={"occurred_at": "2026-11-20T18:30:00", "mood": 5, "event": "x"},
        headers=ana.headers,
    )
    assert_problem(response, 422, "body.occurred_at")


@pytest.mark.parametrize(
    ("written", "answered"),
    [
        ("2026-11-20T18:30:00Z", "2026-11-20T18:30:00Z"),
        ("2026-11-20T18:30:00+00:00", "2026-11-20T18:30:00Z"),  # no offset is written Z
        ("2026-11-20T18:30:00.25-03:30", "2026-11-20T18:30:00.250000-03:30"),
        ("2026-11-21T00:15:00+13:45", "2026-11-21T00:15:00+13:45"),
    ],
)
def test_an_entry_answers_on_the_clock_it_was_written_by(
    client: TestClient, written: str, answered: str
) -> None:
    ana = register(client, timezone="Europe/London")
    created = create_entry(client, ana, occurred_at=written)
    assert created["occurred_at"] == answered
    read = client.get(f"/v1/entries/{created['id']}", headers=ana.headers).json()
    assert read["occurred_at"] == answered
    [listed] = client.get("/v1/entries", headers=ana.headers).json()["items"]
    assert listed["occurred_at"] == answered


def test_an_offset_with_seconds_is_refused(client: TestClient) -> None:
    ana = register(client)
    response = client.post(
        "/v1/entries",
        json={"occurred_at": "2026-11-20T18:30:00+05:30:15", "mood": 5, "event": "x"},
        headers=ana.headers,
    )
    assert_problem(response, 422, "body.occurred_at")
    assert client.get("/v1/entries", headers=ana.headers).json()["items"] == []
