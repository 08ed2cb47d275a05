"""Every safety notice the API gives is kept: with the write that raised it, once per source,
deleted with its source, synced, and shown to a therapist unless a private entry raised it."""

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import (
    Account,
    assert_problem,
    create_entry,
    create_measure,
    entry_body,
    register,
    share_with,
)

PHQ9_ITEM9 = [0] * 8 + [1]


def events(client: TestClient, account: Account, path: str = "/v1/safety-events") -> list[Any]:
    response = client.get(path, headers=account.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def therapist_of(client: TestClient, ana: Account, scope: str) -> tuple[Account, str]:
    therapist = register(client, role="therapist", name="Dr Lee")
    share_with(client, ana, therapist, scope)
    return therapist, f"/v1/therapist/clients/{ana.id}/safety-events"


def test_a_low_mood_entry_and_a_phq9_item9_are_kept(client: TestClient) -> None:
    ana = register(client)
    calm = create_entry(client, ana, mood=2)
    low = create_entry(client, ana, mood=1)
    phq9 = create_measure(client, ana, answers=PHQ9_ITEM9)
    create_measure(client, ana, instrument="gad7", answers=[3] * 7)  # no safety item

    assert calm["safety"] is None
    assert low["safety"]["reason"] == "low_mood"
    assert phq9["safety"]["reason"] == "phq9_item9"
    found = events(client, ana)
    assert [(e["reason"], e["source_type"], e["source_id"]) for e in found] == [
        ("phq9_item9", "measure", phq9["id"]),
        ("low_mood", "entry", low["id"]),
    ]
    for event in found:
        assert set(event) == {"id", "at", "reason", "source_type", "source_id"}
        read = client.get(f"/v1/safety-events/{event['id']}", headers=ana.headers)
        assert read.json() == event


def test_an_event_is_kept_once_per_source_and_goes_with_it(client: TestClient) -> None:
    ana = register(client)
    low = create_entry(client, ana, mood=0)
    for mood, version in ((1, 1), (0, 2)):  # still low, notice again: kept once
        changed = client.patch(
            f"/v1/entries/{low['id']}",
            json={"mood": mood},
            headers={**ana.headers, "If-Match": f'"{version}"'},
        )
        assert changed.json()["safety"]["reason"] == "low_mood"
    [event] = events(client, ana)

    deleted = client.delete(f"/v1/entries/{low['id']}", headers={**ana.headers, "If-Match": "*"})
    assert deleted.status_code == 204
    assert events(client, ana) == []
    assert_problem(client.get(f"/v1/safety-events/{event['id']}", headers=ana.headers), 404)
    synced = client.get("/v1/sync", headers=ana.headers).json()
    assert synced["safety_events"] == []
    assert {"type": "safety_event", "id": event["id"]} in [
        {"type": t["type"], "id": t["id"]} for t in synced["deleted"]
    ]


def test_an_entry_raised_later_by_an_edit_is_kept_then(client: TestClient) -> None:
    ana = register(client)
    entry = create_entry(client, ana, mood=6)
    assert events(client, ana) == []
    changed = client.patch(
        f"/v1/entries/{entry['id']}", json={"mood": 1}, headers={**ana.headers, "If-Match": '"1"'}
    )
    assert changed.json()["safety"]["reason"] == "low_mood"
    assert [e["source_id"] for e in events(client, ana)] == [entry["id"]]


def test_a_failed_write_keeps_no_event(client: TestClient) -> None:
    ana = register(client)
    low = create_entry(client, ana, mood=1)
    again = client.post("/v1/entries", json=entry_body(id=low["id"], mood=0), headers=ana.headers)
    assert_problem(again, 409)
    refused = client.post(
        "/v1/entries", json=entry_body(mood=0, focus_area_id=low["id"]), headers=ana.headers
    )
    assert_problem(refused, 422, "body.focus_area_id")
    assert [e["source_id"] for e in events(client, ana)] == [low["id"]]


def test_an_offline_entry_retried_is_kept_once_and_synced(client: TestClient) -> None:
    ana = register(client)
    body = entry_body(mood=1, id="0d6f4a2e-8b1c-4e7a-9a3b-5c2d1e0f9a8b")
    headers = {**ana.headers, "Idempotency-Key": "offline-1"}
    first = client.post("/v1/entries", json=body, headers=headers)
    retried = client.post("/v1/entries", json=body, headers=headers)
    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json()["safety"] == first.json()["safety"]
    [event] = events(client, ana)
    synced = client.get("/v1/sync", headers=ana.headers).json()
    assert synced["safety_events"] == [event]


def test_a_therapist_never_learns_of_a_private_low_mood_entry(client: TestClient) -> None:
    ana = register(client)
    private = create_entry(client, ana, mood=0, private=True)
    shared = create_entry(client, ana, mood=1)
    phq9 = create_measure(client, ana, answers=PHQ9_ITEM9)
    assert len(events(client, ana)) == 3  # the client sees every one

    for scope in ("summaries", "full"):
        therapist, path = therapist_of(client, ana, scope)
        seen = {(e["source_type"], e["source_id"]) for e in events(client, therapist, path)}
        assert seen == {("entry", shared["id"]), ("measure", phq9["id"])}
        # Nor in anything else: counts and summaries leave the private entry out too.
        by_person = client.get(
            f"/v1/therapist/clients/{ana.id}/summaries/mood-by-person",
            headers=therapist.headers,
        ).json()
        assert by_person["baseline"] == {"entries": 1, "mean_mood": 1.0}

    # Shared later, its event shows with it.
    made_public = client.patch(
        f"/v1/entries/{private['id']}",
        json={"private": False},
        headers={**ana.headers, "If-Match": '"1"'},
    )
    assert made_public.status_code == 200
    seen = {e["source_id"] for e in events(client, therapist, path)}
    assert private["id"] in seen


def test_another_clients_events_stay_theirs(client: TestClient) -> None:
    ana, ben = register(client), register(client)
    create_entry(client, ana, mood=0)
    [event] = events(client, ana)
    assert events(client, ben) == []
    assert_problem(client.get(f"/v1/safety-events/{event['id']}", headers=ben.headers), 404)
    therapist = register(client, role="therapist")
    share_with(client, ben, therapist, "full")
    gone = client.get(f"/v1/therapist/clients/{ana.id}/safety-events", headers=therapist.headers)
    assert_problem(gone, 404)
