"""Idempotency-Key on POST: a retried write is done once and answered like the first time."""

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.factories import (
    Account,
    assert_problem,
    create_focus_area,
    entry_body,
    focus_area_body,
    list_all,
    measure_body,
    person_body,
    register,
    session_body,
)
from tests.reminders.support import reminder_body

KEY = "Idempotency-Key"
REPLAYED = "idempotent-replayed"


def post(
    client: TestClient, account: Account, path: str, body: dict[str, Any], key: str
) -> httpx.Response:
    return client.post(path, json=body, headers={**account.headers, KEY: key})


def new_key() -> str:
    return f"key-{uuid.uuid4()}"


def assert_replay_of(response: httpx.Response, first: httpx.Response) -> None:
    """The same answer as the first one, marked as a replay."""
    assert response.status_code == first.status_code, response.text
    assert response.content == first.content
    assert response.headers["content-type"] == first.headers["content-type"]
    assert response.headers.get("etag") == first.headers.get("etag")
    assert response.headers.get(REPLAYED) == "true"


def test_retry_storm_creates_one_entry_and_replays_the_first_answer(client: TestClient) -> None:
    ana = register(client)
    key = new_key()
    body = entry_body(event="Retried from a flaky train connection", mood=6)

    # 30 copies at once from 8 connections, then 20 more one after another.
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(
            pool.map(lambda _: post(client, ana, "/v1/entries", body, key), range(30))
        )
    sequential = [post(client, ana, "/v1/entries", body, key) for _ in range(20)]
    responses = concurrent + sequential

    assert {r.status_code for r in responses} <= {201, 409}, [r.text for r in responses]
    originals = [r for r in responses if r.status_code == 201 and REPLAYED not in r.headers]
    assert len(originals) == 1, "exactly one attempt may run the write"
    first = originals[0]
    assert first.headers["etag"] == '"1"'
    for response in responses:
        if response is first:
            continue
        if response.status_code == 409:
            # A duplicate that arrived while the first was still running: try again later.
            assert_problem(response, 409)
            assert int(response.headers["retry-after"]) >= 1
        else:
            assert_replay_of(response, first)
    assert all(r.status_code == 201 for r in sequential), "the first attempt had finished"

    # Whoever was told to come back later now gets the first answer too.
    for _ in range(sum(r.status_code == 409 for r in responses)):
        assert_replay_of(post(client, ana, "/v1/entries", body, key), first)

    entries = list_all(client, ana, "/v1/entries")
    assert [e["id"] for e in entries] == [first.json()["id"]]
    assert entries[0]["event"] == body["event"]


def test_replay_answers_the_first_response_even_after_the_row_changed(client: TestClient) -> None:
    ana = register(client)
    key = new_key()
    body = entry_body(mood=4)
    first = post(client, ana, "/v1/entries", body, key)
    assert first.status_code == 201, first.text
    entry_id = first.json()["id"]
    changed = client.patch(
        f"/v1/entries/{entry_id}", json={"mood": 9}, headers={**ana.headers, "If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text

    assert_replay_of(post(client, ana, "/v1/entries", body, key), first)
    entries = list_all(client, ana, "/v1/entries")
    assert [(e["id"], e["mood"], e["version"]) for e in entries] == [(entry_id, 9, 2)]


def test_same_key_with_another_body_is_refused(client: TestClient) -> None:
    ana = register(client)
    key = new_key()
    first = post(client, ana, "/v1/entries", entry_body(mood=5), key)
    assert first.status_code == 201, first.text

    other_body = post(client, ana, "/v1/entries", entry_body(mood=6), key)
    assert_problem(other_body, 422, "header.Idempotency-Key")
    assert REPLAYED not in other_body.headers
    other_path = post(client, ana, "/v1/people", person_body(), key)
    assert_problem(other_path, 422, "header.Idempotency-Key")

    # The refusals changed nothing: the key still answers its first request.
    assert_replay_of(post(client, ana, "/v1/entries", entry_body(mood=5), key), first)
    assert [e["id"] for e in list_all(client, ana, "/v1/entries")] == [first.json()["id"]]
    assert list_all(client, ana, "/v1/people") == []


@pytest.mark.parametrize("key", ["k" * 256, ""])
def test_a_malformed_key_is_refused_and_nothing_is_written(client: TestClient, key: str) -> None:
    ana = register(client)
    response = post(client, ana, "/v1/entries", entry_body(), key)
    assert_problem(response, 422, "header.Idempotency-Key")
    assert list_all(client, ana, "/v1/entries") == []


def test_a_key_is_scoped_to_its_caller(client: TestClient) -> None:
    ana = register(client)
    ben = register(client, name="Ben")
    key = new_key()
    body = entry_body(event="Same words, two diaries")

    for_ana = post(client, ana, "/v1/entries", body, key)
    for_ben = post(client, ben, "/v1/entries", body, key)
    assert for_ana.status_code == 201, for_ana.text
    assert for_ben.status_code == 201, for_ben.text
    assert REPLAYED not in for_ben.headers
    assert for_ben.json()["id"] != for_ana.json()["id"]

    assert_replay_of(post(client, ana, "/v1/entries", body, key), for_ana)
    assert_replay_of(post(client, ben, "/v1/entries", body, key), for_ben)
    assert [e["id"] for e in list_all(client, ana, "/v1/entries")] == [for_ana.json()["id"]]
    assert [e["id"] for e in list_all(client, ben, "/v1/entries")] == [for_ben.json()["id"]]


def test_a_failed_request_is_not_stored_under_its_key(client: TestClient) -> None:
    ana = register(client)
    key = new_key()
    invalid = entry_body(mood=11)
    for _ in range(3):
        response = post(client, ana, "/v1/entries", invalid, key)
        assert_problem(response, 422, "body.mood")
        assert REPLAYED not in response.headers

    # Unauthenticated: refused, and the key is not taken by anybody.
    anonymous = client.post("/v1/entries", json=entry_body(), headers={KEY: key})
    assert_problem(anonymous, 401)
    assert list_all(client, ana, "/v1/entries") == []


def test_a_request_that_failed_for_a_passing_reason_runs_when_retried(client: TestClient) -> None:
    """An offline device sends an entry before the focus area it names has reached the server."""
    ana = register(client)
    focus_area_id = str(uuid.uuid4())
    key = new_key()
    body = entry_body(focus_area_id=focus_area_id)

    too_early = post(client, ana, "/v1/entries", body, key)
    assert_problem(too_early, 422, "body.focus_area_id")

    create_focus_area(client, ana, id=focus_area_id)
    retried = post(client, ana, "/v1/entries", body, key)
    assert retried.status_code == 201, retried.text
    assert REPLAYED not in retried.headers
    assert retried.json()["focus_area_id"] == focus_area_id
    assert_replay_of(post(client, ana, "/v1/entries", body, key), retried)
    assert [e["id"] for e in list_all(client, ana, "/v1/entries")] == [retried.json()["id"]]


def test_a_conflict_is_not_stored_so_a_retry_after_resolving_it_succeeds(
    client: TestClient,
) -> None:
    ana = register(client)
    first = create_focus_area(client, ana, title="New job")
    create_focus_area(client, ana, problem_area="grief", title="Losing Dad")
    key = new_key()
    third = focus_area_body(problem_area="interpersonal_deficits", title="Few friends")

    refused = post(client, ana, "/v1/focus-areas", third, key)
    assert_problem(refused, 409)
    resolved = client.patch(
        f"/v1/focus-areas/{first['id']}",
        json={"status": "resolved"},
        headers={**ana.headers, "If-Match": '"1"'},
    )
    assert resolved.status_code == 200, resolved.text

    retried = post(client, ana, "/v1/focus-areas", third, key)
    assert retried.status_code == 201, retried.text
    assert REPLAYED not in retried.headers
    assert_replay_of(post(client, ana, "/v1/focus-areas", third, key), retried)
    titles = sorted(f["title"] for f in list_all(client, ana, "/v1/focus-areas"))
    assert titles == ["Few friends", "Losing Dad", "New job"]


BodyFactory = Callable[[], dict[str, Any]]


@pytest.mark.parametrize(
    ("path", "make_body", "status_of_a_copy"),
    [
        ("/v1/entries", entry_body, 201),
        ("/v1/people", person_body, 201),
        ("/v1/focus-areas", focus_area_body, 201),
        ("/v1/sessions", session_body, 409),  # a session number is taken once
        ("/v1/measures", measure_body, 201),
        ("/v1/reminders", reminder_body, 201),
    ],
)
def test_every_diary_post_honours_the_key(
    client: TestClient, path: str, make_body: BodyFactory, status_of_a_copy: int
) -> None:
    ana = register(client)
    key = new_key()
    body = make_body()
    first = post(client, ana, path, body, key)
    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers

    for _ in range(3):
        assert_replay_of(post(client, ana, path, body, key), first)
    assert [row["id"] for row in list_all(client, ana, path)] == [first.json()["id"]]

    # A new key is a new request: the same body really runs again.
    copy = post(client, ana, path, body, new_key())
    assert copy.status_code == status_of_a_copy, copy.text
    assert REPLAYED not in copy.headers
    assert len(list_all(client, ana, path)) == (2 if status_of_a_copy == 201 else 1)


def test_concurrent_requests_with_different_keys_all_run(client: TestClient) -> None:
    ana = register(client)
    keys = [new_key() for _ in range(12)]

    def send(key: str) -> httpx.Response:
        return post(client, ana, "/v1/entries", entry_body(event=f"entry {key}"), key)

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(send, keys))
    assert [r.status_code for r in responses] == [201] * len(keys), [r.text for r in responses]
    assert not any(REPLAYED in r.headers for r in responses)
    events = sorted(e["event"] for e in list_all(client, ana, "/v1/entries"))
    assert events == sorted(f"entry {key}" for key in keys)
